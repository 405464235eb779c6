// The file-system operations the commit protocol depends on, each with its durability
// contract, and named fault points for crash tests.
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace fleetlog {

// Flushes a file's data and metadata to disk.
Status FsyncFile(const std::string& path);
// Flushes a directory entry (after a create, rename or unlink inside it).
Status FsyncDir(const std::string& dir);
// Renames atomically, creating the target's folders, and makes the rename durable.
Status DurableRename(const std::string& from, const std::string& to);
// Writes `data` to `path` through a temporary file and a durable rename; `mode` as chmod.
Status WriteFileAtomically(const std::string& path, std::string_view data, int mode = 0644);
Result<std::string> ReadFile(const std::string& path);
// Writes `data` to a new or truncated file, private to this user (0600), not following a
// symlink at `path`; no fsync.
Status WritePrivateFile(const std::string& path, std::string_view data);
// Creates `dir` and its missing parents private to this user (0700); an existing folder
// keeps its mode.
Status CreatePrivateDirs(const std::string& dir);
// BLAKE2b-256 of the file's bytes, as hex; and the file's size.
struct FileDigest {
  std::string checksum;
  int64_t bytes = 0;
};
Result<FileDigest> DigestFile(const std::string& path);
// A random name part: 16 hex digits from the OS's CSPRNG.
std::string RandomHex(size_t bytes = 8);

// Crash injection for tests. When the environment holds FLEETLOG_CRASH_AT=<point>[:<n>],
// the n-th time (default 1) the process reaches CrashPoint("<point>") it dies at once with
// SIGKILL, as a kill -9 would. Costs one string compare when unset.
void CrashPoint(std::string_view point);

}  // namespace fleetlog
