// The local Env: POSIX system calls, never std::filesystem calls that throw.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/env.h"
#include "core/fs.h"

namespace fleetlog {

Status PosixError(std::string_view context, int err) {
  StatusCode code = StatusCode::kIoError;
  switch (err) {
    case ENOENT: case ENOTDIR: code = StatusCode::kNotFound; break;
    case EACCES: case EPERM: case EROFS: code = StatusCode::kPermissionDenied; break;
    case ENOSPC: case EDQUOT: code = StatusCode::kResourceExhausted; break;
    case EEXIST: case ENOTEMPTY: code = StatusCode::kAlreadyExists; break;
    case ETIMEDOUT: code = StatusCode::kTimeout; break;
    default: break;
  }
  return Status(code, fmt::format("{}: {}", context, std::strerror(err)));
}

std::string ParentDir(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

namespace {

Status Errno(std::string_view what, const std::string& path) { return PosixError(fmt::format("{} {}", what, path), errno); }

// Closes a descriptor on every path out of a scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty() || dir == "." || dir == "/") return Status::Ok();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? Status::Ok() : PosixError("create folder " + dir, ENOTDIR);
  }
  RETURN_IF_ERROR(MakeDirs(ParentDir(dir)));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("create folder", dir);
  return Status::Ok();
}

Status FsyncPath(const std::string& path, bool dir) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0)));
  if (fd.get() < 0) return Errno(dir ? "open folder" : "open", path);
  if (::fsync(fd.get()) != 0) return Errno(dir ? "fsync folder" : "fsync", path);
  return Status::Ok();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Append(std::string_view data) override { return WriteAll(fd_, data, path_); }
  Status Sync() override {
    if (::fsync(fd_) != 0) return Errno("fsync", path_);
    if (!dir_synced_) {
      RETURN_IF_ERROR(FsyncPath(ParentDir(path_), true));
      dir_synced_ = true;
    }
    return Status::Ok();
  }
  Status Close() override {
    const int fd = std::exchange(fd_, -1);
    if (fd >= 0 && ::close(fd) != 0) return Errno("close", path_);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
  bool dir_synced_ = false;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  explicit PosixEnv(const Clock* clock) : clock_(clock != nullptr ? clock : &system_clock_) {}

  Status WriteFile(const std::string& path, std::string_view data, const WriteOptions& options) override {
    RETURN_IF_ERROR(MakeDirs(ParentDir(path)));
    const std::string tmp = path + ".tmp-" + RandomHex(4);
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, options.mode));
    if (fd.get() < 0) return Errno("create", tmp);
    Status s = WriteAll(fd.get(), data, tmp);
    if (s.ok() && options.sync && ::fsync(fd.get()) != 0) s = Errno("fsync", tmp);
    if (s.ok() && ::close(fd.release()) != 0) s = Errno("close", tmp);
    if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = Errno("rename " + tmp + " to", path);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
    return options.sync ? FsyncPath(ParentDir(path), true) : Status::Ok();
  }

  Result<std::string> ReadFile(const std::string& path) override {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return Errno("read", path);
    std::string out;
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("read", path);
      }
      if (n == 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

  Result<std::string> ReadRange(const std::string& path, int64_t offset, int64_t length) override {
    if (offset < 0 || length < 0) return InvalidArgument("read {}: negative offset or length", path);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return Errno("read", path);
    std::string out(static_cast<size_t>(length), '\0');
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done, offset + static_cast<off_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("read", path);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, const WriteOptions& options) override {
    RETURN_IF_ERROR(MakeDirs(ParentDir(path)));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, options.mode);
    if (fd < 0) return Errno("create", path);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }

  Result<bool> FileExists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT || errno == ENOTDIR) return false;
    return Errno("stat", path);
  }

  Result<int64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Errno("stat", path);
    return static_cast<int64_t>(st.st_size);
  }

  Result<std::vector<FileInfo>> ListFiles(const std::string& dir) override {
    std::vector<FileInfo> out;
    RETURN_IF_ERROR(Walk(dir, "", &out));
    std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
    return out;
  }

  Status DeleteFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("delete", path);
    return Status::Ok();
  }

  Status DeleteTree(const std::string& dir) override {
    struct stat st;
    if (::lstat(dir.c_str(), &st) != 0) return errno == ENOENT ? Status::Ok() : Errno("stat", dir);
    if (!S_ISDIR(st.st_mode)) return DeleteFile(dir);
    ASSIGN_OR_RETURN(auto children, Children(dir));
    for (const auto& [name, is_dir] : children) RETURN_IF_ERROR(DeleteTree(dir + "/" + name));
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return Errno("delete folder", dir);
    return Status::Ok();
  }

  Status CreateDir(const std::string& dir) override { return MakeDirs(dir); }

  Status Publish(const std::string& staged, const std::string& final) override {
    const std::string to_dir = ParentDir(final), from_dir = ParentDir(staged);
    RETURN_IF_ERROR(MakeDirs(to_dir));
    if (::rename(staged.c_str(), final.c_str()) != 0) return Errno("rename " + staged + " to", final);
    RETURN_IF_ERROR(FsyncPath(to_dir, true));
    return from_dir == to_dir ? Status::Ok() : FsyncPath(from_dir, true);
  }

  Status SyncFile(const std::string& path) override { return FsyncPath(path, false); }
  Status SyncDir(const std::string& dir) override { return FsyncPath(dir, true); }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, std::string_view owner) override {
    RETURN_IF_ERROR(MakeDirs(ParentDir(path)));
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) return Errno("open", path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) return Errno("lock", path);
      char buf[64] = {};
      const ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
      return Error(StatusCode::kUnavailable, "{} is locked by {}", path,
                   n > 0 ? std::string(buf, static_cast<size_t>(n)) : "another process");
    }
    // The owner is only for the message above; the lock holds whether or not it is written.
    if (::ftruncate(fd.get(), 0) == 0 && ::pwrite(fd.get(), owner.data(), owner.size(), 0) < 0) {
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd.release()));
  }

  std::string LocalPath(const std::string& path) const override { return path; }

  const Clock& clock() const override { return *clock_; }

 private:
  // The names in `dir` other than "." and "..", each with whether it is a folder.
  static Result<std::vector<std::pair<std::string, bool>>> Children(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Errno("list", dir);
    std::vector<std::pair<std::string, bool>> out;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        is_dir = ::lstat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      }
      out.emplace_back(name, is_dir);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return PosixError("list " + dir, err);
    return out;
  }

  static Status Walk(const std::string& dir, const std::string& prefix, std::vector<FileInfo>* out) {
    auto children = Children(dir);
    if (!children.ok()) return children.status().code() == StatusCode::kNotFound ? Status::Ok() : children.status();
    for (const auto& [name, is_dir] : *children) {
      const std::string path = dir + "/" + name, rel = prefix.empty() ? name : prefix + "/" + name;
      if (is_dir) {
        RETURN_IF_ERROR(Walk(path, rel, out));
        continue;
      }
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) continue;  // deleted while we listed
        return Errno("stat", path);
      }
      out->push_back({rel, static_cast<int64_t>(st.st_size)});
    }
    return Status::Ok();
  }

  SystemClock system_clock_;
  const Clock* clock_;
};

}  // namespace

Env* Env::Default() {
  static Env* const env = new PosixEnv(nullptr);  // never destroyed: usable from any static destructor
  return env;
}

std::unique_ptr<Env> NewPosixEnv(const Clock* clock) { return std::make_unique<PosixEnv>(clock); }

}  // namespace fleetlog
