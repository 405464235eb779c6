// Env: the single door between fleetlog and the outside world's storage and time, after
// LevelDB's Env. Every file the product reads or writes (the lake, staging, results, records,
// keys) and every "now" it asks for goes through an Env, so that
//   - the lake can live in a local folder (PosixEnv, below) or in an object store (an S3 Env
//     in src/storage/) behind the same calls, and
//   - tests can inject faults (fail the n-th write, rename or fsync; lose what was not synced)
//     and fix the clock, with no sleeping and no luck.
//
// Contract for every implementation:
//   - Never throws. Every operation returns Status or Result<T>; an implementation catches
//     what its libraries throw. Errors name the operation and the path, e.g.
//     "rename /lake/_fleetlog/staging/x to /lake/t/.../x: No space left on device".
//   - Status codes: kNotFound (no such file), kPermissionDenied, kResourceExhausted (disk or
//     quota full), kAlreadyExists, kUnavailable (a service that may come back: retry),
//     kTimeout, kIoError (anything else). For POSIX, PosixError() below is the one place that
//     maps errno to these codes.
//   - Paths are '/'-separated strings. A local Env takes them as file-system paths. An object
//     Env maps them to keys as it documents (e.g. "<root>/<rel>" of a LakeLayout to
//     "<prefix>/<rel>" in its bucket). Callers build lake paths only with LakeLayout::Abs().
//   - Folders are a local notion. Objects have no folders: an object Env creates none (CreateDir
//     is a no-op that succeeds), lists by prefix, and treats a "folder" as the prefix "<dir>/".
//     Callers must not rely on an empty folder existing, nor on listing a folder that holds
//     only folders.
//   - There is no rename. Object stores cannot rename; the one operation that makes a file
//     appear at its final name is Publish(), with the guarantees written on it, and callers
//     must tolerate what it says may remain after a crash.
//
// Thread-safety: an Env is safe for concurrent use from any thread; a WritableFile or FileLock
// belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace fleetlog {

// Maps an errno value to a Status: ENOENT -> kNotFound, EACCES/EPERM/EROFS -> kPermissionDenied,
// ENOSPC/EDQUOT -> kResourceExhausted, EEXIST -> kAlreadyExists, ETIMEDOUT -> kTimeout,
// anything else -> kIoError. The message is "<context>: <strerror(err)>".
Status PosixError(std::string_view context, int err);

// A file being written from the start. Created by Env::NewWritableFile.
// Visibility and durability:
//   - Local: the file exists under its path from creation on and grows with each Append();
//     Sync() makes what was appended, and the file's entry in its folder, durable.
//   - Object: nothing exists under the path until Close() succeeds; then the object is there
//     whole (a completed single or multipart put). Sync() may upload a part, or do nothing.
// Either way the bytes are durable once Close() returns OK after a Sync() (local) or once
// Close() returns OK (object). Destroying a file that was not closed abandons it: an object
// upload is aborted; a local file is left as it is (the caller deletes it).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;
  // Flushes and releases the file. Calling anything after Close() is a bug.
  virtual Status Close() = 0;
};

// An exclusive lock held by one process until it is destroyed or the process ends, however
// it ends. See Env::LockFile.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// One entry of Env::ListFiles.
struct FileInfo {
  std::string name;   // relative to the listed folder, '/'-separated: "t/cluster=a/dt=2026-11-21/x.parquet"
  int64_t size = 0;   // bytes
};

struct WriteOptions {
  // Permission bits for a new local file (0600 for keys and secrets); object Envs ignore it.
  int mode = 0644;
  // Make the write durable before returning (fsync of the file and its folder, locally).
  bool sync = true;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide local Env: POSIX files and the system clock. Never destroyed.
  static Env* Default();

  // ---- Whole files -------------------------------------------------------------------------

  // Writes `data` as the whole content of `path`, atomically: a reader sees the old content
  // (or no file) or the new content, never a part. Creates missing folders.
  // Local: a temporary file in the same folder, fsync, rename, fsync of the folder.
  // Object: one put.
  virtual Status WriteFile(const std::string& path, std::string_view data, const WriteOptions& options = {}) = 0;
  // The whole content of `path`. kNotFound when it does not exist.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Up to `length` bytes from `offset`; fewer at the end of the file, none past it.
  // kNotFound when the file does not exist.
  virtual Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t length) = 0;

  // ---- Streams -----------------------------------------------------------------------------

  // Creates `path` (replacing any file there) for writing from the start; creates missing
  // folders. See WritableFile for visibility and durability.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                const WriteOptions& options = {}) = 0;

  // ---- Names -------------------------------------------------------------------------------

  // Whether a file exists at `path` (a local folder counts too). An error only when the
  // answer cannot be known (permissions, network).
  virtual Result<bool> FileExists(const std::string& path) = 0;
  // The size of the file at `path` in bytes. kNotFound when it does not exist.
  virtual Result<int64_t> FileSize(const std::string& path) = 0;
  // Every file under the folder `dir` (every key with the prefix "<dir>/"), at any depth,
  // sorted by name. Folders are not entries. A missing folder lists as empty.
  virtual Result<std::vector<FileInfo>> ListFiles(const std::string& dir) = 0;
  // Deletes the file at `path`. Deleting a file that does not exist succeeds (as in S3).
  virtual Status DeleteFile(const std::string& path) = 0;
  // Deletes every file under `dir` and, locally, the folders too. A missing `dir` succeeds.
  virtual Status DeleteTree(const std::string& dir) = 0;
  // Creates the folder `dir` and its parents (local); succeeds at once for objects.
  virtual Status CreateDir(const std::string& dir) = 0;

  // Makes the complete, already written `staged` file appear at `final`, replacing any file
  // there, so that a reader of `final` sees the old file (or none) or all of the new one.
  // When it returns OK, `final` is durable and `staged` is gone.
  // Local: rename(2), creating `final`'s folders, then fsync of both folders.
  // Object: a server-side copy (a completed put) to `final`, then a delete of `staged`.
  // After a crash or a failure, either of these may hold: only `staged` exists (nothing was
  // published); both exist (published, `staged` not yet deleted: publishing again is
  // harmless). Callers that check "is it published?" look at `final`, not at `staged`.
  // REQUIRES: `staged` was written whole (WriteFile, or a WritableFile closed after Sync()).
  virtual Status Publish(const std::string& staged, const std::string& final) = 0;

  // Makes a file that was written outside the Env durable: one that DuckDB wrote at
  // LocalPath(path). kNotFound when it does not exist. Local: fsync of the file. An Env
  // whose LocalPath() is always empty (objects) has nothing to do: the default.
  virtual Status SyncFile(const std::string& path) {
    (void)path;
    return Status::Ok();
  }

  // Makes the entries of folder `dir` durable (after files were created or deleted in it).
  // Local: fsync of the folder; object: nothing to do.
  virtual Status SyncDir(const std::string& dir) = 0;

  // Takes an exclusive lock named by `path` for this process, writing `owner` (e.g. the pid)
  // into it. kUnavailable, with the current owner in the message, when another process
  // holds it. Local: flock(2) on the file; released when the lock is destroyed or the process
  // exits. An object Env may implement it as a lease object or refuse with kInternal.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, std::string_view owner) = 0;

  // The local file-system path under which DuckDB (which reads and writes only local files)
  // may use `path` directly, or the empty string when `path` is not a local file. An object
  // Env returns "": callers then have DuckDB write a local temporary file and copy it in with
  // NewWritableFile, and read through a local cache.
  virtual std::string LocalPath(const std::string& path) const = 0;

  // ---- Time --------------------------------------------------------------------------------

  // The clock every part of the product asks for "now".
  virtual const Clock& clock() const = 0;
  Timestamp Now() const { return clock().Now(); }
};

// Forwards every call to another Env; a test Env overrides only what it changes (LevelDB's
// EnvWrapper). Does not own `target`.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Status WriteFile(const std::string& path, std::string_view data, const WriteOptions& options = {}) override {
    return target_->WriteFile(path, data, options);
  }
  Result<std::string> ReadFile(const std::string& path) override { return target_->ReadFile(path); }
  Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t length) override {
    return target_->ReadRange(path, offset, length);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        const WriteOptions& options = {}) override {
    return target_->NewWritableFile(path, options);
  }
  Result<bool> FileExists(const std::string& path) override { return target_->FileExists(path); }
  Result<int64_t> FileSize(const std::string& path) override { return target_->FileSize(path); }
  Result<std::vector<FileInfo>> ListFiles(const std::string& dir) override { return target_->ListFiles(dir); }
  Status DeleteFile(const std::string& path) override { return target_->DeleteFile(path); }
  Status DeleteTree(const std::string& dir) override { return target_->DeleteTree(dir); }
  Status CreateDir(const std::string& dir) override { return target_->CreateDir(dir); }
  Status Publish(const std::string& staged, const std::string& final) override {
    return target_->Publish(staged, final);
  }
  Status SyncFile(const std::string& path) override { return target_->SyncFile(path); }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, std::string_view owner) override {
    return target_->LockFile(path, owner);
  }
  std::string LocalPath(const std::string& path) const override { return target_->LocalPath(path); }
  const Clock& clock() const override { return target_->clock(); }

 private:
  Env* target_;
};

// A local Env (POSIX files) with the given clock instead of the system clock; for tests and
// the demo fleet. Does not own `clock`, which must outlive the Env.
std::unique_ptr<Env> NewPosixEnv(const Clock* clock);

// The parent folder of a '/'-separated path ("." for a bare name); "a/b/c" -> "a/b".
std::string ParentDir(std::string_view path);

}  // namespace fleetlog
