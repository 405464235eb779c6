// Where things live in the lake (an external interface, see DESIGN.md):
//   <lake>/<table>/cluster=<cluster>/dt=<YYYY-MM-DD>/<file>.parquet
//   <lake>/_fleetlog/{staging,tmp,quarantine}/   fleetlog's own bookkeeping
// Paths kept in the state store are relative to the lake root, so a lake can be moved.
// Thread-safety: immutable value.
#pragma once

#include <string>

#include "core/status.h"
#include "core/time.h"

namespace fleetlog {

class LakeLayout {
 public:
  explicit LakeLayout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string Abs(const std::string& relative) const { return root_ + "/" + relative; }

  static std::string PartitionDir(const std::string& table, const std::string& cluster, const std::string& dt) {
    return table + "/cluster=" + cluster + "/dt=" + dt;
  }
  // A new, never-used file name in the partition: <UTC time>-<random>.parquet.
  static std::string NewFilePath(const std::string& table, const std::string& cluster, const std::string& dt);
  static std::string StagingPathFor(const std::string& final_path);
  static std::string StagingDir() { return "_fleetlog/staging"; }
  static std::string TmpDir() { return "_fleetlog/tmp"; }
  static std::string QuarantineDir() { return "_fleetlog/quarantine"; }

  // Creates the lake's own folders.
  Status Prepare() const;

 private:
  std::string root_;
};

// An exclusive, advisory lock that makes one process at a time the lake's writer. It is
// released when the process exits, however it exits.
class WriterLock {
 public:
  static Result<WriterLock> Acquire(const LakeLayout& lake);
  WriterLock(WriterLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace fleetlog
