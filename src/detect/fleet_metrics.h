// Workload metrics of one cluster per time bucket, computed from the lake: what the fleet
// detector scores. A bucket is [start, start + bucket), aligned to the Unix epoch (UTC).
//
//   query_count         stl_query rows whose endtime falls in the bucket
//   p95_runtime_s       95th percentile of their endtime - starttime, seconds (0: none)
//   queue_wait_s        sum of stl_wlm_query.total_queue_time, by service_class_end_time, s
//   disk_based_queries  queries of the bucket (by stl_query.endtime) with an stl_scan step of
//                       type 3, a scan of a row-wise temporary table: how Redshift reads back
//                       intermediate results it wrote to disk. An approximation: Redshift's
//                       own is_diskbased flag (svl_query_summary) is not exported, and a query
//                       can scan a temporary table without spilling. The demo fleet writes
//                       such a step for exactly the queries that spilled.
//   alert_events        stl_alert_event_log rows of the bucket's queries (by stl_query.endtime,
//                       not event_time, which is the query's start)
//   aborted_queries     stl_query rows of the bucket with aborted = 1
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

inline constexpr size_t kFleetMetricCount = 6;
inline constexpr std::array<const char*, kFleetMetricCount> kFleetMetricNames = {
    "query_count", "p95_runtime_s", "queue_wait_s", "disk_based_queries", "alert_events", "aborted_queries"};
// Whether a metric counts (stored as BIGINT) rather than measures (DOUBLE).
inline constexpr std::array<bool, kFleetMetricCount> kFleetMetricIsCount = {true, false, false, true, true, true};

struct BucketMetrics {
  Timestamp start;
  std::array<double, kFleetMetricCount> values{};
};

// The start of the bucket holding `t`.
Timestamp BucketStart(Timestamp t, Duration bucket);

// The metrics of `cluster` for every bucket in [from, to), in time order.
// REQUIRES: from and to are bucket starts, bucket > 0. Fails with the query's error.
Result<std::vector<BucketMetrics>> ReadBucketMetrics(QueryEngine& engine, const std::string& cluster, Timestamp from,
                                                     Timestamp to, Duration bucket);

// The start of the bucket holding the cluster's earliest stl_query row in the lake, if any.
Result<std::optional<Timestamp>> FirstQueryBucket(QueryEngine& engine, const std::string& cluster, Duration bucket);

}  // namespace fleetlog::detect
