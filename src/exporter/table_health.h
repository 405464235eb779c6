// The export health of each (cluster, table): cursor, lag behind the source's clock, the
// last run and the streak of failures since the last success. What `fleetlog status`,
// the server's /metrics and /readyz, and the alert rules on fleetlog's own health read.
// Lag is measured against the source's clock: our clock shifted by the offset between the
// source and us that the table's last run saw, so a source whose clock runs late does not
// look lagging.
// Thread-safety: pure functions over their arguments; the state store is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "state/state_store.h"

namespace fleetlog {

struct TableRef {
  std::string cluster, table;
};

struct TableHealth {
  std::string cluster, table;
  std::optional<Timestamp> cursor;
  std::optional<Duration> lag;           // empty before the first committed window
  std::optional<RunRecord> last_run;     // the newest export run
  int failure_streak = 0;                // consecutive failed export runs since the last success
};

// Every exported (cluster, table) of `config`, custom queries included, in config order.
std::vector<TableRef> ExportedTables(const Config& config);

// The health of each of `tables` at `now`. `state` may be null (nothing exported yet).
Result<std::vector<TableHealth>> ReadTableHealth(StateStore* state, const std::vector<TableRef>& tables, Timestamp now);

// The tables whose lag exceeds `bound` (tables that never committed a window have no lag).
std::vector<const TableHealth*> TablesLaggingBeyond(const std::vector<TableHealth>& health, Duration bound);

}  // namespace fleetlog
