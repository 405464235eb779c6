// The fleet overview for the dashboard (GET /v1/fleet): per cluster and table, the cursor,
// its lag behind now, and the latest export run with its error, from the state store.
// Thread-safety: a pure function over the state store (which is itself thread-safe).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/time.h"
#include "state/state_store.h"

namespace fleetlog {

// {"now", "clusters": [{"name", "tables": [{"table", "cursor", "lag_s", "last_run": {...}}],
//   "last_run_at", "max_lag_s", "errors"}]}. `configured` clusters appear even before their
// first run; `state` may be null (nothing exported yet).
Result<nlohmann::json> FleetOverview(StateStore* state, const std::vector<std::string>& configured, Timestamp now);

}  // namespace fleetlog
