// The names of the Redshift system tables fleetlog knows how to export, by family: the STL
// tables of provisioned clusters and the SYS monitoring views of Serverless workgroups,
// Multi-AZ clusters and newer provisioned clusters. The specs behind the names live in
// source/table_spec.h; config validation only needs the names.
#pragma once

#include <array>
#include <string_view>

namespace fleetlog {

inline constexpr std::array<std::string_view, 8> kRedshiftTableNames = {
    "stl_query",     "stl_querytext",       "stl_explain", "stl_wlm_query",
    "stl_scan",      "stl_alert_event_log", "stl_ddltext", "stl_utilitytext"};

// In export order: sys_query_history before the views that take its window.
inline constexpr std::array<std::string_view, 10> kSysTableNames = {
    "sys_query_history",    "sys_query_text",     "sys_query_detail",   "sys_query_explain",
    "sys_load_history",     "sys_unload_history", "sys_connection_log", "sys_session_history",
    "sys_transaction_history", "sys_serverless_usage"};

// Exists on Redshift Serverless workgroups only.
inline constexpr std::string_view kServerlessOnlyTable = "sys_serverless_usage";

inline bool IsStlTable(std::string_view name) {
  for (auto t : kRedshiftTableNames)
    if (t == name) return true;
  return false;
}

inline bool IsSysTable(std::string_view name) {
  for (auto t : kSysTableNames)
    if (t == name) return true;
  return false;
}

// Any system table fleetlog exports, of either family.
inline bool IsRedshiftTable(std::string_view name) { return IsStlTable(name) || IsSysTable(name); }

}  // namespace fleetlog
