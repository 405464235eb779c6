// The Env of a lake in an S3 bucket as the writer uses it: the bucket (S3Env) for the lake,
// with the two folders DuckDB writes into kept on local disk, since DuckDB writes only local
// files:
//   <lake>/_fleetlog/tmp/...      DuckDB's spill files: local only (<scratch>/tmp)
//   <lake>/_fleetlog/staging/...  a staged file: DuckDB writes it at LocalPath (<scratch>/staging);
//                                 SyncFile uploads it to the same key in the bucket (Content-MD5 on
//                                 every part, the stored size checked), so a file is in the bucket
//                                 whole before the commit that names it. Reads prefer the local
//                                 copy; Publish copies the bucket's staged object to its final
//                                 key and deletes both copies; a delete removes both.
// Every other path is the bucket's. A local staged file that was never uploaded was never
// committed: DropScratch() removes those left by a killed writer.
// Thread-safety: as S3Env and the local Env (safe for concurrent use).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/env.h"
#include "storage/s3_env.h"

namespace fleetlog {

class S3LakeEnv final : public EnvWrapper {
 public:
  // `bucket` is owned; `local` (not owned) holds `scratch_dir`, a folder this Env owns.
  // `lake_root` is the lake's "s3://bucket/prefix" root.
  S3LakeEnv(std::unique_ptr<S3Env> bucket, Env* local, std::string lake_root, std::string scratch_dir);

  S3Env& bucket() { return *bucket_; }
  // Removes the local staged and spill files (call while holding the writer lease).
  Status DropScratch();

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
  Status SyncFile(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  std::string LocalPath(const std::string& path) const override;

 private:
  enum class Place { kBucket, kStaging, kTmp };
  struct Mapped {
    Place place = Place::kBucket;
    std::string local;  // the local path (kStaging, kTmp)
  };
  Mapped Map(const std::string& path) const;
  // Uploads the local staged file to its key; verified by S3WritableFile (MD5s, size).
  Status Upload(const std::string& local, const std::string& path);

  std::unique_ptr<S3Env> bucket_;
  Env* local_;
  std::string root_;
  std::string scratch_;
};

}  // namespace fleetlog
