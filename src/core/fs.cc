#include "core/fs.h"

#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
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
