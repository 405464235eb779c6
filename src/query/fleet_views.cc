#include "query/fleet_views.h"

#include <fmt/format.h>

namespace fleetlog {
namespace {

struct Part {
  const char* view;
  std::vector<std::string> needs;  // tables and helper views the part reads
  const char* sql;
};

// The table a part's need reads: a text view (query/engine.h, TextViews) is named after its
// table, with `_full`.
std::string TableOf(std::string_view need) {
  constexpr std::string_view kTextView = "_full";
  if (need.ends_with(kTextView)) need.remove_suffix(kTextView.size());
  return std::string(need);
}

// STL: stl_query with its WLM row (queue and execution time); aborted = 1 is "aborted", as
// STL cannot tell failed from cancelled. SYS: sys_query_history (terminal rows only).
const Part kParts[] = {
    {"fleet_queries", {"stl_query", "stl_wlm_query"}, R"(
SELECT q.cluster, 'stl' AS family, CAST(q.query AS BIGINT) AS query_id, q.xid AS transaction_id, q.pid AS session_id,
       CAST(q.userid AS VARCHAR) AS user_id, q.database AS database_name, q.label AS query_label,
       CAST(NULL AS VARCHAR) AS query_type, CASE WHEN q.aborted = 1 THEN 'aborted' ELSE 'success' END AS status,
       q.starttime AS start_time, q.endtime AS end_time, epoch_us(q.endtime) - epoch_us(q.starttime) AS elapsed_us,
       w.queue_us, w.exec_us, w.service_class, w.service_class_name, q.querytxt AS query_text,
       CAST(NULL AS VARCHAR) AS error_message, q.dt
FROM stl_query q
LEFT JOIN (SELECT cluster, query, CAST(sum(total_queue_time) AS BIGINT) AS queue_us,
                  CAST(sum(total_exec_time) AS BIGINT) AS exec_us,
                  any_value(service_class) AS service_class, any_value(service_class_name) AS service_class_name
           FROM stl_wlm_query GROUP BY cluster, query) w ON w.cluster = q.cluster AND w.query = q.query)"},
    {"fleet_queries", {"sys_query_history"}, R"(
SELECT cluster, 'sys' AS family, query_id, transaction_id, session_id, CAST(user_id AS VARCHAR) AS user_id,
       database_name, query_label, query_type, status, start_time, end_time, elapsed_time AS elapsed_us,
       queue_time AS queue_us, execution_time AS exec_us, service_class_id AS service_class, service_class_name,
       query_text, error_message, dt
FROM sys_query_history)"},
    {"fleet_query_text", {"stl_querytext_full"}, R"(
SELECT cluster, 'stl' AS family, CAST(query AS BIGINT) AS query_id, text, pieces FROM stl_querytext_full)"},
    {"fleet_query_text", {"sys_query_text_full"}, R"(
SELECT cluster, 'sys' AS family, query_id, text, pieces FROM sys_query_text_full)"},
    {"fleet_alerts", {"stl_alert_event_log"}, R"(
SELECT cluster, 'stl' AS family, CAST(query AS BIGINT) AS query_id, event_time, trim(event) AS event,
       trim(solution) AS solution, dt
FROM stl_alert_event_log)"},
    {"fleet_alerts", {"sys_query_detail"}, R"(
SELECT cluster, 'sys' AS family, query_id, min(start_time) AS event_time, trim(alert) AS event,
       CAST(NULL AS VARCHAR) AS solution, min(dt) AS dt
FROM sys_query_detail WHERE alert IS NOT NULL AND trim(alert) <> '' GROUP BY cluster, query_id, trim(alert))"},
    {"fleet_scans", {"stl_scan"}, R"(
SELECT cluster, 'stl' AS family, CAST(query AS BIGINT) AS query_id, trim(perm_table_name) AS table_name,
       CAST(sum(rows) AS BIGINT) AS rows, CAST(sum(bytes) AS BIGINT) AS bytes, min(starttime) AS start_time, max(endtime) AS end_time, min(dt) AS dt
FROM stl_scan GROUP BY cluster, query, segment, step, trim(perm_table_name))"},
    {"fleet_scans", {"sys_query_detail"}, R"(
SELECT cluster, 'sys' AS family, query_id, trim(table_name) AS table_name, CAST(sum(output_rows) AS BIGINT) AS rows,
       CAST(sum(output_bytes) AS BIGINT) AS bytes, min(start_time) AS start_time, max(end_time) AS end_time, min(dt) AS dt
FROM sys_query_detail WHERE step_name IN ('scan', 's3scan')
GROUP BY cluster, query_id, child_query_sequence, segment_id, step_id, trim(table_name))"},
    {"fleet_loads", {"sys_load_history"}, R"(
SELECT cluster, 'sys' AS family, query_id, table_name, status, start_time, end_time, loaded_rows, loaded_bytes,
       source_file_count, error_count, data_source, dt
FROM sys_load_history)"},
};

}  // namespace

const std::vector<FleetView>& FleetViews() {
  static const std::vector<FleetView> views = [] {
    std::vector<FleetView> out = {
        {"fleet_queries", "every finished query of every cluster: times (µs), queue wait, status, first 4000 characters", {}},
        {"fleet_query_text", "the whole text of each query, reassembled from 200- (STL) or 4000-character (SYS) pieces", {}},
        {"fleet_alerts", "optimizer alerts per query (STL alert events; SYS_QUERY_DETAIL alert text)", {}},
        {"fleet_scans", "table scans per query step: rows and bytes read", {}},
        {"fleet_loads", "COPY loads (SYS_LOAD_HISTORY; STL clusters' COPYs are in fleet_queries)", {}},
    };
    for (auto& v : out)
      for (const Part& p : kParts)
        if (v.name == p.view)
          for (const auto& t : p.needs) v.tables.push_back(TableOf(t));
    return out;
  }();
  return views;
}

std::string FleetViewSql(const FleetView& view, const std::set<std::string>& present) {
  std::string body;
  for (const Part& p : kParts) {
    if (view.name != p.view) continue;
    bool ok = true;
    for (const auto& t : p.needs) ok = ok && present.count(t) > 0;
    if (!ok) continue;
    body += (body.empty() ? "" : "\nUNION ALL BY NAME") + std::string(p.sql);
  }
  return body.empty() ? "" : fmt::format("CREATE VIEW {} AS {}", view.name, body);
}

}  // namespace fleetlog
