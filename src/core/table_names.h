// The names of the Redshift system tables fleetlog knows how to export. The specs behind
// the names live in source/redshift_tables.h; config validation only needs the names.
#pragma once

#include <array>
#include <string_view>

namespace fleetlog {

inline constexpr std::array<std::string_view, 8> kRedshiftTableNames = {
    "stl_query",     "stl_querytext",       "stl_explain", "stl_wlm_query",
    "stl_scan",      "stl_alert_event_log", "stl_ddltext", "stl_utilitytext"};

inline bool IsRedshiftTable(std::string_view name) {
  for (auto t : kRedshiftTableNames)
    if (t == name) return true;
  return false;
}

}  // namespace fleetlog
