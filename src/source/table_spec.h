// Declarative specs of what fleetlog exports: the eight Redshift system tables (facts from
// shared/reference/redshift-system-tables.md) and the user's [[custom]] queries.
// Thread-safety: immutable values.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "core/time.h"
#include "core/row_batch.h"

namespace fleetlog {

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
  std::string sql;                // custom queries: the user's SELECT; empty: SELECT * FROM name
};

// The spec of a Redshift system table, or null.
const TableSpec* FindRedshiftTable(std::string_view name);
const std::vector<TableSpec>& RedshiftTables();
TableSpec CustomTableSpec(const CustomQueryConfig& custom);

// The specs a cluster exports, in export order (parents before their children).
std::vector<TableSpec> TableSpecsFor(const Config& config, const ClusterConfig& cluster);

// The lookback for `spec`: [table.NAME].lookback when set, else the larger of
// [export].lookback and the table's own minimum.
Duration EffectiveLookback(const Config& config, const TableSpec& spec);

}  // namespace fleetlog
