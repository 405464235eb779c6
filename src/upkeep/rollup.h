// Hourly roll-ups: per cluster and hour, what the diagnostic dashboards need after raw rows
// expire: query counts, run time percentiles, queue waits, disk-based queries and alerts.
// They live in the lake table `rollup_hourly` (partitions cluster/dt like every table), are
// written through a commit (replace.h), and are kept for [upkeep].rollup_keep (5 years by
// default) while raw rows go after [table.NAME].keep.
// An hour is rolled up once it is closed: every input the cluster exports has its receive
// horizon (policy.h: cursor minus lookback) at the hour's end or later, so no row of it can
// still arrive and its roll-up is final. The late column (alerts, whose input has a lookback
// of hours) closes apart: a roll-up covers the other columns of an hour once their inputs
// close it, and fills its alerts once the alerts' input does (NULL until then). A
// cluster-day has one roll-up file, which covers the day's hours before its end mark
// (query/workload_hourly.h, RolledUpUntil: kept in the catalog as the file's max_cursor): the
// whole day once the day is closed; for the open day,
// its closed hours, the file replaced by one covering more as more hours close (its rows kept,
// the new hours computed from the raw files that may hold them, not the whole day again).
// A purge rebuilds the roll-ups of the days it touched, as far as they went. Roll-ups hold
// aggregates only: no query text, user or query ids. A cluster-day is rolled up from its STL tables, or, when it has none (a
// Serverless workgroup, a cluster exported with views = "sys"), from its SYS views:
//   hour TIMESTAMP, queries, aborted, p50_run_s, p95_run_s      (stl_query, by endtime;
//                                                                 sys_query_history by end_time,
//                                                                 failed and canceled as aborted)
//   wlm_queries, p50_queue_s, p95_queue_s, max_queue_s          (stl_wlm_query, total_queue_time;
//                                                                 sys_query_history.queue_time)
//   disk_based_queries                                          (stl_scan: queries with a type 3 scan;
//                                                                 sys_query_detail: spilled blocks)
//   alerts                                                      (stl_alert_event_log; sys_query_detail
//                                                                 steps with an alert, by query end)
// The aggregates are defined once, in query/workload_hourly.h, whose view workload_hourly reads
// these roll-ups for the days they cover and computes the same from raw rows for the others.
// Thread-safety: call from the lake's writer thread; REQUIRES the lake's WriterLock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "duck/duck.h"
#include "lake/layout.h"
#include "query/workload_hourly.h"
#include "core/row_batch.h"
#include "state/state_store.h"

namespace fleetlog::upkeep {

const TableSchema& RollupSchema();
// The raw tables the roll-ups are computed from.
const std::vector<std::string>& RollupInputs();
bool IsRollupInput(const std::string& table);

struct RollupReport {
  int days = 0;       // (cluster, dt) roll-ups completed: the whole day rolled up
  int open_days = 0;  // (cluster, dt) roll-ups written part-way: up to the day's last closed hour
  int64_t hours = 0;  // hours added to roll-ups (hours without any rows are not counted)
  std::vector<std::string> errors;
};

// The end of the closed hours of `cluster` (hour boundaries, at most `now`): the earliest
// receive horizon (policy.h) of the roll-up inputs it exports (Config::TablesOf), or of every
// input when it is no longer configured; `until` over the inputs of every column but the late
// ones, `late_until` over those of the late ones (query/workload_hourly.h), at most `until`.
Result<RollupMarks> ClosedHours(StateStore& state, const Config& config, const std::string& cluster, Timestamp now);

// Rolls up every closed hour of every (cluster, dt) with input rows that its roll-up does not
// cover yet: writes the roll-up of a day without one, extends the roll-up of a day rolled up
// part-way. Days with committed but unpublished input files wait.
Result<RollupReport> BuildRollups(StateStore& state, const LakeLayout& lake, const Config& config, Timestamp now);

// Extends the roll-up of (cluster, dt) to the hours before `until` (hour boundaries in the
// day, or its end; the late columns to until.late_until), replacing its file in one commit:
// its rows, and the hours from its marks on computed from the raw files published now that
// may hold rows there. A day without a roll-up is rolled up from its start. Returns the
// number of hours added.
Result<int64_t> ExtendRollupDay(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                const std::string& cluster, const std::string& dt, RollupMarks until);

// (Re)computes the roll-up of one (cluster, dt) from the raw rows published now, as far as
// its roll-up went (the whole day when it has none), replacing the day's roll-up files in one
// commit. Returns the number of hours written.
Result<int64_t> RebuildRollupDay(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                 const std::string& cluster, const std::string& dt);

// How far the published roll-up of (cluster, dt) goes (RolledUpUntil), if it has one.
Result<std::optional<Timestamp>> RollupEnd(StateStore& state, const std::string& cluster, const std::string& dt);
// Whether (cluster, dt) has a published roll-up of the whole day, late columns included.
Result<bool> HasRollup(StateStore& state, const std::string& cluster, const std::string& dt);

}  // namespace fleetlog::upkeep
