#include "storage/s3_lake_env.h"

#include <algorithm>

#include "lake/layout.h"

namespace fleetlog {
namespace {

constexpr int64_t kChunk = 8 << 20;

// Whether `path` is `dir` or below it; sets `rest` to the part after `dir` ("" or "/...").
bool Under(const std::string& path, const std::string& dir, std::string* rest) {
  if (path == dir) {
    rest->clear();
    return true;
  }
  if (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/') {
    *rest = path.substr(dir.size());
    return true;
  }
  return false;
}

}  // namespace

S3LakeEnv::S3LakeEnv(std::unique_ptr<S3Env> bucket, Env* local, std::string lake_root, std::string scratch_dir)
    : EnvWrapper(bucket.get()), bucket_(std::move(bucket)), local_(local), root_(std::move(lake_root)),
      scratch_(std::move(scratch_dir)) {
  while (root_.ends_with('/')) root_.pop_back();
}

S3LakeEnv::Mapped S3LakeEnv::Map(const std::string& path) const {
  std::string rest;
  if (Under(path, root_ + "/" + LakeLayout::StagingDir(), &rest)) return {Place::kStaging, scratch_ + "/staging" + rest};
  if (Under(path, root_ + "/" + LakeLayout::TmpDir(), &rest)) return {Place::kTmp, scratch_ + "/tmp" + rest};
  return {};
}

Status S3LakeEnv::DropScratch() {
  RETURN_IF_ERROR(local_->DeleteTree(scratch_ + "/staging"));
  RETURN_IF_ERROR(local_->DeleteTree(scratch_ + "/tmp"));
  RETURN_IF_ERROR(local_->CreateDir(scratch_ + "/staging"));
  return local_->CreateDir(scratch_ + "/tmp");
}

Status S3LakeEnv::Upload(const std::string& local, const std::string& path) {
  ASSIGN_OR_RETURN(const int64_t size, local_->FileSize(local));
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, bucket_->NewWritableFile(path));
  for (int64_t offset = 0; offset < size; offset += kChunk) {
    ASSIGN_OR_RETURN(std::string chunk, local_->ReadRange(local, offset, std::min(kChunk, size - offset)));
    if (chunk.empty()) return IoError("{} ended at {} bytes while uploading it", local, offset);
    RETURN_IF_ERROR(out->Append(chunk));
  }
  RETURN_IF_ERROR(out->Sync());
  return out->Close().WithContext("uploading " + path);
}

Status S3LakeEnv::WriteFile(const std::string& path, std::string_view data, const WriteOptions& options) {
  const Mapped m = Map(path);
  if (m.place == Place::kTmp) return local_->WriteFile(m.local, data, options);
  if (m.place == Place::kStaging) RETURN_IF_ERROR(local_->DeleteFile(m.local));
  return bucket_->WriteFile(path, data, options);
}

Result<std::string> S3LakeEnv::ReadFile(const std::string& path) {
  const Mapped m = Map(path);
  if (m.place == Place::kTmp) return local_->ReadFile(m.local);
  if (m.place == Place::kStaging) {
    Result<std::string> local = local_->ReadFile(m.local);
    if (local.status().code() != StatusCode::kNotFound) return local;
  }
  return bucket_->ReadFile(path);
}

Result<std::string> S3LakeEnv::ReadRange(const std::string& path, int64_t offset, int64_t length) {
  const Mapped m = Map(path);
  if (m.place == Place::kTmp) return local_->ReadRange(m.local, offset, length);
  if (m.place == Place::kStaging) {
    Result<std::string> local = local_->ReadRange(m.local, offset, length);
    if (local.status().code() != StatusCode::kNotFound) return local;
  }
  return bucket_->ReadRange(path, offset, length);
}

Result<std::unique_ptr<WritableFile>> S3LakeEnv::NewWritableFile(const std::string& path, const WriteOptions& options) {
  const Mapped m = Map(path);
  if (m.place == Place::kTmp) return local_->NewWritableFile(m.local, options);
  if (m.place == Place::kStaging) RETURN_IF_ERROR(local_->DeleteFile(m.local));
  return bucket_->NewWritableFile(path, options);
}

Result<bool> S3LakeEnv::FileExists(const std::string& path) {
  const Mapped m = Map(path);
  if (m.place == Place::kTmp) return local_->FileExists(m.local);
  // A staged file exists for the lake once it is in the bucket: only then can a commit name it.
  return bucket_->FileExists(path);
}

Result<int64_t> S3LakeEnv::FileSize(const std::string& path) {
  const Mapped m = Map(path);
  if (m.place == Place::kTmp) return local_->FileSize(m.local);
  if (m.place == Place::kStaging) {
    Result<int64_t> local = local_->FileSize(m.local);
    if (local.status().code() != StatusCode::kNotFound) return local;
  }
  return bucket_->FileSize(path);
}

Result<std::vector<FileInfo>> S3LakeEnv::ListFiles(const std::string& dir) {
  const Mapped m = Map(dir);
  if (m.place == Place::kTmp) return local_->ListFiles(m.local);
  return bucket_->ListFiles(dir);
}

Status S3LakeEnv::DeleteFile(const std::string& path) {
  const Mapped m = Map(path);
  if (m.place == Place::kTmp) return local_->DeleteFile(m.local);
  if (m.place == Place::kStaging) RETURN_IF_ERROR(local_->DeleteFile(m.local));
  return bucket_->DeleteFile(path);
}

Status S3LakeEnv::DeleteTree(const std::string& dir) {
  const Mapped m = Map(dir);
  if (m.place == Place::kTmp) return local_->DeleteTree(m.local);
  if (m.place == Place::kStaging) RETURN_IF_ERROR(local_->DeleteTree(m.local));
  return bucket_->DeleteTree(dir);
}

Status S3LakeEnv::CreateDir(const std::string& dir) {
  const Mapped m = Map(dir);
  return m.place == Place::kBucket ? Status::Ok() : local_->CreateDir(m.local);
}

Status S3LakeEnv::Publish(const std::string& staged, const std::string& final) {
  const Mapped m = Map(staged);
  if (m.place == Place::kTmp) return Internal("{} is a spill file; it cannot be published", staged);
  if (m.place == Place::kStaging) {
    ASSIGN_OR_RETURN(const bool local, local_->FileExists(m.local));
    ASSIGN_OR_RETURN(const bool uploaded, bucket_->FileExists(staged));
    if (local && !uploaded) {
      ASSIGN_OR_RETURN(const bool published, bucket_->FileExists(final));
      if (!published) RETURN_IF_ERROR(Upload(m.local, staged));
    }
  }
  RETURN_IF_ERROR(bucket_->Publish(staged, final));
  return m.place == Place::kStaging ? local_->DeleteFile(m.local) : Status::Ok();
}

Status S3LakeEnv::SyncFile(const std::string& path) {
  const Mapped m = Map(path);
  if (m.place == Place::kTmp) return local_->SyncFile(m.local);
  if (m.place == Place::kBucket) return Status::Ok();
  ASSIGN_OR_RETURN(const bool local, local_->FileExists(m.local));
  if (!local) return Error(StatusCode::kNotFound, "{}: no local staged file to upload", path);
  return Upload(m.local, path);
}

// Staged files are durable in the bucket, spill files need not be: nothing to sync.
Status S3LakeEnv::SyncDir(const std::string& /*dir*/) { return Status::Ok(); }

std::string S3LakeEnv::LocalPath(const std::string& path) const {
  const Mapped m = Map(path);
  return m.place == Place::kBucket ? std::string() : local_->LocalPath(m.local);
}

}  // namespace fleetlog
