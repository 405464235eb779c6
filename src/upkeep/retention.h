// Retention: whole `dt` partitions older than a table's keep are dropped through a commit
// that retires their files (SweepRetired deletes them after the grace period).
//   raw tables   [table.NAME] keep = "400d"   (no keep: kept for ever)
//   roll-ups     [upkeep] rollup_keep          (default 1825d, five years)
// A day of a roll-up input (stl_query, stl_wlm_query, stl_scan, stl_alert_event_log) is
// expired only once its roll-up exists, so the aggregates outlive the raw rows.
// Thread-safety: call from the lake's writer thread; REQUIRES the lake's WriterLock.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "lake/layout.h"
#include "state/state_store.h"

namespace fleetlog::upkeep {

struct ExpiryReport {
  int partitions = 0;
  int files = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
  std::vector<std::string> held;  // partitions past keep kept back (no roll-up yet, unpublished files)
};

// Expires, per table with a keep, every partition whose day ended at least keep before `now`.
Result<ExpiryReport> ExpirePartitions(StateStore& state, const LakeLayout& lake, const Config& config, Timestamp now);

}  // namespace fleetlog::upkeep
