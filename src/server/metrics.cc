#include "server/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "server/assets.h"

namespace fleetlog {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

bool IsUpkeepKind(const std::string& kind) { return kind != "export" && kind != "detect" && kind != "alert"; }

}  // namespace

void PromText::Family(const std::string& name, const char* type, const std::string& help) {
  name_ = name;
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void PromText::Sample(const Labels& labels, double value) {
  out_ += name_;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i)
      out_ += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, EscapeLabel(labels[i].second));
    out_ += '}';
  }
  out_ += ' ';
  out_ += FormatValue(value);
  out_ += '\n';
}

void HttpRequestCounters::Add(const std::string& route, const std::string& method, int code, double seconds) {
  std::lock_guard lock(mu_);
  auto& [count, total] = counts_[{route, method, code}];
  ++count;
  total += seconds;
}

std::vector<HttpRequestCounters::Row> HttpRequestCounters::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<Row> out;
  for (const auto& [key, value] : counts_)
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), value.first, value.second});
  return out;
}

std::string RouteTemplate(const std::string& path) {
  static const std::set<std::string> kFixed = {
      "/chart.umd.js", "/metrics", "/healthz", "/readyz",
      "/v1/statements", "/v1/statements/batch", "/v1/tables", "/v1/workgroups", "/v1/fleet", "/v1/alerts"};
  if (kFixed.count(path) || IsAssetPath(path)) return path;
  static const std::regex kStatement(R"(/v1/statements/[^/]+(/result|/cancel)?)");
  static const std::regex kTable(R"(/v1/tables/[^/]+)");
  std::smatch m;
  if (std::regex_match(path, m, kStatement)) return "/v1/statements/{id}" + m[1].str();
  if (std::regex_match(path, kTable)) return "/v1/tables/{name}";
  return "other";
}

ProcessStats ReadProcessStats(Env* env) {
  ProcessStats p;
  const long page = sysconf(_SC_PAGESIZE);
  const long ticks = sysconf(_SC_CLK_TCK);
  if (auto statm = env->ReadFile("/proc/self/statm"); statm.ok()) {
    std::istringstream in(*statm);
    int64_t size = 0, resident = 0;
    if (in >> size >> resident) p.resident_bytes = resident * page;
  }
  // /proc/self/stat: fields after the command's closing parenthesis; utime is field 14,
  // stime 15, starttime 22 (clock ticks since boot, whose time /proc/stat's btime gives).
  auto stat = env->ReadFile("/proc/self/stat");
  const size_t close = stat.ok() ? stat->rfind(')') : std::string::npos;
  if (close != std::string::npos) {
    std::istringstream rest(stat->substr(close + 2));
    std::vector<std::string> f;
    for (std::string field; rest >> field;) f.push_back(field);
    if (f.size() > 19) {  // f[0] is field 3
      p.cpu_seconds = static_cast<double>(std::stoll(f[11]) + std::stoll(f[12])) / static_cast<double>(ticks);
      double boot_time = 0;
      if (auto sys = env->ReadFile("/proc/stat"); sys.ok()) {
        std::istringstream in(*sys);
        for (std::string key; in >> key;) {
          if (key == "btime") {
            in >> boot_time;
            break;
          }
          std::getline(in, key);
        }
      }
      p.start_time_seconds = boot_time + static_cast<double>(std::stoll(f[19])) / static_cast<double>(ticks);
    }
  }
  // Descriptors are process state, not files the Env serves: counted with readdir.
  if (DIR* d = opendir("/proc/self/fd")) {
    int64_t n = 0;
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
    p.open_fds = n - 1;  // the directory stream's own descriptor
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) p.max_fds = static_cast<int64_t>(limit.rlim_cur);
  return p;
}

std::string RenderMetrics(const MetricsSnapshot& s) {
  PromText m;
  using L = PromText::Labels;
  auto table_labels = [](const std::string& cluster, const std::string& table) {
    return L{{"cluster", cluster}, {"table", table}};
  };

  m.Family("fleetlog_export_cursor_timestamp_seconds", "gauge", "Export cursor of each table: rows before it are in the lake.");
  for (const auto& t : s.tables)
    if (t.cursor) m.Sample(table_labels(t.cluster, t.table), static_cast<double>(t.cursor->micros()) / 1e6);
  m.Family("fleetlog_export_lag_seconds", "gauge", "How far each table's cursor is behind the source's clock.");
  for (const auto& t : s.tables)
    if (t.lag) m.Sample(table_labels(t.cluster, t.table), t.lag->seconds());
  m.Family("fleetlog_export_consecutive_failures", "gauge", "Failed export runs of each table since its last success.");
  for (const auto& t : s.tables) m.Sample(table_labels(t.cluster, t.table), t.failure_streak);
  m.Family("fleetlog_export_last_run_success", "gauge", "1 when the table's newest export run succeeded, 0 when it failed.");
  for (const auto& t : s.tables)
    if (t.last_run) m.Sample(table_labels(t.cluster, t.table), t.last_run->status == RunStatus::kOk ? 1 : 0);
  m.Family("fleetlog_export_last_run_duration_seconds", "gauge", "Duration of the table's newest export run.");
  for (const auto& t : s.tables)
    if (t.last_run) m.Sample(table_labels(t.cluster, t.table), (t.last_run->finished_at - t.last_run->started_at).seconds());
  m.Family("fleetlog_export_last_run_timestamp_seconds", "gauge", "When the table's newest export run finished.");
  for (const auto& t : s.tables)
    if (t.last_run) m.Sample(table_labels(t.cluster, t.table), static_cast<double>(t.last_run->finished_at.micros()) / 1e6);

  m.Family("fleetlog_runs_total", "counter", "Runs recorded, by kind (export, detect, compact, ...) and status.");
  for (const auto& r : s.run_totals)
    m.Sample({{"cluster", r.cluster}, {"table", r.table}, {"kind", r.kind}, {"status", r.status == RunStatus::kOk ? "ok" : "failed"}},
             static_cast<double>(r.runs));
  // The remaining run counters sum over both statuses.
  std::map<std::tuple<std::string, std::string, std::string>, RunTotals> by_kind;
  for (const auto& r : s.run_totals) {
    auto& sum = by_kind[{r.cluster, r.table, r.kind}];
    sum.rows_written += r.rows_written;
    sum.bytes_written += r.bytes_written;
    sum.duration = sum.duration + r.duration;
  }
  auto kind_labels = [](const auto& key) {
    return L{{"cluster", std::get<0>(key)}, {"table", std::get<1>(key)}, {"kind", std::get<2>(key)}};
  };
  m.Family("fleetlog_run_rows_written_total", "counter", "Rows written to the lake by runs.");
  for (const auto& [key, r] : by_kind) m.Sample(kind_labels(key), static_cast<double>(r.rows_written));
  m.Family("fleetlog_run_bytes_written_total", "counter", "Bytes of Parquet written to the lake by runs.");
  for (const auto& [key, r] : by_kind) m.Sample(kind_labels(key), static_cast<double>(r.bytes_written));
  m.Family("fleetlog_run_duration_seconds_total", "counter", "Time spent in runs.");
  for (const auto& [key, r] : by_kind) m.Sample(kind_labels(key), r.duration.seconds());

  m.Family("fleetlog_upkeep_last_run_success", "gauge", "1 when the newest upkeep run of its kind succeeded.");
  for (const auto& r : s.latest_runs)
    if (IsUpkeepKind(r.kind))
      m.Sample({{"cluster", r.cluster}, {"table", r.table}, {"kind", r.kind}}, r.status == RunStatus::kOk ? 1 : 0);
  m.Family("fleetlog_upkeep_last_run_timestamp_seconds", "gauge", "When the newest upkeep run of its kind finished.");
  for (const auto& r : s.latest_runs)
    if (IsUpkeepKind(r.kind))
      m.Sample({{"cluster", r.cluster}, {"table", r.table}, {"kind", r.kind}}, static_cast<double>(r.finished_at.micros()) / 1e6);

  struct LakeTotals {
    int64_t rows = 0, bytes = 0, files = 0;
  };
  std::map<std::pair<std::string, std::string>, LakeTotals> lake;
  for (const auto& f : s.files) {
    auto& t = lake[{f.cluster, f.table}];
    t.rows += f.rows;
    t.bytes += f.bytes;
    ++t.files;
  }
  m.Family("fleetlog_lake_rows", "gauge", "Rows in the lake's committed files.");
  for (const auto& [key, t] : lake) m.Sample(table_labels(key.first, key.second), static_cast<double>(t.rows));
  m.Family("fleetlog_lake_bytes", "gauge", "Bytes of the lake's committed files.");
  for (const auto& [key, t] : lake) m.Sample(table_labels(key.first, key.second), static_cast<double>(t.bytes));
  m.Family("fleetlog_lake_files", "gauge", "Committed files in the lake.");
  for (const auto& [key, t] : lake) m.Sample(table_labels(key.first, key.second), static_cast<double>(t.files));

  m.Family("fleetlog_anomaly_grade", "gauge", "Anomaly grade (0 normal, 0.5..1 anomalous) of the cluster's latest scored bucket.");
  for (const auto& a : s.anomalies) m.Sample({{"cluster", a.cluster}}, a.grade);
  m.Family("fleetlog_anomaly_score", "gauge", "Surprise (-log10 tail probability) of the cluster's latest scored bucket.");
  for (const auto& a : s.anomalies) m.Sample({{"cluster", a.cluster}}, a.score);
  m.Family("fleetlog_anomaly_bucket_timestamp_seconds", "gauge", "Start of the cluster's latest scored bucket.");
  for (const auto& a : s.anomalies) m.Sample({{"cluster", a.cluster}}, static_cast<double>(a.bucket_start.micros()) / 1e6);

  m.Family("fleetlog_alert_state", "gauge", "Alert instances by rule and state (pending, firing).");
  for (const auto& a : s.alerts)
    m.Sample({{"rule", a.rule}, {"severity", a.severity}, {"state", a.state}}, static_cast<double>(a.instances));
  m.Family("fleetlog_alert_rule_broken", "gauge", "1 when the rule's last evaluation failed (its SQL or source).");
  for (const auto& r : s.rules)
    m.Sample({{"rule", r}}, std::find(s.broken_rules.begin(), s.broken_rules.end(), r) != s.broken_rules.end() ? 1 : 0);

  m.Family("fleetlog_workgroup_queued", "gauge", "Statements waiting in the workgroup's queue.");
  for (const auto& [config, c] : s.workgroups) m.Sample({{"workgroup", config.name}}, static_cast<double>(c.queued));
  m.Family("fleetlog_workgroup_running", "gauge", "Statements running in the workgroup.");
  for (const auto& [config, c] : s.workgroups) m.Sample({{"workgroup", config.name}}, static_cast<double>(c.running));
  m.Family("fleetlog_workgroup_statements_total", "counter", "Statements by outcome; rejected ones found the queue full.");
  for (const auto& [config, c] : s.workgroups) {
    for (const auto& [outcome, n] : {std::pair{"finished", c.finished}, std::pair{"failed", c.failed},
                                     std::pair{"aborted", c.aborted}, std::pair{"rejected", c.rejected}})
      m.Sample({{"workgroup", config.name}, {"outcome", outcome}}, static_cast<double>(n));
  }
  m.Family("fleetlog_workgroup_keep_failures_total", "counter",
           "Copies a query worker could not keep in memory (its view then reads the files); the log says why.");
  for (const auto& [config, c] : s.workgroups)
    m.Sample({{"workgroup", config.name}}, static_cast<double>(c.keep_failures));
  m.Family("fleetlog_workgroup_worker_warmups_total", "counter",
           "Query workers made ready over a new lake snapshot before a statement asked for one.");
  for (const auto& [config, c] : s.workgroups) m.Sample({{"workgroup", config.name}}, static_cast<double>(c.warm_ups));

  m.Family("fleetlog_http_requests_total", "counter", "HTTP requests served, by route, method and status code.");
  for (const auto& r : s.http)
    m.Sample({{"route", r.route}, {"method", r.method}, {"code", std::to_string(r.code)}}, static_cast<double>(r.count));
  m.Family("fleetlog_http_request_duration_seconds_total", "counter", "Time spent serving HTTP requests, by route.");
  std::map<std::string, double> seconds_by_route;
  for (const auto& r : s.http) seconds_by_route[r.route] += r.seconds;
  for (const auto& [route, secs] : seconds_by_route) m.Sample({{"route", route}}, secs);

  m.Family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  m.Sample({}, static_cast<double>(s.process.resident_bytes));
  m.Family("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
  m.Sample({}, s.process.cpu_seconds);
  m.Family("process_open_fds", "gauge", "Number of open file descriptors.");
  m.Sample({}, static_cast<double>(s.process.open_fds));
  m.Family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
  m.Sample({}, static_cast<double>(s.process.max_fds));
  m.Family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
  m.Sample({}, s.process.start_time_seconds);

  m.Family("fleetlog_scrape_error", "gauge", "1 for each part of this scrape that could not be read (see the log).");
  for (const auto& e : s.scrape_errors) m.Sample({{"source", e}}, 1);
  return m.text();
}

}  // namespace fleetlog
