// Workload metrics of one cluster per time bucket, computed from the lake: what the fleet
// detector scores. A bucket is [start, start + bucket), aligned to the Unix epoch (UTC).
// A cluster's metrics come from one family of tables (MetricFamilyOf): its STL tables, or,
// for Serverless workgroups and clusters exported with views = "sys", its SYS views; a
// cluster exporting both reads STL, so no query counts twice. The same workload gives the
// same values from either family.
//
//   query_count         queries whose end falls in the bucket: stl_query rows by endtime;
//                       sys_query_history rows (finished ones only) by end_time
//   p95_runtime_s       95th percentile of their run time, seconds (0: none): STL endtime -
//                       starttime; SYS elapsed_time
//   queue_wait_s        seconds queued: sum of stl_wlm_query.total_queue_time by
//                       service_class_end_time; SYS: sum of the bucket's queries' queue_time
//   disk_based_queries  queries of the bucket that spilled to disk. STL: an stl_scan step of
//                       type 3, a scan of a row-wise temporary table: how Redshift reads back
//                       intermediate results it wrote to disk. An approximation: Redshift's
//                       own is_diskbased flag (svl_query_summary) is not exported, and a query
//                       can scan a temporary table without spilling. The demo fleet writes
//                       such a step for exactly the queries that spilled. SYS: a
//                       sys_query_detail step with spilled_block_local_disk or
//                       spilled_block_remote_disk above 0.
//   alert_events        alert rows of the bucket's queries (by the query's end, not the
//                       alert's own time): stl_alert_event_log rows; sys_query_detail steps
//                       with an alert text
//   aborted_queries     queries of the bucket that did not succeed: STL aborted = 1; SYS
//                       status failed or canceled
//   nested_loop_queries queries of the bucket with a nested-loop alert ("Nested Loop Join in
//                       the query plan": a join without an equality condition, which a new
//                       dashboard or report can bring in dozens of times an hour). Queries,
//                       not alert rows: STL logs an event per step and slice that raised it,
//                       SYS one alert per step. STL: stl_alert_event_log events starting
//                       "Nested Loop Join"; SYS: sys_query_detail alerts starting so
//
// A metric whose table the cluster does not export (or that has no rows in the lake yet)
// reads as 0. Buckets without any row read as all zeros: an idle bucket is a value too.
// Thread-safety: functions over their arguments; the engine is used from this thread only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "query/engine.h"

namespace fleetlog::detect {

inline constexpr size_t kFleetMetricCount = 7;
inline constexpr std::array<const char*, kFleetMetricCount> kFleetMetricNames = {
    "query_count",  "p95_runtime_s",   "queue_wait_s",       "disk_based_queries",
    "alert_events", "aborted_queries", "nested_loop_queries"};
// Whether a metric counts (stored as BIGINT) rather than measures (DOUBLE).
inline constexpr std::array<bool, kFleetMetricCount> kFleetMetricIsCount = {true, false, false, true, true, true, true};

struct BucketMetrics {
  Timestamp start;
  std::array<double, kFleetMetricCount> values{};
};

// Which tables a cluster's metrics come from (see above).
enum class MetricFamily { kStl, kSys };

// The family a cluster exporting `exported` is measured from: STL when it exports stl_query,
// else SYS when it exports sys_query_history, else none (no metrics).
std::optional<MetricFamily> MetricFamilyOf(const std::vector<std::string>& exported);

// The tables the family's metrics read, its query table first.
const std::vector<std::string>& MetricTables(MetricFamily family);

// The start of the bucket holding `t`.
Timestamp BucketStart(Timestamp t, Duration bucket);

// The metrics of `cluster` for every bucket in [from, to), in time order.
// REQUIRES: from and to are bucket starts, bucket > 0. Fails with the query's error.
Result<std::vector<BucketMetrics>> ReadBucketMetrics(QueryEngine& engine, const std::string& cluster,
                                                     MetricFamily family, Timestamp from, Timestamp to, Duration bucket);

// The start of the bucket holding the end of the cluster's earliest query in the lake (in
// the family's query table), if any.
Result<std::optional<Timestamp>> FirstQueryBucket(QueryEngine& engine, const std::string& cluster, MetricFamily family,
                                                  Duration bucket);

}  // namespace fleetlog::detect
