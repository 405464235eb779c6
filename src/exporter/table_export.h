// Exports one table of one cluster for one window, as DESIGN.md's "Export cycle semantics"
// state: lower = cursor - lookback (first run: upper - initial_backfill), read
// lower <= cursor < upper, drop rows already committed, stage Parquet per dt, then commit
// files + cursor := upper + the run's audit row in one transaction, and publish.
// Thread-safety: ExportTable may run concurrently for different (cluster, table) pairs.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "lake/lake_writer.h"
#include "source/source.h"
#include "state/state_store.h"

namespace fleetlog {

// A long window's progress: [lower, done) of [lower, upper) is committed.
struct PartProgress {
  std::string cluster;
  std::string table;
  Timestamp lower, upper, done;
  int64_t rows = 0;  // read in the part just committed
};

struct ExportContext {
  const Config* config = nullptr;
  StateStore* state = nullptr;
  LakeWriter* writer = nullptr;
  const Clock* clock = nullptr;  // for run times; the window comes from the source's clock
  size_t batch_rows = 8192;
  // Called after each part of a window read in more than one part (any thread; the callee
  // serialises). May be empty.
  std::function<void(const PartProgress&)> on_part;
};

// Exports `spec` of `cluster` from `source` up to `upper` minus the table's hold-back, in
// parts of at most [export].part (each committed with its own run row and cursor). Returns
// the whole window's totals (status kOk or kFailed, with the error text) and its Status.
struct TableRun {
  RunRecord run;
  Status status;
};
TableRun ExportTable(const ExportContext& ctx, const std::string& cluster, const TableSpec& spec, Source& source,
                     Timestamp source_now, Timestamp upper);

}  // namespace fleetlog
