// The fleet overview for the dashboard (GET /v1/fleet): per cluster and table, the cursor,
// its lag behind now, and the latest export run with its error, from the state store.
// Thread-safety: a pure function over the state store (which is itself thread-safe).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/time.h"
#include "state/state_store.h"

namespace fleetlog {

// A configured cluster as the dashboard shows it.
struct FleetCluster {
  std::string name;
  std::string kind;               // the source kind: "redshift", "postgres", "sim"
  std::vector<std::string> tags;  // [[cluster]] tags
};

// {"now", "clusters": [{"name", "kind", "tags", "tables": [{"table", "cursor", "lag_s",
//   "last_run": {...}}], "last_run_at", "max_lag_s", "errors", "rolled_up_to"}]}.
// `configured` clusters appear even before their first run; `state` may be null (nothing
// exported yet). "rolled_up_to" is the newest day ("YYYY-MM-DD") of the cluster's hourly
// roll-ups (null: none), so a client reads rollup_hourly up to it and raw tables after it.
Result<nlohmann::json> FleetOverview(StateStore* state, const std::vector<FleetCluster>& configured, Timestamp now);

// GET /v1/runs?cluster=NAME&limit=N: {"runs": [{"cluster", "table", "kind", "status",
// "started_at", "finished_at", "seconds", "rows_written", "rows_duplicate", "bytes_written",
// "error"}]}, newest first; at most `limit` (1 to 5000, default 500), of one cluster or all.
// `query` holds the request's query parameters.
Result<nlohmann::json> RecentRunsJson(StateStore* state, const std::map<std::string, std::string>& query);

}  // namespace fleetlog
