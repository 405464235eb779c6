// FaultEnv: a local Env for fault-injection tests. It fails the n-th write, publish (the
// rename) or sync it is asked for, and can then behave as a process that died there (every
// later change fails too) and as a machine that lost power (what was not synced is lost).
//   writes:  WriteFile, NewWritableFile, WritableFile::Append, DeleteFile, DeleteTree, and a
//            file handed to DuckDB to write (LocalPath() returns "" when that fails);
//   publish: Publish;
//   syncs:   SyncFile, SyncDir, WritableFile::Sync, and WriteFile with options.sync.
// Reads, lists and the clock pass through untouched.
// Thread-safety: safe for concurrent use (one mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/env.h"

namespace fleetlog::test {

class FaultEnv final : public EnvWrapper {
 public:
  enum class Op { kWrite, kPublish, kSync };

  explicit FaultEnv(Env* target = Env::Default()) : EnvWrapper(target) {}

  // Fails the n-th operation of kind `op` from now on (1: the next) with kIoError. With
  // `dead_after`, every change after it fails too, as if the process had died there.
  void FailAt(Op op, int n, bool dead_after);
  // Whether the planned fault happened.
  bool fired() const;
  // Operations of each kind seen since construction.
  int count(Op op) const;

  // A power cut: every file written through this Env (or handed to DuckDB) since its last
  // sync loses the bytes written after that sync; a file never synced disappears. Then the
  // Env works again, with no fault planned.
  Status LoseUnsynced();

  Status WriteFile(const std::string& path, std::string_view data, const WriteOptions& options = {}) override;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, const WriteOptions& options = {}) override;
  Status DeleteFile(const std::string& path) override;
  Status DeleteTree(const std::string& dir) override;
  Status Publish(const std::string& staged, const std::string& final) override;
  Status SyncFile(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  std::string LocalPath(const std::string& path) const override;

  // For FaultEnv's own writable files.
  Status Check(Op op, const std::string& what) const;
  void Written(const std::string& path) const;
  void Synced(const std::string& path) const;

 private:
  mutable std::mutex mu_;
  mutable int counts_[3] = {0, 0, 0};
  Op fail_op_ = Op::kWrite;
  int fail_at_ = 0;  // 0: no fault planned
  bool dead_after_ = false;
  mutable bool fired_ = false;
  mutable bool dead_ = false;
  // Files changed since their last sync, with the size they had then (-1: never synced).
  mutable std::map<std::string, int64_t> unsynced_;
};

const char* FaultOpName(FaultEnv::Op op);

}  // namespace fleetlog::test
