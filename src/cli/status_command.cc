#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/env.h"
#include "source/table_spec.h"
#include "state/state_store.h"

namespace fleetlog::cli {
namespace {

struct Row {
  std::string cluster, table;
  std::optional<Timestamp> cursor;
  std::optional<Duration> lag;
  const RunRecord* last = nullptr;
};

std::string Ago(std::optional<Duration> d) { return d ? FormatDuration(Duration::Seconds(d->micros() / 1'000'000)) : "-"; }

}  // namespace

CommandAction AddStatus(CLI::App& app, const GlobalOptions& global) {
  auto json = std::make_shared<bool>(false);
  app.add_flag("--json", *json, "Print JSON");
  return [&global, json] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    auto state = OpenSqliteStateStore(config->state_path, OpenMode::kReadOnly);
    std::vector<CursorRecord> cursors;
    std::vector<RunRecord> runs;
    if (state.ok()) {
      auto c = (*state)->ListCursors();
      auto r = (*state)->LatestRuns();
      if (!c.ok()) return Fail(c.status());
      if (!r.ok()) return Fail(r.status());
      cursors = std::move(c).value();
      runs = std::move(r).value();
    } else if (state.status().code() != StatusCode::kNotFound) {
      return Fail(state.status());
    }
    const Timestamp now = Env::Default()->Now();
    std::vector<Row> rows;
    for (const auto& cluster : config->clusters) {
      for (const auto& spec : TableSpecsFor(*config, cluster)) {
        Row row{.cluster = cluster.name, .table = spec.name};
        for (const auto& c : cursors)
          if (c.cluster == cluster.name && c.table == spec.name) row.cursor = c.position;
        for (const auto& r : runs)
          if (r.cluster == cluster.name && r.table == spec.name && r.kind == "export") row.last = &r;
        if (row.cursor) {
          // Lag behind the source's clock: our clock, shifted by the offset the last run saw.
          Duration offset;
          if (row.last && row.last->source_now) offset = *row.last->source_now - row.last->started_at;
          row.lag = (now + offset) - *row.cursor;
        }
        rows.push_back(row);
      }
    }
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : rows) {
        nlohmann::json j = {{"cluster", r.cluster}, {"table", r.table}};
        j["cursor"] = r.cursor ? nlohmann::json(FormatTimestampIso(*r.cursor)) : nlohmann::json(nullptr);
        j["lag_seconds"] = r.lag ? nlohmann::json(r.lag->seconds()) : nlohmann::json(nullptr);
        if (r.last) {
          j["last_run"] = {{"status", r.last->status == RunStatus::kOk ? "ok" : "failed"},
                           {"finished_at", FormatTimestampIso(r.last->finished_at)},
                           {"rows_written", r.last->rows_written},
                           {"rows_read", r.last->rows_read},
                           {"duration_seconds", (r.last->finished_at - r.last->started_at).seconds()}};
          j["last_error"] = r.last->error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.last->error);
        } else {
          j["last_run"] = nullptr;
          j["last_error"] = nullptr;
        }
        out.push_back(j);
      }
      std::cout << out.dump(2) << "\n";
      return static_cast<int>(kExitOk);
    }
    std::printf("%-20s %-20s %-20s %10s %-7s %10s %9s  %s\n", "CLUSTER", "TABLE", "CURSOR", "LAG", "LAST", "ROWS",
                "SECONDS", "ERROR");
    for (const auto& r : rows) {
      std::printf("%-20s %-20s %-20s %10s %-7s %10lld %9.2f  %s\n", r.cluster.c_str(), r.table.c_str(),
                  r.cursor ? FormatTimestamp(*r.cursor).substr(0, 19).c_str() : "-", Ago(r.lag).c_str(),
                  r.last ? (r.last->status == RunStatus::kOk ? "ok" : "FAILED") : "never",
                  static_cast<long long>(r.last ? r.last->rows_written : 0),
                  r.last ? (r.last->finished_at - r.last->started_at).seconds() : 0.0,
                  r.last ? r.last->error.substr(0, 200).c_str() : "");
    }
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
