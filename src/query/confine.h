// Confinement by the kernel of a process that runs user SQL, beneath DuckDB's own sandbox:
// Landlock (Linux 5.13+) so the process can read only the files it is given and write,
// list, create or connect nothing, and rlimits that bound its memory and what it may leave
// behind. What is applied is reported, so a kernel without Landlock is said, not hidden.
// Thread-safety: Confine* affect the whole calling process (every thread) and cannot be
// undone; call them before running user SQL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace fleetlog {

// The Landlock ABI version of the running kernel; 0 when Landlock is absent or disabled.
int LandlockAbi();

struct Confinement {
  int landlock_abi = 0;
  bool landlocked = false;  // file access restricted (false: the kernel cannot; DuckDB's sandbox still holds)
  bool network_blocked = false;  // TCP bind/connect refused (ABI 4+)
  bool signals_scoped = false;   // no signals to processes outside (ABI 6+)
  std::string note;              // what could not be applied, in words
};

// Restricts this process and its future children to reading `readable_files` (regular
// files; a symlink is refused) and nothing else: no writes, no folder listing, no creation,
// no TCP, no signals out. Fails when a file cannot be opened; a kernel without Landlock is
// not a failure (see Confinement::note).
Result<Confinement> ConfineToFiles(const std::vector<std::string>& readable_files);

// Caps this process's data segment (RLIMIT_DATA: heap and private writable mappings) at
// `data_bytes` above what it uses now and forbids core dumps; unless `may_write_files`,
// also writes to regular files, even through descriptors already open (RLIMIT_FSIZE 0).
// Returns the data limit set. Reads /proc: call it before ConfineToFiles().
Result<int64_t> LimitProcess(int64_t data_bytes, bool may_write_files);

// This process's data segment in bytes (VmData), or -1.
int64_t CurrentDataBytes();

}  // namespace fleetlog
