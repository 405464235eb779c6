// GET /metrics: fleetlog's own state in the Prometheus text exposition format (0.0.4).
//
// Everything is read at scrape time from plain data: the state store (cursors, runs, files,
// the detector's latest grade and the alert states) and the live counters of the serving
// process (workgroups, HTTP requests, the process itself). So `serve` beside a `run` shows
// the same export figures as the `run` process.
//
//   fleetlog_export_cursor_timestamp_seconds{cluster,table}   gauge
//   fleetlog_export_lag_seconds{cluster,table}                gauge (absent before the first window)
//   fleetlog_export_consecutive_failures{cluster,table}       gauge
//   fleetlog_export_last_run_success{cluster,table}           gauge 1/0
//   fleetlog_export_last_run_duration_seconds{cluster,table}  gauge
//   fleetlog_export_last_run_timestamp_seconds{cluster,table} gauge
//   fleetlog_runs_total{cluster,table,kind,status}            counter (export, detect, compact, ...)
//   fleetlog_run_rows_written_total{cluster,table,kind}       counter
//   fleetlog_run_bytes_written_total{cluster,table,kind}      counter
//   fleetlog_run_duration_seconds_total{cluster,table,kind}   counter
//   fleetlog_upkeep_last_run_success{cluster,table,kind}      gauge, the latest upkeep run of each kind
//   fleetlog_upkeep_last_run_timestamp_seconds{...}           gauge
//   fleetlog_lake_rows{cluster,table}, fleetlog_lake_bytes{cluster,table}, fleetlog_lake_files{...}
//   fleetlog_anomaly_grade{cluster}, fleetlog_anomaly_score{cluster}   latest scored bucket
//   fleetlog_alert_state{rule,severity,state}                 gauge: instances per state
//   fleetlog_alert_rule_broken{rule}                          gauge 1 when the rule's source failed
//   fleetlog_workgroup_queued / _running{workgroup}           gauge
//   fleetlog_workgroup_statements_total{workgroup,outcome}    counter (finished, failed, aborted, rejected)
//   fleetlog_workgroup_keep_failures_total{workgroup}         counter (copies not kept in memory)
//   fleetlog_workgroup_worker_warmups_total{workgroup}        counter (workers made ready after a commit)
//   fleetlog_http_requests_total{route,method,code}           counter
//   fleetlog_http_request_duration_seconds_total{route}       counter
//   process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds,
//   process_max_fds, process_start_time_seconds               (the names Prometheus' clients use)
//   fleetlog_scrape_error{source}                             1 when a part could not be read
//
// Thread-safety: HttpRequestCounters is safe for concurrent use; the rest are pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/time.h"
#include "exporter/table_health.h"
#include "server/workgroups.h"
#include "state/state_store.h"

namespace fleetlog {

// Writes the exposition format: a family's HELP and TYPE once, then its samples.
// Thread-safety: not thread-safe; one owner.
class PromText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  // Starts a family. `type` is "gauge" or "counter".
  void Family(const std::string& name, const char* type, const std::string& help);
  // A sample of the current family (name may add a suffix such as _total already in it).
  void Sample(const Labels& labels, double value);
  const std::string& text() const { return out_; }

 private:
  std::string out_;
  std::string name_;
};

// Requests served, by route template (e.g. "/v1/statements/{id}"), method and status code.
class HttpRequestCounters {
 public:
  void Add(const std::string& route, const std::string& method, int code, double seconds);
  struct Row {
    std::string route, method;
    int code = 0;
    int64_t count = 0;
    double seconds = 0;
  };
  std::vector<Row> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::pair<int64_t, double>> counts_;  // GUARDED_BY(mu_)
};

// The route template of a request path: ids and names become {id} and {name}, unknown
// paths "other", so the label's values stay few.
std::string RouteTemplate(const std::string& path);

struct ProcessStats {
  int64_t resident_bytes = 0;
  double cpu_seconds = 0;
  int64_t open_fds = 0;
  int64_t max_fds = 0;
  double start_time_seconds = 0;  // Unix time
};
// From /proc/self through `env`; fields it cannot read stay 0.
ProcessStats ReadProcessStats(Env* env);

struct AnomalyLatest {
  std::string cluster;
  Timestamp bucket_start;
  double score = 0, grade = 0;
  std::string attribution;
};

struct AlertStateCount {
  std::string rule, severity, state;  // state: pending | firing
  int64_t instances = 0;
};

struct MetricsSnapshot {
  std::vector<TableHealth> tables;
  std::vector<RunTotals> run_totals;
  std::vector<RunRecord> latest_runs;  // of every kind; upkeep kinds are the non-export, non-detect ones
  std::vector<CommittedFile> files;     // committed and published
  std::vector<AnomalyLatest> anomalies;
  std::vector<AlertStateCount> alerts;
  std::vector<std::string> rules, broken_rules;
  std::vector<std::pair<WorkgroupConfig, WorkgroupCounters>> workgroups;
  std::vector<HttpRequestCounters::Row> http;
  ProcessStats process;
  std::vector<std::string> scrape_errors;  // parts that could not be read
};

std::string RenderMetrics(const MetricsSnapshot& snapshot);

}  // namespace fleetlog
