// The eight Redshift STL tables fleetlog exports (the SYS views are in redshift_sys_tables.cc). Columns, types, cursors and keys follow
// shared/reference/redshift-system-tables.md; the cursor is always a completion time so
// that long-running queries are not lost (see "Behaviour that shapes the exporter").
#include <algorithm>

#include "core/table_names.h"
#include "source/table_spec.h"

namespace fleetlog {
namespace {

constexpr ColumnType I = ColumnType::kInt32;
constexpr ColumnType B = ColumnType::kInt64;
constexpr ColumnType T = ColumnType::kTimestamp;
constexpr ColumnType V = ColumnType::kVarchar;

}  // namespace

std::vector<TableSpec> StlTableSpecs() {
  std::vector<TableSpec> specs;
  specs.push_back({.name = "stl_query",
                   .columns = {{"userid", I}, {"query", I}, {"label", V}, {"xid", B}, {"pid", I}, {"database", V},
                               {"querytxt", V}, {"starttime", T}, {"endtime", T}, {"aborted", I},
                               {"insert_pristine", I}, {"concurrency_scaling_status", I}},
                   .cursor = "endtime",
                   .key = {"query", "starttime"}});
  specs.push_back({.name = "stl_querytext",
                   .columns = {{"userid", I}, {"xid", B}, {"pid", I}, {"query", I}, {"sequence", I}, {"text", V}},
                   .key = {"query", "sequence"},
                   .parent = "stl_query",
                   .parent_key = "query",
                   .parent_cursor = "endtime",
                   .keep_padding = {"text"}});
  specs.push_back({.name = "stl_explain",
                   .columns = {{"userid", I}, {"query", I}, {"nodeid", I}, {"parentid", I}, {"plannode", V}, {"info", V}},
                   .key = {"query", "nodeid"},
                   .parent = "stl_query",
                   .parent_key = "query",
                   .parent_cursor = "endtime"});
  specs.push_back({.name = "stl_wlm_query",
                   .columns = {{"userid", I}, {"xid", I}, {"task", I}, {"query", I}, {"service_class", I},
                               {"slot_count", I}, {"service_class_start_time", T}, {"queue_start_time", T},
                               {"queue_end_time", T}, {"total_queue_time", B}, {"exec_start_time", T},
                               {"exec_end_time", T}, {"total_exec_time", B}, {"service_class_end_time", T},
                               {"final_state", V}, {"est_peak_mem", B}, {"query_priority", V},
                               {"service_class_name", V}},
                   .cursor = "service_class_end_time",
                   .key = {"query", "service_class_start_time"}});
  specs.push_back({.name = "stl_scan",
                   .columns = {{"userid", I}, {"query", I}, {"slice", I}, {"segment", I}, {"step", I},
                               {"starttime", T}, {"endtime", T}, {"tasknum", I}, {"rows", B}, {"bytes", B},
                               {"fetches", B}, {"type", I}, {"tbl", I}, {"is_rrscan", V}, {"is_delayed_scan", V},
                               {"rows_pre_filter", B}, {"rows_pre_user_filter", B}, {"perm_table_name", V},
                               {"is_rlf_scan", V}, {"is_rlf_scan_reason", I}, {"num_em_blocks", I}},
                   .cursor = "endtime",
                   .key = {"query", "slice", "segment", "step", "tasknum"}});
  // event_time is when the query started, so an alert of a long query arrives with an old
  // time: the lookback must exceed the longest query.
  specs.push_back({.name = "stl_alert_event_log",
                   .columns = {{"userid", I}, {"query", I}, {"slice", I}, {"segment", I}, {"step", I}, {"pid", I},
                               {"xid", B}, {"event", V}, {"solution", V}, {"event_time", T}},
                   .cursor = "event_time",
                   .key = {"query", "slice", "segment", "step", "event"},
                   .min_lookback = Duration::Hours(6)});
  for (const char* name : {"stl_ddltext", "stl_utilitytext"}) {
    specs.push_back({.name = name,
                     .columns = {{"userid", I}, {"xid", B}, {"pid", I}, {"label", V}, {"starttime", T},
                                 {"endtime", T}, {"sequence", I}, {"text", V}},
                     .cursor = "endtime",
                     .key = {"xid", "pid", "starttime", "sequence"},
                     .keep_padding = {"text"}});
  }
  return specs;
}

const std::vector<TableSpec>& RedshiftTables() {
  static const std::vector<TableSpec> specs = [] {
    std::vector<TableSpec> all = StlTableSpecs();
    for (auto& spec : SysTableSpecs()) all.push_back(std::move(spec));
    return all;
  }();
  return specs;
}

const TableSpec* FindRedshiftTable(std::string_view name) {
  for (const auto& s : RedshiftTables())
    if (s.name == name) return &s;
  return nullptr;
}

TableSpec CustomTableSpec(const CustomQueryConfig& custom) {
  return {.name = custom.name, .cursor = custom.cursor, .key = custom.key, .sql = custom.sql};
}

std::vector<TableSpec> TableSpecsFor(const Config& config, const ClusterConfig& cluster) {
  std::vector<TableSpec> specs;
  const auto wanted = config.TablesOf(cluster);
  // Redshift tables in their canonical order, so parents come before children.
  for (const auto& spec : RedshiftTables())
    if (std::find(wanted.begin(), wanted.end(), spec.name) != wanted.end()) specs.push_back(spec);
  for (const auto& q : config.custom)
    if (q.cluster == cluster.name) specs.push_back(CustomTableSpec(q));
  return specs;
}

std::map<std::string, std::string> FileRangeColumns(const Config& config) {
  std::map<std::string, std::string> columns;
  // As the exporter partitions (exporter/table_export.cc): by the table's own cursor only.
  const auto add = [&columns](const TableSpec& spec) {
    if (spec.parent.empty() && !spec.cursor.empty()) columns[spec.name] = spec.cursor;
  };
  for (const auto& spec : RedshiftTables()) add(spec);
  for (const auto& q : config.custom) add(CustomTableSpec(q));
  return columns;
}

Duration EffectiveHoldBack(const Config& config, const TableSpec& spec) {
  auto it = config.table_overrides.find(spec.name);
  if (it != config.table_overrides.end() && it->second.settle) return *it->second.settle;
  return spec.hold_back;
}

Duration EffectiveLookback(const Config& config, const TableSpec& spec) {
  for (const auto& q : config.custom)
    if (q.name == spec.name && q.lookback) return *q.lookback;
  auto it = config.table_overrides.find(spec.name);
  if (it != config.table_overrides.end() && it->second.lookback) return *it->second.lookback;
  return std::max(config.export_.lookback, spec.min_lookback);
}

}  // namespace fleetlog
