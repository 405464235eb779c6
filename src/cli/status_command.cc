#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "core/env.h"
#include "exporter/table_health.h"
#include "state/state_store.h"

namespace fleetlog::cli {
namespace {

std::string Ago(std::optional<Duration> d) { return d ? FormatDuration(Duration::Seconds(d->micros() / 1'000'000)) : "-"; }

nlohmann::json HealthJson(const TableHealth& h) {
  nlohmann::json j = {{"cluster", h.cluster}, {"table", h.table}};
  j["cursor"] = h.cursor ? nlohmann::json(FormatTimestampIso(*h.cursor)) : nlohmann::json(nullptr);
  j["lag_seconds"] = h.lag ? nlohmann::json(h.lag->seconds()) : nlohmann::json(nullptr);
  j["last_run"] = nullptr;
  j["last_error"] = nullptr;
  j["failure_streak"] = h.failure_streak;
  if (const auto& r = h.last_run) {
    j["last_run"] = {{"status", r->status == RunStatus::kOk ? "ok" : "failed"},
                     {"finished_at", FormatTimestampIso(r->finished_at)},
                     {"rows_written", r->rows_written},
                     {"rows_read", r->rows_read},
                     {"duration_seconds", (r->finished_at - r->started_at).seconds()}};
    if (!r->error.empty()) j["last_error"] = r->error;
  }
  return j;
}

}  // namespace

CommandAction AddStatus(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    bool json = false;
    std::string max_lag;
  };
  auto opts = std::make_shared<Options>();
  app.add_flag("--json", opts->json, "Print JSON");
  app.add_option("--max-lag", opts->max_lag,
                 "Exit 1 when any table lags more than this (like 30m), naming it on stderr: for cron and Nagios checks");
  return [&global, opts] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    std::optional<Duration> max_lag;
    if (!opts->max_lag.empty()) {
      auto d = ParseDuration(opts->max_lag);
      if (!d.ok()) return Fail(InvalidArgument("--max-lag: {}", d.status().message()));
      max_lag = *d;
    }
    auto state = OpenSqliteStateStore(config->state_path, OpenMode::kReadOnly);
    if (!state.ok() && state.status().code() != StatusCode::kNotFound) return Fail(state.status());
    auto health = ReadTableHealth(state.ok() ? state->get() : nullptr, ExportedTables(*config), Env::Default()->Now());
    if (!health.ok()) return Fail(health.status());

    if (opts->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& h : *health) out.push_back(HealthJson(h));
      std::cout << out.dump(2) << "\n";
    } else {
      std::printf("%-20s %-20s %-20s %10s %-7s %10s %9s  %s\n", "CLUSTER", "TABLE", "CURSOR", "LAG", "LAST", "ROWS",
                  "SECONDS", "ERROR");
      for (const auto& h : *health) {
        const RunRecord* r = h.last_run ? &*h.last_run : nullptr;
        std::printf("%-20s %-20s %-20s %10s %-7s %10lld %9.2f  %s\n", h.cluster.c_str(), h.table.c_str(),
                    h.cursor ? FormatTimestamp(*h.cursor).substr(0, 19).c_str() : "-", Ago(h.lag).c_str(),
                    r ? (r->status == RunStatus::kOk ? "ok" : "FAILED") : "never",
                    static_cast<long long>(r ? r->rows_written : 0), r ? (r->finished_at - r->started_at).seconds() : 0.0,
                    r ? r->error.substr(0, 200).c_str() : "");
      }
    }
    if (!max_lag) return static_cast<int>(kExitOk);
    int problems = 0;
    for (const TableHealth* h : TablesLaggingBeyond(*health, *max_lag)) {
      std::cerr << "fleetlog: " << h->cluster << "/" << h->table << " lags " << Ago(h->lag) << ", more than "
                << FormatDuration(*max_lag) << "\n";
      ++problems;
    }
    for (const auto& h : *health) {
      if (h.cursor) continue;
      std::cerr << "fleetlog: " << h.cluster << "/" << h.table << " has no exported window yet\n";
      ++problems;
    }
    return problems ? static_cast<int>(kExitFailed) : static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
