#include "server/observability.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "alert/alert_store.h"
#include "core/env.h"
#include "detect/fleet_detector.h"
#include "query/engine.h"

namespace fleetlog {
namespace {

using nlohmann::json;

HttpResponse Answer(int status, const std::string& content_type, std::string body) {
  HttpResponse res;
  res.status = status;
  res.set_content(std::move(body), content_type);
  return res;
}

HttpResponse Json(int status, const json& body) {
  return Answer(status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace));
}

constexpr const char* kText = "text/plain; charset=utf-8";

// Runs `sql` over the lake; rows as JSON objects of text values. Empty when the table has no files yet.
Result<json> LakeRows(StateStore* state, const std::string& lake_root, const std::string& table, const std::string& sql) {
  json rows = json::array();
  if (!state) return rows;
  ASSIGN_OR_RETURN(auto engine, QueryEngine::Open({.lake_root = lake_root, .memory_limit_bytes = 256LL << 20, .threads = 1,
                                                   .views_for_sql = sql}, state));
  if (std::none_of(engine->tables().begin(), engine->tables().end(), [&](const auto& t) { return t.name == table; }))
    return rows;
  ASSIGN_OR_RETURN(duck::QueryResult r, engine->Run(sql));
  for (size_t row = 0; row < r.row_count(); ++row) {
    json j;
    for (size_t c = 0; c < r.column_count(); ++c)
      j[r.column_name(c)] = r.is_null(c, row) ? json(nullptr) : json(r.text(c, row));
    rows.push_back(std::move(j));
  }
  return rows;
}

}  // namespace

MetricsSnapshot CollectMetrics(StateStore* state, const std::vector<TableRef>& tables,
                               const std::map<std::string, std::string>& rules, Timestamp now) {
  MetricsSnapshot s;
  for (const auto& [rule, severity] : rules) s.rules.push_back(rule);
  s.process = ReadProcessStats(Env::Default());
  auto note = [&](const char* part, const Status& status) {
    if (!status.ok()) s.scrape_errors.push_back(part);
  };
  auto health = ReadTableHealth(state, tables, now);
  note("export_health", health.status());
  if (health.ok()) s.tables = std::move(health).value();
  if (!state) return s;
  auto totals = state->ListRunTotals();
  note("runs", totals.status());
  if (totals.ok()) s.run_totals = std::move(totals).value();
  auto latest = state->LatestRuns();
  note("runs", latest.status());
  if (latest.ok()) s.latest_runs = std::move(latest).value();
  auto files = state->ListFiles({.states = {FileState::kCommitted, FileState::kPublished}});
  note("files", files.status());
  if (files.ok()) s.files = std::move(files).value();

  auto keys = state->ListKeys(detect::kLatestBucketKeyPrefix);
  note("anomalies", keys.status());
  for (const std::string& key : keys.ok() ? *keys : std::vector<std::string>()) {
    auto value = state->GetValue(key);
    if (!value.ok() || !*value) continue;
    try {
      const json j = json::parse(**value);
      s.anomalies.push_back({.cluster = key.substr(std::string_view(detect::kLatestBucketKeyPrefix).size()),
                             .bucket_start = Timestamp::FromMicros(j.value("bucket_start", int64_t{0})),
                             .score = j.value("score", 0.0), .grade = j.value("grade", 0.0),
                             .attribution = j.value("attribution", "")});
    } catch (const std::exception&) {
      s.scrape_errors.push_back("anomalies");
    }
  }

  auto book = alert::LoadBook(*state);
  note("alerts", book.status());
  if (book.ok()) {
    std::map<std::tuple<std::string, std::string, std::string>, int64_t> counts;
    for (const auto& i : book->instances) {
      if (i.state == alert::InstanceState::kInactive) continue;
      auto rule = rules.find(i.rule);
      counts[{i.rule, rule == rules.end() ? "" : rule->second, alert::InstanceStateName(i.state)}]++;
    }
    for (const auto& [key, n] : counts)
      s.alerts.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), n});
    for (const auto& [rule, why] : book->broken) s.broken_rules.push_back(rule);
  }
  return s;
}

HttpResponse MetricsAnswer(const MetricsSnapshot& snapshot) {
  return Answer(200, "text/plain; version=0.0.4; charset=utf-8", RenderMetrics(snapshot));
}

HttpResponse HealthzAnswer() { return Answer(200, kText, "ok\n"); }

HttpResponse ReadyzAnswer(StateStore* state, const std::vector<TableRef>& tables, Duration max_lag, Timestamp now) {
  auto health = ReadTableHealth(state, tables, now);
  if (!health.ok())
    return Answer(503, kText, "not ready: cannot read the state store: " + health.status().message() + "\n");
  std::string problems;
  for (const TableHealth* h : TablesLaggingBeyond(*health, max_lag))
    problems += fmt::format("{}/{} lags {}, more than {}\n", h->cluster, h->table,
                            FormatDuration(Duration::Seconds(h->lag->micros() / 1'000'000)), FormatDuration(max_lag));
  for (const TableHealth& h : *health)
    if (!h.cursor) problems += fmt::format("{}/{} has no exported window yet\n", h.cluster, h.table);
  if (!problems.empty()) return Answer(503, kText, "not ready:\n" + problems);
  return Answer(200, kText, fmt::format("ready: {} tables within {}\n", health->size(), FormatDuration(max_lag)));
}

HttpResponse AlertsAnswer(StateStore* state, const std::string& lake_root, const HttpRequest& request) {
  int history = 100;
  if (auto it = request.params.find("history"); it != request.params.end()) {
    const std::string& h = it->second;
    if (h.size() > 5 || !std::all_of(h.begin(), h.end(), ::isdigit))
      return Json(400, {{"error", "history must be a whole number up to 99999"}, {"code", "kInvalidArgument"}});
    history = std::stoi(h);
  }
  json out = {{"alerts", json::array()}, {"broken_rules", json::array()}, {"silences", json::array()},
              {"events", json::array()}, {"deliveries", json::array()}, {"anomalies", json::array()}};
  if (!state) return Json(200, out);
  auto book = alert::LoadBook(*state);
  if (!book.ok()) return Json(500, {{"error", book.status().message()}, {"code", "kCorruption"}});
  for (const auto& i : book->instances) {
    if (i.state == alert::InstanceState::kInactive) continue;
    out["alerts"].push_back({{"rule", i.rule}, {"state", alert::InstanceStateName(i.state)}, {"labels", i.labels},
                             {"value", i.value}, {"annotations", i.annotations},
                             {"active_since", FormatTimestampIso(i.active_since)},
                             {"fired_at", i.state == alert::InstanceState::kFiring ? json(FormatTimestampIso(i.fired_at)) : json(nullptr)}});
  }
  for (const auto& [rule, why] : book->broken) out["broken_rules"].push_back({{"rule", rule}, {"error", why}});
  if (auto silences = alert::LoadSilences(*state); silences.ok()) {
    const Timestamp now = Env::Default()->Now();
    for (const auto& s : *silences)
      if (s.expires_at > now)
        out["silences"].push_back({{"id", s.id}, {"rule", s.rule}, {"matchers", s.matchers},
                                   {"expires_at", FormatTimestampIso(s.expires_at)}, {"comment", s.comment}});
  }
  if (auto deliveries = alert::LoadDeliveries(*state); deliveries.ok()) {
    for (auto it = deliveries->rbegin(); it != deliveries->rend() && out["deliveries"].size() < 50; ++it)
      out["deliveries"].push_back({{"receiver", it->receiver}, {"rule", it->rule}, {"labels", it->labels},
                                   {"kind", it->kind}, {"at", FormatTimestampIso(it->at)}, {"attempt", it->attempt},
                                   {"sent", it->sent}, {"error", it->error}});
  }
  if (history == 0) return Json(200, out);  // alert states only: the lake is not read
  auto events = LakeRows(state, lake_root, alert::kAlertEventsTable,
                         fmt::format("SELECT CAST(event_time AS VARCHAR) AS time, rule, kind, severity, labels, value, summary, "
                                     "cluster FROM alert_events ORDER BY event_time DESC LIMIT {}", history));
  if (events.ok()) out["events"] = std::move(events).value();
  else out["events_error"] = events.status().message();
  auto anomalies = LakeRows(state, lake_root, detect::kAnomaliesTable,
                            fmt::format("SELECT cluster, CAST(bucket_start AS VARCHAR) AS bucket_start, grade, score, attribution "
                                        "FROM anomalies WHERE grade > 0 ORDER BY bucket_start DESC LIMIT {}", history));
  if (anomalies.ok()) out["anomalies"] = std::move(anomalies).value();
  else out["anomalies_error"] = anomalies.status().message();
  return Json(200, out);
}

}  // namespace fleetlog
