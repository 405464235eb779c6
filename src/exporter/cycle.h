// One export cycle over the fleet: every selected cluster in parallel (at most
// [export].parallelism at once), the tables of a cluster in sequence over one connection,
// all sharing one `upper` = the source's clock at cycle start minus settle. A cluster that is
// down, slow or missing a table fails alone; the others commit.
// Thread-safety: RunCycle is called from one thread; it starts and joins its own workers.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "exporter/table_export.h"
#include "source/source.h"

namespace fleetlog {

// Makes the Source of a cluster (libpq, sim, or a test double).
using SourceFactory = std::function<Result<std::unique_ptr<Source>>(const ClusterConfig&)>;

struct CycleOptions {
  std::vector<std::string> clusters;  // empty: all
  std::vector<std::string> tables;    // empty: all of each cluster's
  // When set, (cluster, table) pairs still inside their failure back-off are skipped.
  bool honour_backoff = false;
  const std::atomic<bool>* stop = nullptr;  // when it turns true, no new table is started
  // Called after each (cluster, table) run, from the worker threads, one call at a time.
  std::function<void(const RunRecord&)> on_run;
};

struct CycleReport {
  std::vector<RunRecord> runs;  // one per (cluster, table) attempted
  int failed = 0;
  int skipped = 0;  // in back-off, or stopped
};

// REQUIRES: the caller holds the lake's WriterLock and ran Recover().
CycleReport RunCycle(const ExportContext& ctx, const SourceFactory& factory, const CycleOptions& options);

// How long (cluster, table) waits after `streak` failures in a row: the interval doubled per
// failure, at most one hour.
Duration BackoffAfter(int streak, Duration interval);

}  // namespace fleetlog
