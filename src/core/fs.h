// File helpers over the Env (core/env.h): content digests, random names, and named crash
// points for the end-to-end kill tests.
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace fleetlog {

// BLAKE2b-256 of the file's bytes, as hex; and the file's size. Reads the file through `env`
// in pieces, so a large file costs no more memory than a piece.
struct FileDigest {
  std::string checksum;
  int64_t bytes = 0;
};
Result<FileDigest> DigestFile(Env& env, const std::string& path);
// Writes `data` to a new or truncated file, private to this user (0600), not following a
// symlink at `path`; no fsync. (The server's result files, which are local.)
Status WritePrivateFile(const std::string& path, std::string_view data);
// Creates `dir` and its missing parents private to this user (0700); an existing folder
// keeps its mode.
Status CreatePrivateDirs(const std::string& dir);
// A random name part: 16 hex digits from the OS's CSPRNG.
std::string RandomHex(size_t bytes = 8);

// Crash injection for the end-to-end tests that kill a real process. When the environment
// holds FLEETLOG_CRASH_AT=<point>[:<n>], the n-th time (default 1) the process reaches
// CrashPoint("<point>") it dies at once with SIGKILL, as a kill -9 would. Costs one string
// compare when unset. (Faults inside the protocols are injected through a test Env instead.)
void CrashPoint(std::string_view point);

}  // namespace fleetlog
