// `fleetlog verify`: checks the catalog (the state store's files) against the lake folders.
//   missing        a published file that is not at its path (or a committed one in neither
//                  staging nor the lake)
//   orphan         a file under a table folder that no commit names
//   size           a file whose size differs from the recorded bytes
//   checksum       a file whose BLAKE2b-256 differs from the recorded checksum
//   unreadable     a file DuckDB cannot read as Parquet, or whose row count differs
//   unpublished    a committed file still in staging (a publish that did not finish)
//   symlink        a symbolic link anywhere under the lake's table folders (never followed:
//                  queries refuse files reached through one)
//   foreign        something in a table folder that is not a regular *.parquet file
// With repair (REQUIRES the lake's WriterLock): unfinished publishes are finished, files that
// upkeep placed but never committed are removed (their rows are in the files they were to
// replace), damaged files and orphans are moved to <lake>/_fleetlog/quarantine/<path> and
// damaged or missing ones marked kQuarantined, so that queries work again. Nothing is
// deleted: every quarantined file stays on disk and is reported.
// Thread-safety: call from one thread. Without repair it only reads, and may run beside a
// writer process: files an upkeep job is placing at that moment are reported as in progress.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/layout.h"
#include "state/state_store.h"

namespace fleetlog::upkeep {

enum class IssueKind { kMissing, kOrphan, kSize, kChecksum, kUnreadable, kUnpublished, kSymlink, kForeign };
const char* IssueKindName(IssueKind kind);

struct VerifyIssue {
  IssueKind kind;
  std::string path;     // lake-relative
  int64_t file_id = 0;  // 0 for orphans
  std::string detail;   // what was expected and found
  std::string repair;   // what --repair did; empty when not repaired
};

struct VerifyReport {
  int64_t files_checked = 0;
  int64_t bytes_checked = 0;
  std::vector<VerifyIssue> issues;
  std::vector<std::string> in_progress;  // files an unfinished upkeep job placed (not faults)
  int upkeep_leftovers_removed = 0;      // with repair: such files removed
  bool clean() const { return issues.empty(); }
};

struct VerifyOptions {
  bool repair = false;
  bool read_parquet = true;  // also open each file with DuckDB and compare its row count
};

Result<VerifyReport> VerifyLake(StateStore& state, const LakeLayout& lake, const VerifyOptions& options);

}  // namespace fleetlog::upkeep
