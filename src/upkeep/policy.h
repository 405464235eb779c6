// What upkeep needs to know about a lake table: how its files are sorted, and which of its
// `dt` partitions can still receive rows from the exporter.
// Thread-safety: pure functions, plus reads of the state store (safe from any thread).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "core/row_batch.h"
#include "query/workload_hourly.h"  // kRollupTable: the hourly roll-up table upkeep builds (rollup.h)
#include "state/state_store.h"

namespace fleetlog::upkeep {

// The columns a table's rows are sorted by inside a file: the cursor column then the natural
// key (child tables such as stl_querytext have no cursor: the key alone). Only columns that
// `stored` (the table's recorded schema) holds; empty when nothing is known.
std::vector<std::string> SortColumnsOf(const Config& config, const std::string& table, const TableSchema& stored);

// The oldest instant the exporter may still write rows for in (cluster, table): its cursor
// minus its lookback (the cursor already lags the source by `settle`). A partition whose
// day ends at or before it can receive no more rows. Tables fleetlog does not export (the
// roll-ups) or has no cursor for yet: the start of `now`'s day.
Result<Timestamp> ReceiveHorizon(StateStore& state, const Config& config, const std::string& cluster,
                                 const std::string& table, Timestamp now);

// Midnight UTC starting the day "YYYY-MM-DD".
Result<Timestamp> DayStart(const std::string& dt);
// True when the whole day `dt` lies before `horizon`.
bool DayEndsBy(const std::string& dt, Timestamp horizon);

}  // namespace fleetlog::upkeep
