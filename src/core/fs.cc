#include "core/fs.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fleetlog {
namespace {

Status Errno(std::string_view what, const std::string& path) {
  const int e = errno;
  const StatusCode code = e == ENOSPC ? StatusCode::kResourceExhausted
                          : e == ENOENT ? StatusCode::kNotFound
                          : e == EACCES ? StatusCode::kPermissionDenied
                                        : StatusCode::kIoError;
  return Status(code, fmt::format("{} {}: {}", what, path, std::strerror(e)));
}

}  // namespace

Status FsyncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync", path);
}

Status FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open folder", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync folder", dir);
}

Status DurableRename(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  std::string dir = fs::path(to).parent_path().string();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("create folder {}: {}", dir, ec.message());
  if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename " + from + " to", to);
  RETURN_IF_ERROR(FsyncDir(dir));
  std::string from_dir = fs::path(from).parent_path().string();
  if (from_dir.empty()) from_dir = ".";
  return from_dir == dir ? Status::Ok() : FsyncDir(from_dir);
}

Status WriteFileAtomically(const std::string& path, std::string_view data, int mode) {
  const std::string tmp = path + ".tmp-" + RandomHex(4);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno("create", tmp);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      Status s = Errno("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status s = Errno("fsync", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  return DurableRename(tmp, path);
}

Status WritePrivateFile(const std::string& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return IoError("cannot write {}: {}", path, std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = IoError("cannot write {}: {}", path, std::strerror(errno));
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return IoError("cannot write {}: {}", path, std::strerror(errno));
  return Status::Ok();
}

Status CreatePrivateDirs(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty() && parent != fs::path(dir)) RETURN_IF_ERROR(CreatePrivateDirs(parent.string()));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return IoError("cannot create the folder {}: {}", dir, std::strerror(errno));
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Errno("read", path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

Result<FileDigest> DigestFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 32);
  unsigned char buf[1 << 16];
  int64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      Status s = Errno("read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    crypto_generichash_update(&state, buf, static_cast<size_t>(n));
    total += n;
  }
  ::close(fd);
  unsigned char hash[32];
  crypto_generichash_final(&state, hash, sizeof hash);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return FileDigest{hex, total};
}

std::string RandomHex(size_t bytes) {
  if (sodium_init() < 0) std::abort();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), bytes);
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()), bytes);
  hex.pop_back();
  return hex;
}

void CrashPoint(std::string_view point) {
  const char* spec = std::getenv("FLEETLOG_CRASH_AT");  // read each time: tests set it in a forked child
  if (spec == nullptr) return;
  std::string_view s(spec);
  int target = 1;
  if (auto colon = s.find(':'); colon != std::string_view::npos) {
    target = std::atoi(std::string(s.substr(colon + 1)).c_str());
    s = s.substr(0, colon);
  }
  if (s != point) return;
  static std::atomic<int> hits{0};
  if (++hits == target) ::kill(::getpid(), SIGKILL);
}

}  // namespace fleetlog
