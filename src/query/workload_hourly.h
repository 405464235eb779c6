// The hourly workload of each cluster, defined once: the aggregates the roll-ups store
// (upkeep/rollup.h writes them per cluster-day into `rollup_hourly`: a closed day whole, the
// open day up to the end of its last closed hour) and the view `workload_hourly` that answers
// them for any range: from the roll-up for the hours it covers, and from the raw rows for the
// rest (the hours of the open day not rolled up yet, days without a roll-up). Both paths run
// the same SQL (HourlyPartsSql, CombineHourlySql) over a day's raw rows, so the view's answer
// is the one the raw rows give, whichever path an hour takes.
//
// One row per cluster and hour (by the end of the query, of its WLM row, of its scan step, of
// the alert event; hours nest in the `dt` partitions, which are the UTC days of those times):
//   hour, queries, aborted, p50_run_s, p95_run_s           stl_query; sys_query_history
//   wlm_queries, p50_queue_s, p95_queue_s, max_queue_s     stl_wlm_query; sys_query_history.queue_time
//   disk_based_queries                                     stl_scan type 3; sys_query_detail spills
//   alerts                                                 stl_alert_event_log; sys_query_detail alerts
//   dt, source ('rollup' or 'raw': which path answered the row's day)
// Percentiles are quantile_cont (interpolated) on both paths. A cluster-day is computed from
// one family: STL when it has files of any STL input, else SYS (Serverless workgroups,
// views = "sys"), so a cluster exporting both counts each query once.
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/row_batch.h"
#include "state/state_store.h"

namespace fleetlog {

// The lake table of hourly roll-ups, and the view over roll-ups and raw rows.
inline constexpr const char* kRollupTable = "rollup_hourly";
inline constexpr const char* kWorkloadView = "workload_hourly";
// Where a long-lived engine keeps the view's raw rows (WorkloadRawRowsSql), and the rows of
// the roll-ups it keeps (WorkloadRollupRowsSql), in memory.
inline constexpr const char* kWorkloadRawTable = "workload_hourly_raw_rows";
inline constexpr const char* kWorkloadRollupRowsTable = "workload_hourly_rollup_rows";

// The aggregate columns, in order, after `hour`: the roll-up table's schema.
const TableSchema& HourlySchema();
// The raw tables the aggregates read, of both families.
const std::vector<std::string>& HourlyInputs();
bool IsHourlyInput(const std::string& table);

// The column of `table` (an input) whose hour its rows count in, or null when the hour is
// that of another table's row (sys_query_detail: its query's end in sys_query_history).
const char* HourlyTimeColumn(const std::string& table);
// Whether every row of the raw file `f` counts in hours before `t`: its cursor range bounds
// the time an hour is counted by (an input's time column, or its parent query's end).
bool CountsOnlyBefore(const CommittedFile& f, Timestamp t);
// `relation` (rows of the input `table`) without its rows that count in hours before `t`,
// left out as they are read (files are sorted by time, so row groups' statistics skip them);
// `relation` itself for a table without a time column of its own.
std::string RowsFrom(const std::string& relation, const std::string& table, Timestamp t);

// SQL for one family's hourly aggregates, part by part: one row per key and hour from each
// part (an input's share of the columns: the queries, their queue waits, disk-based queries,
// alerts), with the part's columns, `late` (whether they are late columns) and NULL for the
// rest, unordered. `relation(table)` is a relation over the rows to aggregate (a
// read_parquet(...) call or a parenthesised SELECT), or empty when there are none of that
// table. by_cluster_day = false: the rows are one cluster-day's, without `cluster` and `dt`,
// and the key is `hour`; by_cluster_day = true: the rows carry `cluster` and `dt`, the key is
// (cluster, dt, hour) and the result has them first.
std::string HourlyPartsSql(ViewFamily family, const std::function<std::string(const std::string& table)>& relation,
                           bool by_cluster_day);
// The parts of `parts` (HourlyPartsSql, or rows of HourlySchema() with `late` = false)
// combined into one row per key and hour, with HourlySchema()'s columns after `by` and hour:
// `by` is "" or "cluster, dt, ". `late_until`, when given, is the end of the hours whose late
// columns are known (NULL from there on); else a late column without rows is 0. `extra`: more
// aggregates for the select list (", min(x) AS y").
std::string CombineHourlySql(const std::string& parts, const std::string& by, std::optional<Timestamp> late_until = {},
                             const std::string& extra = "");

// The end of the hours a roll-up file covers (an hour boundary): the file holds the hours of
// its day before it. Its max_cursor records it, as that instant minus 1 µs: the end of the
// day for a closed day, the end of the last closed hour for a day rolled up part-way. A file
// without one (or of a day that does not parse) covers its whole day.
Timestamp RolledUpUntil(const CommittedFile& rollup);

// `alerts` is a late column: stl_alert_event_log times an alert by its query's start, so its
// rows arrive hours late (a lookback of 6 hours) and its hours close long after those of the
// other inputs. A roll-up does not wait for them: it covers the other columns to
// RolledUpUntil, and `alerts` to an earlier mark (late_until below), NULL in the rows from
// there on. The catalog keeps that mark in the file's ranges under kLateHoursKey (as the
// range [mark, mark]; a key no column can have), so it travels with the file through the
// journal, a restore and the query workers. A file without it (written before fleetlog
// recorded it, or whose late column reaches RolledUpUntil) has its late column to RolledUpUntil.
inline constexpr const char* kLateHoursKey = "alerts/final";
// Whether `table` is an input of the late parts (the alerts), of the others, or both.
bool IsLateHourlyInput(const std::string& table);
bool IsPromptHourlyInput(const std::string& table);

// How far one cluster-day is rolled up.
struct RollupMarks {
  Timestamp until;       // every column but the late ones: RolledUpUntil
  Timestamp late_until;  // the late columns; <= until
  // The earliest of the marks of the parts that read `table`: its rows from there on count.
  Timestamp For(const std::string& table) const;
  bool operator==(const RollupMarks&) const = default;
};
// The marks of one roll-up file.
RollupMarks RolledUpMarks(const CommittedFile& rollup);

// Which files workload_hourly reads at one snapshot: every roll-up file, and the raw files
// of the cluster-days without a roll-up, per family and input table; of a day rolled up
// part-way, only its raw files that may hold rows from the roll-up's end on (the inputs'
// files record the range of the time their rows are counted by, query/workload_hourly.cc).
struct WorkloadRoute {
  using Day = std::pair<std::string, std::string>;  // cluster, dt
  std::vector<const CommittedFile*> rollups;
  std::map<std::string, std::vector<const CommittedFile*>> stl;  // input table -> files
  std::map<std::string, std::vector<const CommittedFile*>> sys;
  std::map<Day, RollupMarks> partial;  // days rolled up part-way: where raw rows take over
  bool empty() const { return rollups.empty() && stl.empty() && sys.empty(); }
  std::vector<const CommittedFile*> files() const;
};
// `files` are the published files of a snapshot (any tables); the route points into it.
WorkloadRoute RouteWorkload(const std::vector<CommittedFile>& files);

// The view's rows read from raw files (the hours no roll-up covers): a SELECT of one row per
// part, key and hour (HourlyPartsSql's columns with `cluster`, `dt`, `late`, and `source` =
// 'raw'), or "" when `route` has no raw files. `files_relation` as for WorkloadViewSql.
// These are the view's costly rows: the open day has a file per cluster and input at least,
// while its roll-ups are one file per cluster-day. A long-lived engine computes them once
// and keeps them (QueryEngine, query/engine.h).
std::string WorkloadRawRowsSql(const WorkloadRoute& route,
                               const std::function<std::string(const std::vector<const CommittedFile*>&)>& files_relation);

// The roll-ups a long-lived engine keeps in memory, of the newest days first: as many of
// `route`'s roll-up files as hold at most `max_rows` rows together, taken day by day (every
// file of a day, or none), newest first, so that the questions of recent weeks, the usual
// ones, read no file. The older days' roll-ups stay in their files.
std::vector<const CommittedFile*> NewestRollups(const WorkloadRoute& route, int64_t max_rows);
// The rows of the roll-up files `rollups` as the view combines them: a SELECT.
std::string WorkloadRollupRowsSql(
    const std::vector<const CommittedFile*>& rollups,
    const std::function<std::string(const std::vector<const CommittedFile*>&)>& files_relation);

// Roll-up rows a long-lived engine kept in a table (WorkloadRollupRowsSql's), and of which files.
struct KeptRollups {
  std::string table;
  std::set<const CommittedFile*> files;
};

// "CREATE OR REPLACE VIEW workload_hourly AS ..." over `route`, with `files_relation(files)`
// a parenthesised SELECT over those files carrying `cluster` and `dt` (the engine's), or the
// view of an empty relation when the route is empty. `raw_rows` is a relation of
// WorkloadRawRowsSql's rows: that SELECT in parentheses, or a table they were kept in; empty
// when the route has no raw files. `kept`: roll-ups whose rows are read from its table, not
// from their files.
std::string WorkloadViewSql(const WorkloadRoute& route,
                            const std::function<std::string(const std::vector<const CommittedFile*>&)>& files_relation,
                            const std::string& raw_rows, const KeptRollups& kept = {});

}  // namespace fleetlog
