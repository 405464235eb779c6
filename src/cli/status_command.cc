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

// Table and CSV: one line per (cluster, table); the table shows the lag as a duration, CSV
// in seconds.
Grid StatusGrid(const std::vector<TableHealth>& health, bool for_people) {
  Grid grid;
  grid.columns = {{"cluster"}, {"table"}, {"cursor"}, {for_people ? "lag" : "lag_seconds", !for_people},
                  {"last_run"}, {"rows_written", true}, {"duration_seconds", true}, {"last_error"}};
  for (const auto& h : health) {
    std::optional<std::string> cursor, lag, last, written, seconds, error;
    if (h.cursor) cursor = for_people ? FormatTimestamp(*h.cursor).substr(0, 19) : FormatTimestampIso(*h.cursor);
    if (h.lag) lag = for_people ? Ago(h.lag) : std::to_string(h.lag->micros() / 1'000'000);
    if (const auto& r = h.last_run) {
      last = r->status == RunStatus::kOk ? "ok" : "FAILED";
      written = std::to_string(r->rows_written);
      seconds = fmt::format("{:.2f}", (r->finished_at - r->started_at).seconds());
      if (!r->error.empty()) error = for_people ? r->error.substr(0, 200) : r->error;
    } else {
      last = "never";
    }
    grid.rows.push_back({h.cluster, h.table, cursor, lag, last, written, seconds, error});
  }
  return grid;
}

// --max-lag: names every table lagging more than `max_lag`, or never exported, on stderr.
int CheckLag(const std::vector<TableHealth>& health, Duration max_lag) {
  int problems = 0;
  for (const TableHealth* h : TablesLaggingBeyond(health, max_lag)) {
    std::cerr << "fleetlog: " << h->cluster << "/" << h->table << " lags " << Ago(h->lag) << ", more than "
              << FormatDuration(max_lag) << "\n";
    ++problems;
  }
  for (const auto& h : health) {
    if (h.cursor) continue;
    std::cerr << "fleetlog: " << h.cluster << "/" << h.table << " has no exported window yet\n";
    ++problems;
  }
  return problems ? static_cast<int>(kExitFailed) : static_cast<int>(kExitOk);
}

}  // namespace

CommandAction AddStatus(CLI::App& app, const GlobalOptions& global) {
  auto output = std::make_shared<OutputFlags>();
  AddOutputFlags(app, output.get(), /*json_alias=*/true);
  auto max_lag_text = std::make_shared<std::string>();
  app.add_option("--max-lag", *max_lag_text,
                 "Exit 1 when any table lags more than this (like 30m), naming it on stderr: for cron and Nagios checks");
  return [&global, output, max_lag_text] {
    const OutputFormat format = output->Resolve(OutputFormat::kTable);
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    std::optional<Duration> max_lag;
    if (!max_lag_text->empty()) {
      auto d = ParseDuration(*max_lag_text);
      if (!d.ok()) return Fail(InvalidArgument("--max-lag: {}", d.status().message()));
      max_lag = *d;
    }
    auto state = OpenSqliteStateStore(config->state_path, OpenMode::kReadOnly);
    if (!state.ok() && state.status().code() != StatusCode::kNotFound) return Fail(state.status());
    const std::string reserve_path = StateStoreReservePath(config->state_path);
    if (auto reserve = Env::Default()->FileExists(reserve_path); state.ok() && reserve.ok() && !*reserve)
      std::cerr << "fleetlog: warning: the state store's reserve " << reserve_path
                << " is used up: the disk holding it filled up, and failures since may be missing "
                   "below; free space on that disk (the next run makes the reserve again)\n";
    auto health = ReadTableHealth(state.ok() ? state->get() : nullptr, ExportedTables(*config), Env::Default()->Now());
    if (!health.ok()) return Fail(health.status());

    if (format == OutputFormat::kJson) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& h : *health) out.push_back(HealthJson(h));
      std::cout << out.dump(2) << "\n";
    } else {
      WriteGrid(StatusGrid(*health, format == OutputFormat::kTable), format, std::cout, output->format_options());
    }
    return max_lag ? CheckLag(*health, *max_lag) : static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
