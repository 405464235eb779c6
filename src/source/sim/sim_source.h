// The simulated Redshift fleet: the `kind = "sim"` Source. Each simulated cluster produces
// the eight STL tables as a real cluster would (same columns, cursors, keys, late rows,
// 200-character text pieces), and the SYS monitoring views of a Serverless workgroup
// (sim_sys_rows.cc: running queries that finish later, usage rows whose charged seconds are
// filled in later, 4000-character text pieces), through the same Source interface as libpq, so the demo and
// the benchmarks drive the real export, commit, lake and query path.
//
// What the data looks like: a daily and weekly load cycle (business-hours dashboards and
// ad-hoc work in the cluster's own time zone, nightly ETL), four WLM service classes with
// queueing that grows with load, log-normal run times, a few queries that run for hours,
// result-cache hits and concurrency-scaled queries, DDL and utility statements, optimizer
// alerts with Redshift's event and solution texts, and statement text from a few characters
// to over 64 KB. Labelled anomalies (see AnomalyLabel) are laid over that.
//
// Determinism: every row is a pure function of (seed, cluster, time). The rows whose cursor
// falls in [a, b) are the same however the window is cut, and the source's clock bounds what
// exists: a row is visible once the work it describes has finished (its query's endtime, or
// for DDL and utility statements their own endtime) at or before Now().
//
// Ids: query and xid increase with start time; they fit the int columns for times between
// 2024 and 2034. At most 320 queries start per cluster and minute (scale beyond ~8 saturates).
//
// Thread-safety: as for every Source, one thread at a time, except Cancel(). The free
// functions are pure and safe everywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "source/source.h"

namespace fleetlog {

struct SimOptions {
  std::string cluster;  // the configured name; part of what the data is a function of
  uint64_t seed = 1;
  double scale = 1.0;   // multiplies the query rate; 1.0 peaks at 300-2000/hour; <= 0 means 1.0
  std::shared_ptr<const Clock> clock;  // Now() of the source; null: the system clock
};

// A simulated cluster. Connect() always succeeds. Read() answers the Redshift tables of both
// families and RunningQueriesSpec()
// (kNotFound for any other name) and refuses custom queries (spec->sql non-empty) with
// kInvalidArgument. Batches hold at most query.batch_rows rows with exactly the spec's
// columns, plus kPartitionColumn for child tables; the sink is not called for an empty result.
std::unique_ptr<Source> MakeSimSource(SimOptions options);

// A known anomaly in the simulated data, for judging detectors.
//   queue_spike        stl_wlm_query.total_queue_time of non-SQA queries rises to minutes
//                      for two hours.
//   count_collapse     the cluster's query rate falls to a few per cent of normal.
//   disk_spill_burst   a large share of queries spill: stl_scan rows of type 3 (row-wise
//                      temporary tables, perm_table_name "Internal Worktable") and
//                      stl_wlm_query.est_peak_mem above the slot's memory.
//   nested_loop_alerts many queries get "Nested Loop Join in the query plan" alerts.
// Placement: each cluster, in each of its weeks (7 days from a minute of the calendar week
// drawn from its seed), has each kind with
// probability 3/4, in a section of the week of its own, at a time drawn from
// (seed, cluster, week, kind). It never depends on the window asked for.
struct AnomalyLabel {
  std::string cluster;
  std::string kind;  // "queue_spike" | "count_collapse" | "disk_spill_burst" | "nested_loop_alerts"
  Timestamp start;   // inclusive
  Timestamp end;     // exclusive
  bool operator==(const AnomalyLabel&) const = default;
};

// The labels of options.cluster that overlap [from, to), ordered by start.
std::vector<AnomalyLabel> SimAnomalyLabels(const SimOptions& options, Timestamp from, Timestamp to);

// "cluster,kind,start,end" then one line per label, times as ISO 8601 UTC.
std::string AnomalyLabelsCsv(const std::vector<AnomalyLabel>& labels);
// Writes AnomalyLabelsCsv(labels) to `path` atomically; kIoError naming the path on failure.
Status WriteAnomalyLabelsCsv(const std::vector<AnomalyLabel>& labels, const std::string& path);

}  // namespace fleetlog
