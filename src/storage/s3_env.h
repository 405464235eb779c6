// The object-store Env: the lake in an S3 bucket behind the same calls as a local folder.
//
// Paths are "s3://<bucket>/<key>" (what LakeLayout::Abs() makes of an "s3://bucket/prefix"
// root); the object's key is the part after the bucket. Objects have no folders: CreateDir and
// SyncDir succeed at once, ListFiles lists the prefix "<dir>/".
//
// Writes: WriteFile is one verified put (a multipart upload past part_size); a WritableFile
// buffers, uploads each full part as it fills, and makes the object appear whole at Close()
// (its size checked by HEAD). Publish is a server-side copy, its size checked, then a delete of
// the staged object. There is no rename in S3.
//
// LockFile is a lease object: {"owner", "token", "expires"}. Where the server supports
// conditional writes (If-None-Match: *, AWS S3) the lease is created with one; where it does
// not (Swift 2.30) the Env writes the lease, waits `lease_settle`, reads it back and holds it
// only when the read still carries its own token. A lease past its expiry may be taken over.
// While held, a thread renews it every third of its duration; FileLock::Check (S3Lease::Valid)
// says whether it is still ours.
//
// Thread-safety: safe for concurrent use (the S3Client is); a WritableFile belongs to one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/env.h"
#include "storage/s3_client.h"

namespace fleetlog {

struct S3EnvOptions {
  int64_t part_size = 8 << 20;             // multipart part size; at least 5 MiB
  Duration lease_duration = Duration::Minutes(2);
  Duration lease_settle = Duration::Seconds(2);  // read-after-write wait without conditional writes
  // When set and true for a lease's owner (a writer this machine knows has ended: killed, or
  // its host rebooted), the lease may be taken over before it expires.
  std::function<bool(const std::string& owner)> holder_gone;
};

class S3Env final : public Env {
 public:
  // Takes ownership of `client`. `clock` must outlive the Env.
  S3Env(std::unique_ptr<S3Client> client, const Clock* clock, S3EnvOptions options = {});
  ~S3Env() override;

  S3Client& client() { return *client_; }
  // "s3://<bucket>/<key>" for `key`.
  std::string PathOf(const std::string& key) const;

  Status WriteFile(const std::string& path, std::string_view data, const WriteOptions& options = {}) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t length) override;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        const WriteOptions& options = {}) override;
  Result<bool> FileExists(const std::string& path) override;
  Result<int64_t> FileSize(const std::string& path) override;
  Result<std::vector<FileInfo>> ListFiles(const std::string& dir) override;
  Status DeleteFile(const std::string& path) override;
  Status DeleteTree(const std::string& dir) override;
  Status CreateDir(const std::string& dir) override;
  Status Publish(const std::string& staged, const std::string& final) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, std::string_view owner) override;
  std::string LocalPath(const std::string& path) const override;
  const Clock& clock() const override { return *clock_; }

 private:
  // The key of `path`; kInvalidArgument when it is not in this Env's bucket.
  Result<std::string> Key(const std::string& path) const;

  std::unique_ptr<S3Client> client_;
  const Clock* clock_;
  S3EnvOptions options_;
};

// A held lease (what S3Env::LockFile returns). Releasing deletes the lease object when it is
// still ours.
class S3Lease : public FileLock {
 public:
  // OK while the lease is ours; kUnavailable naming the new holder once another writer took it
  // (it expired while we could not renew it).
  virtual Status Valid() const = 0;
};

// "s3://bucket/prefix/" -> ("bucket", "prefix"); kInvalidArgument for anything else.
Status ParseS3Url(std::string_view url, std::string* bucket, std::string* prefix);

}  // namespace fleetlog
