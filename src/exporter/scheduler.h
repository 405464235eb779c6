// `fleetlog run`: an export cycle every [export].interval (down to seconds), clusters in
// back-off skipped until their time, then the after-cycle tasks (anomaly detection, lake
// upkeep). A stop request lets the window in progress finish, starts nothing new, and
// returns.
// Thread-safety: runs on the calling thread; `stop` may be set from a signal handler.
#pragma once

#include <atomic>
#include <functional>
#include <vector>

#include "exporter/writer.h"

namespace fleetlog {

struct AfterCycleTask {
  const char* name;
  std::function<Status(LakeSession&, const CycleReport&)> run;
};

// Returns when `stop` turns true, or after `max_cycles` cycles when it is positive; returns
// the number of cycles it ran.
int RunScheduler(LakeSession& session, const std::atomic<bool>& stop, const std::vector<AfterCycleTask>& tasks,
                  int max_cycles = 0);

}  // namespace fleetlog
