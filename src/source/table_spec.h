// Declarative specs of what fleetlog exports: the Redshift system tables of both families
// (the eight STL tables and the ten SYS monitoring views; docs/sys-views.md) and the user's
// [[custom]] queries.
// Thread-safety: immutable values.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/time.h"
#include "core/row_batch.h"

namespace fleetlog {

// SYS_QUERY_HISTORY's terminal and live statuses, as SQL conditions on `status`.
inline constexpr const char* kSysQueryDone = "status IN ('success', 'failed', 'canceled', 'cancelled')";
inline constexpr const char* kSysQueryLive = "status IN ('planning', 'queued', 'running', 'returning')";

struct TableSpec {
  std::string name;               // the lake table
  TableSchema columns;            // the columns expected, in order; the source may add more
  std::string cursor;             // completion-time column; empty when `parent` decides
  std::vector<std::string> key;   // natural key within a cluster
  Duration min_lookback;          // the lookback never goes below this for the table
  std::string parent;             // e.g. "stl_query": rows of the parent's window
  std::string parent_key;         // the column joining the two, e.g. "query"
  std::string parent_cursor;      // the parent's cursor column, e.g. "endtime"
  std::vector<std::string> keep_padding;  // char(n) columns stored exactly as received
  // Rows that change after they first appear (SYS views): only rows matching `filter` (an SQL
  // condition, e.g. a terminal status) are exported, so each is exported once in its final
  // state. A child exports the rows of the parent rows matching `parent_filter`.
  std::string filter;
  std::string parent_filter;
  // Rows whose cursor is newer than the cycle's upper bound minus this wait for a later
  // cycle (sys_serverless_usage: charged seconds are filled in after the fact).
  Duration hold_back;
  std::string sql;                // custom queries: the user's SELECT; empty: SELECT * FROM name
};

// The specs of each family, in export order (parents before their children).
std::vector<TableSpec> StlTableSpecs();
std::vector<TableSpec> SysTableSpecs();

// The spec of a Redshift system table of either family, or null.
const TableSpec* FindRedshiftTable(std::string_view name);
const std::vector<TableSpec>& RedshiftTables();
TableSpec CustomTableSpec(const CustomQueryConfig& custom);
// The queries not yet finished on a cluster with the SYS views: sys_query_history rows with
// a live status, windowed by start_time. Never exported; read for the live view.
TableSpec RunningQueriesSpec();

// The specs a cluster exports, in export order (parents before their children).
std::vector<TableSpec> TableSpecsFor(const Config& config, const ClusterConfig& cluster);

// Table -> the column whose range each of its committed files records (min_cursor,
// max_cursor): the cursor of every table that has its own (children of a parent record the
// parent's instead, so they are absent), the Redshift tables' and the [[custom]] queries'.
std::map<std::string, std::string> FileRangeColumns(const Config& config);

// How long rows of `spec` wait after the cycle's upper bound: [table.NAME].settle when
// set, else the spec's hold_back.
Duration EffectiveHoldBack(const Config& config, const TableSpec& spec);

// The lookback for `spec`: [table.NAME].lookback when set, else the larger of
// [export].lookback and the table's own minimum.
Duration EffectiveLookback(const Config& config, const TableSpec& spec);

}  // namespace fleetlog
