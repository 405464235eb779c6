#include "core/fs.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <cstdlib>

namespace fleetlog {

Result<FileDigest> DigestFile(Env& env, const std::string& path) {
  constexpr int64_t kPiece = 1 << 20;
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 32);
  int64_t total = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::string piece, env.ReadRange(path, total, kPiece));
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(piece.data()), piece.size());
    total += static_cast<int64_t>(piece.size());
    if (static_cast<int64_t>(piece.size()) < kPiece) break;
  }
  unsigned char hash[32];
  crypto_generichash_final(&state, hash, sizeof hash);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return FileDigest{hex, total};
}

Status WritePrivateFile(const std::string& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);  // outside the Env: a private file, never through a symlink
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
  if (fs::is_directory(dir, ec)) return Status::Ok();  // outside the Env: private local folders
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty() && parent != fs::path(dir)) RETURN_IF_ERROR(CreatePrivateDirs(parent.string()));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return IoError("cannot create the folder {}: {}", dir, std::strerror(errno));
  return Status::Ok();
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
