// Hourly roll-ups: per cluster and hour, what the diagnostic dashboards need after raw rows
// expire: query counts, run time percentiles, queue waits, disk-based queries and alerts.
// They live in the lake table `rollup_hourly` (partitions cluster/dt like every table), are
// written through a commit (replace.h), and are kept for [upkeep].rollup_keep (5 years by
// default) while raw rows go after [table.NAME].keep.
// A day is rolled up once all of its inputs are closed (policy.h), so a roll-up is final;
// a purge rebuilds the days it touched. Roll-ups hold aggregates only: no query text, user
// or query ids. A cluster-day is rolled up from its STL tables, or, when it has none (a
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

#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "duck/duck.h"
#include "lake/layout.h"
#include "core/row_batch.h"
#include "state/state_store.h"

namespace fleetlog::upkeep {

const TableSchema& RollupSchema();
// The raw tables the roll-ups are computed from.
const std::vector<std::string>& RollupInputs();
bool IsRollupInput(const std::string& table);

struct RollupReport {
  int days = 0;   // (cluster, dt) roll-ups written
  int64_t hours = 0;
  std::vector<std::string> errors;
};

// Rolls up every (cluster, dt) whose inputs are closed and that has no roll-up yet.
Result<RollupReport> BuildRollups(StateStore& state, const LakeLayout& lake, const Config& config, Timestamp now);

// (Re)computes the roll-up of one (cluster, dt) from the raw rows published now, replacing
// the day's roll-up files in one commit. Returns the number of hours written.
Result<int64_t> RebuildRollupDay(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                 const std::string& cluster, const std::string& dt);

// Whether (cluster, dt) has a published roll-up.
Result<bool> HasRollup(StateStore& state, const std::string& cluster, const std::string& dt);

}  // namespace fleetlog::upkeep
