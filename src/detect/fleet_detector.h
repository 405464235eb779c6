// Fleet anomaly detection: after each export cycle, every cluster's workload metrics per
// bucket ([detect] bucket, default 5 minutes; see detect/fleet_metrics.h) are computed from
// the lake and scored by one model per cluster. The results are the lake table `anomalies`,
// queryable like any other:
//
//   cluster, dt            the partitions, as for every table
//   bucket_start           TIMESTAMP, the bucket's start (UTC); one row per closed bucket
//   query_count ... nested_loop_queries   the metric values
//   score                  DOUBLE, the bucket's surprise: -log10 of the smallest tail
//                          probability of any metric over the latest buckets (0 while the
//                          model warms up)
//   grade                  DOUBLE in [0, 1], the surprise against the calibrated bar; > 0
//                          marks an anomaly
//   attribution            VARCHAR, the metrics that make up most of the surprise, such as
//                          "queue_wait_s high (83%)"; empty when nothing is surprising
//
// Closed buckets. A bucket is scored once, when it is closed: when its end is at or before
// the export cursor of each of the cluster's tables the metrics read (stl_query, and
// stl_wlm_query, stl_scan, stl_alert_event_log when the cluster exports them; on a cluster
// measured from the SYS views, sys_query_history and sys_query_detail), so its rows are in
// the lake. Late rows that the exporter's lookback still catches after that are not
// rescored.
//
// Model (bucket_model.h, evidence.h). Seasonal profiles per cluster give what each metric
// usually is at that hour of the week (nested-loop queries: their usual share of the query
// count at that hour of the day); counts are judged by the tail probability of the observed
// count (negative binomial around the expectation), seconds by their log residuals, each over
// the latest 1, 2, 3 and 6 buckets, and a fall of the query count and a rise of nested-loop
// queries by CUSUMs over the buckets since counts were last ordinary; the bucket's surprise is
// graded against a bar calibrated as an alert source.
//
// Progress and crash semantics. The cursor of (cluster, "anomalies") in the state store is
// the end of the last scored bucket; it moves in the same commit as the bucket rows. The
// model (profiles, latest buckets and bar, with the bucket end it has learned up to) is saved in the
// state store under "rcf/<cluster>" right after that commit: the state store's commit
// cannot carry it. When a crash falls between the two, or the model is missing or was made
// for another bucket size, the next run re-derives it: it replays the buckets before the
// cursor (up to four weeks of them) through a new model without writing rows. The model
// is deterministic, so a replay over the same metrics gives the very model that was lost;
// the rows already committed are kept as they are.
//
// Thread-safety: RunFleetDetection uses `ctx` from the calling thread only; run one at a time
// per lake (the writer lock already ensures one process).
#pragma once

#include "core/status.h"
#include "core/config.h"
#include "core/time.h"
#include "lake/lake_writer.h"
#include "state/state_store.h"

namespace fleetlog::detect {

inline constexpr const char* kAnomaliesTable = "anomalies";
// The state store key (+ cluster) of the cluster's latest scored bucket, as JSON
// {"bucket_start": µs, "score", "grade", "attribution"}: what /metrics shows without a query.
inline constexpr const char* kLatestBucketKeyPrefix = "detect/latest/";

// Scores the closed buckets of every configured cluster that come after its last scored
// bucket, and commits them to the `anomalies` table. A cluster that fails does not stop the
// others; the Status names each failed cluster. Clusters without any exported window of
// their query table (stl_query, or sys_query_history) yet are skipped.
// What detection reads and writes; a writer process's (the caller holds the writer lock).
struct DetectContext {
  const Config& config;
  StateStore& state;
  LakeWriter& writer;
  const Clock& clock;
};
Status RunFleetDetection(const DetectContext& ctx);

}  // namespace fleetlog::detect
