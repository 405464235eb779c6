// Compaction: merges the small files of a (table, cluster, dt) partition into files of about
// a target size, rows sorted by the table's cursor column (the key for child tables), and
// swaps them in through one commit (replace.h): readers see the old files or the new ones.
// A partition is compacted once it can receive no more rows (its day ends before the
// table's receive horizon, policy.h), or earlier when it holds too many files, or a few
// small ones (CompactionOptions). The merged
// files keep every row and column of their inputs: the commit is refused when the row
// counts differ.
// Thread-safety: call from the lake's writer thread. REQUIRES: the caller holds the lake's
// WriterLock, and no export of the same lake runs at the same time (the exporter's dedupe
// must never need a file compaction retires; both run in one process, one after the other).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "duck/duck.h"
#include "lake/layout.h"
#include "state/state_store.h"

namespace fleetlog::upkeep {

struct CompactionOptions {
  int64_t target_file_bytes = 128LL << 20;
  // A partition that can still receive rows is compacted only past this many files, or past
  // `eager_files` small files while those total under `eager_bytes`. A fleet has many small
  // partitions (a cluster's alert events and anomaly scores, a quiet cluster's queries, one
  // file per export cycle each), and a read across the fleet pays for every file it opens;
  // merging them early keeps them at a few files each, and rewrites at most `eager_bytes`.
  int max_files_per_partition = 48;
  // Early merges stop once a pass has spent `eager_budget` on them (the partitions with the
  // most files go first), so that they never hold up the next export for long.
  int eager_files = 4;
  int64_t eager_bytes = 8LL << 20;
  Duration eager_budget = Duration::Seconds(15);
  std::vector<std::string> tables;    // empty: all
  std::vector<std::string> clusters;  // empty: all
  bool dry_run = false;               // plan only: report what would be merged
};

struct CompactionReport {
  int partitions = 0;    // partitions compacted (or that would be, in a dry run)
  int files_in = 0;      // files merged away
  int files_out = 0;     // files written
  int64_t rows = 0;      // rows moved
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  std::vector<std::string> errors;  // one per partition that failed; the others committed
};

// Compacts every partition that needs it. A partition that fails is reported and left as it
// was; the Status fails only when the catalog cannot be read.
Result<CompactionReport> CompactLake(StateStore& state, const LakeLayout& lake, const Config& config,
                                     const CompactionOptions& options, Timestamp now);

// Merges `files` (published files of one partition, at least two) into new files and swaps
// them in. `sort_columns` may be empty.
struct PartitionCompaction {
  int files_out = 0;
  int64_t rows = 0;
  int64_t bytes_out = 0;
};
Result<PartitionCompaction> CompactFiles(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                         const std::vector<CommittedFile>& files,
                                         const std::vector<std::string>& sort_columns, int64_t target_file_bytes);

}  // namespace fleetlog::upkeep
