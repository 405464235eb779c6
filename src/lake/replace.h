// The building blocks every upkeep job (compaction, roll-ups, expiry, purge) shares:
//   - an upkeep DuckDB, sandboxed to the lake, for reading committed files and writing new ones;
//   - staging a SELECT as a new Parquet file of a partition;
//   - CommitReplacement: swaps files in one commit so that fleetlog's readers see the old
//     files or the new ones, never both and never neither;
//   - SweepRetired: deletes replaced files once no running query can still need them.
//
// Why replacements do not go through CommitAndPublish: a publish after the commit leaves a
// moment where the old files are retired and the new ones are not yet published, and a
// reader opening then would see neither. So the new files are renamed into their partition
// folders first (invisible: readers list the catalog, not folders) and committed as already
// published, in the same transaction that retires the old ones. A crash between the rename
// and the commit leaves files nobody committed; they are named beforehand by an "intent"
// written into the lake itself (<lake>/_fleetlog/intents/<name>.json: {"kind", "paths"}), so
// that the next writer removes them (RecoverUpkeep) even when it runs on another machine, the
// first one lost with its state store (an S3 lake restored from its journal).
// Thread-safety: free functions. REQUIRES for those that change the lake: the caller holds
// the lake's WriterLock (the process is the lake's only writer).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "duck/duck.h"
#include "lake/lake_files.h"
#include "lake/layout.h"
#include "state/state_store.h"

namespace fleetlog::upkeep {

// An in-memory DuckDB that may touch files under the lake only (allowed_directories, then
// enable_external_access = false, then lock_configuration), spilling to <lake>/_fleetlog/tmp.
Result<std::shared_ptr<duck::Database>> OpenUpkeepDatabase(const LakeLayout& lake, int64_t memory_limit_bytes = 1LL << 30,
                                                           int threads = 2);

// `[ '/lake/a.parquet', ... ]` for read_parquet: the local files of ResolveLakeFiles.
std::string ParquetList(const LocalFiles& files);

// Writes the rows of `select_sql` to a new staging file for (table, cluster, dt): zstd
// Parquet, fsynced, with rows, bytes and checksum filled in (min/max cursor are the caller's).
Result<NewFile> StageSelect(duck::Connection& conn, const LakeLayout& lake, const std::string& table,
                            const std::string& cluster, const std::string& dt, const std::string& select_sql);

// Deletes the staging files of `files` (best effort: what is left, Recover() deletes).
void RemoveStagedFiles(const LakeLayout& lake, const std::vector<NewFile>& files);

struct Replacement {
  std::vector<NewFile> add;      // staged files (staging_path set)
  std::vector<int64_t> retire;   // ids of the files they replace
  RunRecord run;                 // the audit row (kind: compact, rollup, expire, purge)
  std::string crash_prefix;      // CrashPoint names: <prefix>-placed, <prefix>-committed
};

// Renames the staged files into their partitions, then one commit adds them as published and
// retires `retire` (retired_at = now). On failure nothing is visible and the placed files are
// removed again; a crash is cleaned by RecoverUpkeep. A kInDoubt failure (the commit journal's
// record stands, or may: lake/commit.h) removes nothing: the placed files stay under their
// intent for RecoverUpkeep to keep or remove once the journal has settled. Returns the
// commit id.
Result<int64_t> CommitReplacement(StateStore& state, const LakeLayout& lake, Replacement replacement);

// Removes files that a replacement placed but never committed (a crash), and their intents.
// Returns how many files it removed. Safe to run any number of times. REQUIRES: the writer
// lease, and `state` caught up with the lake's journal (what it lacks counts as uncommitted).
Result<int> RecoverUpkeep(StateStore& state, const LakeLayout& lake);

// Lake paths that an unfinished replacement placed or may place (its intents).
Result<std::vector<std::string>> PendingReplacementPaths(StateStore& state, const LakeLayout& lake);

struct SweepReport {
  int files_deleted = 0;
  int64_t bytes_deleted = 0;
};
// Deletes retired files whose retired_at is at least `grace` before `now`, then forgets them.
// Queries that opened their snapshot before the replacement read the old files until then.
Result<SweepReport> SweepRetired(StateStore& state, const LakeLayout& lake, Timestamp now, Duration grace);

}  // namespace fleetlog::upkeep
