// Lake upkeep as one job: clean up after an interrupted upkeep job, roll up the closed
// hours (rollup.h), expire partitions past their keep, compact, and delete replaced
// files past the grace period. `fleetlog run` runs it after export cycles (at most every
// [upkeep].every); `fleetlog compact` runs parts of it on demand.
// Thread-safety: call from the lake's writer thread; REQUIRES the lake's WriterLock and no
// export running at the same time.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "lake/layout.h"
#include "upkeep/compaction.h"
#include "lake/replace.h"
#include "upkeep/retention.h"
#include "upkeep/rollup.h"
#include "state/state_store.h"

namespace fleetlog::upkeep {

struct UpkeepPlan {
  bool retention = true;  // roll-ups and expiry
  CompactionOptions compaction;
  Duration grace;
};
// The plan [upkeep] describes.
UpkeepPlan PlanFromConfig(const Config& config);

struct UpkeepReport {
  int leftovers_removed = 0;
  RollupReport rollups;
  ExpiryReport expired;
  CompactionReport compacted;
  SweepReport swept;
  std::string Summary() const;
};

Result<UpkeepReport> RunUpkeep(StateStore& state, const LakeLayout& lake, const Config& config, const UpkeepPlan& plan,
                               Timestamp now);

// The after-cycle form: runs when [upkeep].enabled and the last run (kept in the state
// store) is at least [upkeep].every old; logs what it did. Partition failures are logged,
// not returned, so one bad partition does not fail the scheduler's task.
Status RunScheduledUpkeep(StateStore& state, const LakeLayout& lake, const Config& config, Timestamp now);

}  // namespace fleetlog::upkeep
