#include "fault_env.h"

#include <unistd.h>

namespace fleetlog::test {
namespace {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(const FaultEnv* env, std::string path, std::unique_ptr<WritableFile> file)
      : env_(env), path_(std::move(path)), file_(std::move(file)) {}
  Status Append(std::string_view data) override {
    RETURN_IF_ERROR(env_->Check(FaultEnv::Op::kWrite, "append to " + path_));
    env_->Written(path_);
    return file_->Append(data);
  }
  Status Sync() override {
    RETURN_IF_ERROR(env_->Check(FaultEnv::Op::kSync, "fsync " + path_));
    RETURN_IF_ERROR(file_->Sync());
    env_->Synced(path_);
    return Status::Ok();
  }
  Status Close() override { return file_->Close(); }

 private:
  const FaultEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> file_;
};

}  // namespace

const char* FaultOpName(FaultEnv::Op op) {
  switch (op) {
    case FaultEnv::Op::kWrite: return "write";
    case FaultEnv::Op::kPublish: return "publish";
    case FaultEnv::Op::kSync: return "sync";
  }
  return "?";
}

void FaultEnv::FailAt(Op op, int n, bool dead_after) {
  std::lock_guard lock(mu_);
  fail_op_ = op;
  fail_at_ = counts_[static_cast<int>(op)] + n;
  dead_after_ = dead_after;
  fired_ = dead_ = false;
}

bool FaultEnv::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

int FaultEnv::count(Op op) const {
  std::lock_guard lock(mu_);
  return counts_[static_cast<int>(op)];
}

Status FaultEnv::Check(Op op, const std::string& what) const {
  std::lock_guard lock(mu_);
  if (dead_) return IoError("{}: injected fault (the process is dead)", what);
  const int n = ++counts_[static_cast<int>(op)];
  if (fail_at_ == 0 || op != fail_op_ || n != fail_at_) return Status::Ok();
  fired_ = true;
  dead_ = dead_after_;
  return IoError("{}: injected {} fault", what, FaultOpName(op));
}

void FaultEnv::Written(const std::string& path) const {
  std::lock_guard lock(mu_);
  if (unsynced_.count(path)) return;
  auto size = target()->FileSize(path);
  unsynced_[path] = size.ok() ? *size : -1;
}

void FaultEnv::Synced(const std::string& path) const {
  std::lock_guard lock(mu_);
  unsynced_.erase(path);
}

Status FaultEnv::LoseUnsynced() {
  std::map<std::string, int64_t> lost;
  {
    std::lock_guard lock(mu_);
    lost.swap(unsynced_);
    fail_at_ = 0;
    dead_ = false;
  }
  for (const auto& [path, size] : lost) {
    ASSIGN_OR_RETURN(const bool exists, target()->FileExists(path));
    if (!exists) continue;
    if (size < 0) {
      RETURN_IF_ERROR(target()->DeleteFile(path));
    } else if (::truncate(path.c_str(), size) != 0) {
      return PosixError("truncate " + path, errno);
    }
  }
  return Status::Ok();
}

Status FaultEnv::WriteFile(const std::string& path, std::string_view data, const WriteOptions& options) {
  RETURN_IF_ERROR(Check(Op::kWrite, "write " + path));
  if (options.sync) RETURN_IF_ERROR(Check(Op::kSync, "fsync " + path));
  if (!options.sync) Written(path);
  RETURN_IF_ERROR(target()->WriteFile(path, data, options));
  if (options.sync) Synced(path);
  return Status::Ok();
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(const std::string& path, const WriteOptions& options) {
  RETURN_IF_ERROR(Check(Op::kWrite, "create " + path));
  ASSIGN_OR_RETURN(auto file, target()->NewWritableFile(path, options));
  {
    std::lock_guard lock(mu_);
    unsynced_[path] = -1;
  }
  return std::unique_ptr<WritableFile>(std::make_unique<FaultWritableFile>(this, path, std::move(file)));
}

Status FaultEnv::DeleteFile(const std::string& path) {
  RETURN_IF_ERROR(Check(Op::kWrite, "delete " + path));
  return target()->DeleteFile(path);
}

Status FaultEnv::DeleteTree(const std::string& dir) {
  RETURN_IF_ERROR(Check(Op::kWrite, "delete " + dir));
  return target()->DeleteTree(dir);
}

Status FaultEnv::Publish(const std::string& staged, const std::string& final) {
  RETURN_IF_ERROR(Check(Op::kPublish, "publish " + staged));
  RETURN_IF_ERROR(target()->Publish(staged, final));
  std::lock_guard lock(mu_);
  if (auto it = unsynced_.find(staged); it != unsynced_.end()) {
    unsynced_[final] = it->second;
    unsynced_.erase(it);
  }
  return Status::Ok();
}

Status FaultEnv::SyncFile(const std::string& path) {
  RETURN_IF_ERROR(Check(Op::kSync, "fsync " + path));
  RETURN_IF_ERROR(target()->SyncFile(path));
  Synced(path);
  return Status::Ok();
}

Status FaultEnv::SyncDir(const std::string& dir) {
  RETURN_IF_ERROR(Check(Op::kSync, "fsync folder " + dir));
  return target()->SyncDir(dir);
}

std::string FaultEnv::LocalPath(const std::string& path) const {
  // A path that exists is asked for to be read (verify); one that does not, to be written
  // by DuckDB (staging): that is a write.
  auto exists = target()->FileExists(path);
  if (exists.ok() && *exists) return target()->LocalPath(path);
  if (!Check(Op::kWrite, "write " + path).ok()) return "";
  {
    std::lock_guard lock(mu_);
    unsynced_.emplace(path, -1);
  }
  return target()->LocalPath(path);
}

}  // namespace fleetlog::test
