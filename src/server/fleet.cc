#include "server/fleet.h"

#include <algorithm>
#include <map>

namespace fleetlog {
namespace {

using nlohmann::json;

json RunJson(const RunRecord& r) {
  return {{"status", r.status == RunStatus::kOk ? "ok" : "failed"},
          {"started_at", FormatTimestampIso(r.started_at)},
          {"finished_at", FormatTimestampIso(r.finished_at)},
          {"seconds", (r.finished_at - r.started_at).seconds()},
          {"rows_written", r.rows_written},
          {"rows_duplicate", r.rows_duplicate},
          {"bytes_written", r.bytes_written},
          {"error", r.error}};
}

}  // namespace

Result<json> FleetOverview(StateStore* state, const std::vector<std::string>& configured, Timestamp now) {
  struct TableRow {
    std::optional<CursorRecord> cursor;
    std::optional<RunRecord> run;
  };
  std::map<std::string, std::map<std::string, TableRow>> fleet;
  for (const auto& name : configured) fleet[name];
  if (state != nullptr) {
    ASSIGN_OR_RETURN(auto cursors, state->ListCursors());
    for (auto& c : cursors) fleet[c.cluster][c.table].cursor = std::move(c);
    ASSIGN_OR_RETURN(auto runs, state->LatestRuns());
    for (auto& r : runs)
      if (r.kind == "export") fleet[r.cluster][r.table].run = std::move(r);
  }
  json clusters = json::array();
  for (const auto& [cluster, tables] : fleet) {
    json c = {{"name", cluster}, {"tables", json::array()}, {"errors", 0}, {"max_lag_s", nullptr}, {"last_run_at", nullptr}};
    Timestamp last_run;
    double max_lag = -1;
    for (const auto& [table, row] : tables) {
      json t = {{"table", table}, {"cursor", nullptr}, {"lag_s", nullptr}, {"last_run", nullptr}};
      if (row.cursor) {
        const double lag = (now - row.cursor->position).seconds();
        t["cursor"] = FormatTimestampIso(row.cursor->position);
        t["lag_s"] = lag;
        max_lag = std::max(max_lag, lag);
      }
      if (row.run) {
        t["last_run"] = RunJson(*row.run);
        last_run = std::max(last_run, row.run->finished_at);
        if (row.run->status == RunStatus::kFailed) c["errors"] = c["errors"].get<int>() + 1;
      }
      c["tables"].push_back(std::move(t));
    }
    if (max_lag >= 0) c["max_lag_s"] = max_lag;
    if (last_run.micros() != 0) c["last_run_at"] = FormatTimestampIso(last_run);
    clusters.push_back(std::move(c));
  }
  return json{{"now", FormatTimestampIso(now)}, {"clusters", std::move(clusters)}};
}

}  // namespace fleetlog
