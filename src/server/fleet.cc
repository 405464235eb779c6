#include "server/fleet.h"

#include <algorithm>
#include <map>

#include "query/workload_hourly.h"  // kRollupTable

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

Result<json> FleetOverview(StateStore* state, const std::vector<FleetCluster>& configured, Timestamp now) {
  struct TableRow {
    std::optional<CursorRecord> cursor;
    std::optional<RunRecord> run;
  };
  std::map<std::string, std::map<std::string, TableRow>> fleet;
  std::map<std::string, const FleetCluster*> info;
  std::map<std::string, Timestamp> rolled_up_to;  // the latest end of a cluster's roll-ups (RolledUpUntil)
  for (const auto& c : configured) {
    fleet[c.name];
    info[c.name] = &c;
  }
  if (state != nullptr) {
    ASSIGN_OR_RETURN(auto rollups, state->ListFiles({.table = kRollupTable, .states = {FileState::kPublished}}));
    for (const auto& f : rollups) rolled_up_to[f.cluster] = std::max(rolled_up_to[f.cluster], RolledUpUntil(f));
    ASSIGN_OR_RETURN(auto cursors, state->ListCursors());
    for (auto& c : cursors) fleet[c.cluster][c.table].cursor = std::move(c);
    ASSIGN_OR_RETURN(auto runs, state->LatestRuns());
    for (auto& r : runs)
      if (r.kind == "export") fleet[r.cluster][r.table].run = std::move(r);
    // The roll-ups and anomalies are derived tables, not exports: their cursors are no lag.
    for (auto& [cluster, tables] : fleet) {
      tables.erase(kRollupTable);
      tables.erase("anomalies");
    }
  }
  json clusters = json::array();
  for (const auto& [cluster, tables] : fleet) {
    const auto known = info.find(cluster);
    json c = {{"name", cluster},
              {"kind", known == info.end() ? "" : known->second->kind},
              {"tags", known == info.end() ? std::vector<std::string>{} : known->second->tags},
              {"tables", json::array()},
              {"errors", 0},
              {"max_lag_s", nullptr},
              {"last_run_at", nullptr},
              {"rolled_up_to", nullptr}};
    if (auto r = rolled_up_to.find(cluster); r != rolled_up_to.end()) c["rolled_up_to"] = FormatTimestampIso(r->second);
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

Result<json> RecentRunsJson(StateStore* state, const std::map<std::string, std::string>& query) {
  int limit = 500;
  if (auto l = query.find("limit"); l != query.end()) {
    const std::string& v = l->second;
    limit = v.empty() || v.size() > 4 || !std::all_of(v.begin(), v.end(), ::isdigit) ? 0 : std::stoi(v);
    if (limit < 1 || limit > 5000) return InvalidArgument("limit must be a whole number from 1 to 5000");
  }
  const auto cluster = query.find("cluster");
  json runs = json::array();
  if (state != nullptr) {
    ASSIGN_OR_RETURN(auto recent, state->RecentRuns(limit, cluster == query.end() ? "" : cluster->second));
    for (const auto& r : recent) {
      json j = RunJson(r);
      j["cluster"] = r.cluster;
      j["table"] = r.table;
      j["kind"] = r.kind;
      runs.push_back(std::move(j));
    }
  }
  return json{{"runs", std::move(runs)}};
}

}  // namespace fleetlog
