// The ten Redshift SYS monitoring views fleetlog exports (docs/sys-views.md has the facts and
// the reasons). Column names and types follow the AWS Database Developer Guide page of each
// view; AWS adds columns, and the exporter keeps any it does not know.
//
// Rows that change after they first appear: SYS_QUERY_HISTORY, SYS_LOAD_HISTORY,
// SYS_UNLOAD_HISTORY and SYS_SESSION_HISTORY hold running rows whose status, end time and
// counters change later. fleetlog exports only rows in a terminal status, by their end time:
// a terminal row no longer changes, so it is exported exactly once, in its final state, and
// a running row waits (cursor and lookback work as for STL, whose rows also appear when the
// work finishes). The query's text, plan and steps are taken with their query, when it is
// terminal. SYS_SERVERLESS_USAGE's charged seconds are filled in after the fact: its rows
// wait `hold_back` past the cycle's upper bound ([table.sys_serverless_usage].settle).
#include "core/table_names.h"
#include "source/table_spec.h"

namespace fleetlog {
namespace {

constexpr ColumnType I = ColumnType::kInt32;
constexpr ColumnType B = ColumnType::kInt64;
constexpr ColumnType D = ColumnType::kDouble;
constexpr ColumnType L = ColumnType::kBool;
constexpr ColumnType T = ColumnType::kTimestamp;
constexpr ColumnType V = ColumnType::kVarchar;

// Terminal statuses, as the view pages list them.
constexpr const char* kCopyDone = "status IN ('completed', 'aborted')";
constexpr const char* kSessionDone = "status IN ('closed', 'timed out')";

// A child of sys_query_history: the rows of the queries that finished in the window.
TableSpec QueryChild(std::string name, TableSchema columns, std::vector<std::string> key) {
  return {.name = std::move(name),
          .columns = std::move(columns),
          .key = std::move(key),
          .parent = "sys_query_history",
          .parent_key = "query_id",
          .parent_cursor = "end_time",
          .parent_filter = kSysQueryDone};
}

}  // namespace

TableSpec RunningQueriesSpec() {
  TableSpec spec = *FindRedshiftTable("sys_query_history");
  spec.cursor = "start_time";
  spec.filter = kSysQueryLive;
  return spec;
}

std::vector<TableSpec> SysTableSpecs() {
  std::vector<TableSpec> specs;
  specs.push_back({.name = "sys_query_history",
                   .columns = {{"user_id", I}, {"query_id", B}, {"query_label", V}, {"transaction_id", B},
                               {"session_id", I}, {"database_name", V}, {"query_type", V}, {"status", V},
                               {"result_cache_hit", L}, {"start_time", T}, {"end_time", T}, {"elapsed_time", B},
                               {"queue_time", B}, {"execution_time", B}, {"error_message", V}, {"returned_rows", B},
                               {"returned_bytes", B}, {"query_text", V}, {"redshift_version", V}, {"usage_limit", V},
                               {"compute_type", V}, {"compile_time", B}, {"planning_time", B}, {"lock_wait_time", B},
                               {"service_class_id", I}, {"service_class_name", V}, {"query_priority", V},
                               {"short_query_accelerated", V}, {"user_query_hash", V}, {"generic_query_hash", V},
                               {"query_hash_version", I}},
                   .cursor = "end_time",
                   .key = {"query_id"},
                   .filter = kSysQueryDone});
  TableSpec text = QueryChild("sys_query_text",
                              {{"user_id", I}, {"query_id", B}, {"transaction_id", B}, {"session_id", I},
                               {"start_time", T}, {"sequence", I}, {"text", V}},
                              {"query_id", "sequence"});
  text.keep_padding = {"text"};  // 4000-character pieces: trailing blanks of a piece are content
  specs.push_back(std::move(text));
  specs.push_back(QueryChild(
      "sys_query_detail",
      {{"user_id", I}, {"query_id", B}, {"child_query_sequence", I}, {"stream_id", I}, {"segment_id", I},
       {"step_id", I}, {"step_name", V}, {"table_id", I}, {"table_name", V}, {"is_rrscan", V}, {"start_time", T},
       {"end_time", T}, {"duration", B}, {"alert", V}, {"input_bytes", B}, {"input_rows", B}, {"output_bytes", B},
       {"output_rows", B}, {"blocks_read", B}, {"blocks_write", B}, {"spilled_block_local_disk", B},
       {"spilled_block_remote_disk", B}, {"data_skewness", B}, {"time_skewness", B}, {"metrics_level", V},
       {"plan_node_id", I}},
      {"query_id", "child_query_sequence", "metrics_level", "stream_id", "segment_id", "step_id", "plan_node_id"}));
  specs.push_back(QueryChild("sys_query_explain",
                             {{"user_id", I}, {"query_id", B}, {"child_query_sequence", I}, {"plan_node_id", I},
                              {"plan_parent_id", I}, {"plan_node", V}, {"node_info", V}},
                             {"query_id", "child_query_sequence", "plan_node_id"}));
  specs.push_back({.name = "sys_load_history",
                   .columns = {{"user_id", I}, {"query_id", B}, {"transaction_id", B}, {"session_id", I},
                               {"database_name", V}, {"status", V}, {"table_name", V}, {"start_time", T},
                               {"end_time", T}, {"duration", B}, {"data_source", V}, {"file_format", V},
                               {"loaded_rows", B}, {"loaded_bytes", B}, {"source_file_count", I},
                               {"source_file_bytes", B}, {"file_count_scanned", I}, {"file_bytes_scanned", B},
                               {"error_count", B}, {"copy_job_id", B}},
                   .cursor = "end_time",
                   .key = {"query_id"},
                   .filter = kCopyDone});
  specs.push_back({.name = "sys_unload_history",
                   .columns = {{"user_id", I}, {"query_id", B}, {"transaction_id", B}, {"session_id", I},
                               {"database_name", V}, {"status", V}, {"start_time", T}, {"end_time", T},
                               {"duration", B}, {"unloaded_location", V}, {"unloaded_rows", B},
                               {"unloaded_files_count", I}, {"unloaded_files_size", B}, {"file_format", V},
                               {"compression_type", V}, {"error_message", V}},
                   .cursor = "end_time",
                   .key = {"query_id"},
                   .filter = kCopyDone});
  specs.push_back({.name = "sys_connection_log",
                   .columns = {{"event", V}, {"record_time", T}, {"remote_host", V}, {"remote_port", V},
                               {"session_id", I}, {"database_name", V}, {"user_name", V}, {"auth_method", V},
                               {"duration", B}, {"ssl_version", V}, {"ssl_cipher", V}, {"application_name", V},
                               {"os_version", V}, {"driver_version", V}, {"plugin_name", V},
                               {"protocol_version", I}},
                   .cursor = "record_time",
                   .key = {"session_id", "event", "record_time"}});
  specs.push_back({.name = "sys_session_history",
                   .columns = {{"user_id", V}, {"session_id", I}, {"database_name", V}, {"status", V},
                               {"session_timeout", I}, {"start_time", T}, {"end_time", T}},
                   .cursor = "end_time",
                   .key = {"session_id", "start_time"},
                   .filter = kSessionDone});
  // A transaction's row appears when it ends (committed or rolledback); the page names no end
  // time that every row has, so the cursor is the start and the lookback must exceed the
  // longest transaction, as for stl_alert_event_log.
  specs.push_back({.name = "sys_transaction_history",
                   .columns = {{"user_id", I}, {"transaction_id", B}, {"isolation_level", V}, {"status", V},
                               {"transaction_start_time", T}, {"commit_start_time", T}, {"commit_end_time", T},
                               {"blocks_committed", B}, {"undo_transaction_id", B}},
                   .cursor = "transaction_start_time",
                   .key = {"transaction_id"},
                   .min_lookback = Duration::Hours(6)});
  specs.push_back({.name = std::string(kServerlessOnlyTable),
                   .columns = {{"start_time", T}, {"end_time", T}, {"compute_seconds", D}, {"compute_capacity", D},
                               {"data_storage", I}, {"cross_region_transferred_data", B}, {"charged_seconds", I}},
                   .cursor = "end_time",
                   .key = {"start_time"},
                   .hold_back = Duration::Hours(1)});
  return specs;
}

}  // namespace fleetlog
