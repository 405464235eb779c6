// `fleetlog demo`: the whole job on an embedded default. It makes a self-contained
// workspace (config, master key, lake, state) for a simulated fleet, backfills its history
// through the real exporter (day by day, so the progress bar moves and windows stay small),
// and prints a fleet report from real diagnostic queries over the lake.
// Thread-safety: runs on the calling thread (the exporter starts its own workers).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "core/config.h"
#include "core/status.h"

namespace fleetlog {

struct DemoOptions {
  int clusters = 4;
  int days = 3;
  std::string dir = "fleetlog-demo";
  bool serve = false;  // adds [server] to the config
  std::string listen = "127.0.0.1:8080";
  Timestamp end;  // where the history ends: now (sim-1's seed is picked for it)
};

// The demo's injected anomaly: the first seed from `first` that gives `cluster` a queue spike
// (two hours) that began 45 to 75 minutes before `now`. It is still under way when a backfill
// to `now` ends, so the detector grades it and the demo's anomaly rule fires at the first
// cycle of `fleetlog run`.
uint64_t SeedWithQueueSpikeUnderWay(const std::string& cluster, uint64_t first, Timestamp now);

// Creates (or, when it holds an earlier demo, recreates) the workspace and returns the path
// of its config. Refuses a non-empty folder that is not a demo workspace.
Result<std::string> CreateDemoWorkspace(const DemoOptions& options);

// Exports `days` days of simulated history ending at `end`. Progress goes to `progress`.
Status BackfillDemo(const Config& config, int days, Timestamp end, std::ostream& progress);

// Runs the fleet report's queries and prints them.
Status PrintFleetReport(const Config& config, std::ostream& out);

}  // namespace fleetlog
