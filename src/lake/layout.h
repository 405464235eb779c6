// Where things live in the lake (an external interface, see DESIGN.md):
//   <lake>/<table>/cluster=<cluster>/dt=<YYYY-MM-DD>/<file>.parquet
//   <lake>/_fleetlog/{staging,tmp,quarantine,intents}/   fleetlog's own bookkeeping
// Paths kept in the state store are relative to the lake root, so a lake can be moved.
// A layout carries the Env through which every file of the lake is reached (a local folder
// or, later, an object store; a fault-injecting Env in tests).
// Thread-safety: immutable value; the Env is safe for concurrent use.
#pragma once

#include <memory>
#include <string>

#include "core/env.h"
#include "core/status.h"
#include "core/time.h"

namespace fleetlog {

class LakeLayout {
 public:
  // `env` must outlive the layout and its copies; the process's local Env by default.
  explicit LakeLayout(std::string root, Env* env = Env::Default()) : root_(std::move(root)), env_(env) {}

  const std::string& root() const { return root_; }
  Env& env() const { return *env_; }
  std::string Abs(const std::string& relative) const { return root_ + "/" + relative; }

  static std::string PartitionDir(const std::string& table, const std::string& cluster, const std::string& dt) {
    return table + "/cluster=" + cluster + "/dt=" + dt;
  }
  // A new, never-used file name in the partition: <UTC time `now`>-<random>.parquet.
  static std::string NewFilePath(const std::string& table, const std::string& cluster, const std::string& dt,
                                 Timestamp now);
  static std::string StagingPathFor(const std::string& final_path);
  static std::string StagingDir() { return "_fleetlog/staging"; }
  static std::string TmpDir() { return "_fleetlog/tmp"; }
  static std::string QuarantineDir() { return "_fleetlog/quarantine"; }
  // Where fleetlog's own readers find a published file once it may leave its table folder: a
  // local lake keeps a hard link of every published file under ReaderDir, so a file retired
  // from its table folder at the commit that retires it stays readable, until the sweep, to
  // readers that began before; a lake in an object store moves retired files under RetiredDir.
  static std::string ReaderDir() { return "_fleetlog/files"; }
  static std::string RetiredDir() { return "_fleetlog/retired"; }
  // The intents of unfinished upkeep replacements: which files each may place (lake/replace.h).
  static std::string IntentsDir() { return "_fleetlog/intents"; }

  // Creates the lake's own folders.
  Status Prepare() const;

 private:
  std::string root_;
  Env* env_;
};

// An exclusive, advisory lock that makes one process at a time the lake's writer. It is
// released when the process exits, however it exits.
class WriterLock {
 public:
  static Result<WriterLock> Acquire(const LakeLayout& lake);

 private:
  explicit WriterLock(std::unique_ptr<FileLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<FileLock> lock_;
};

}  // namespace fleetlog
