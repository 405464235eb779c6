#include "detect/fleet_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace fleetlog::detect {
namespace {

enum Metric : size_t { kQueryCount, kP95Runtime, kQueueWait, kDiskBased, kAlerts, kAborted, kNestedLoop };

// How a nested-loop alert's text starts, in stl_alert_event_log.event and sys_query_detail.alert.
constexpr const char* kNestedLoopAlert = "'Nested Loop Join%'";

// Partition pruning for rows whose own time may precede the bucket's query end: scans and
// alerts of a query that ran for up to this long are still found.
constexpr Duration kLongestQuery = Duration::Days(2);

std::string Quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// The SQL pieces every metric query shares.
struct Window {
  std::string cluster;  // quoted
  int64_t from_us, to_us, bucket_us;
  std::string first_dt, last_dt, early_dt;  // quoted dates; early_dt reaches back kLongestQuery

  // `column` in [from, to), on the table aliased `alias`.
  std::string Range(const std::string& alias, const std::string& column) const {
    return fmt::format("{0}.cluster = {1} AND {0}.dt BETWEEN {2} AND {3} AND {0}.{4} >= make_timestamp({5}) AND "
                       "{0}.{4} < make_timestamp({6})",
                       alias, cluster, first_dt, last_dt, column, from_us, to_us);
  }
  std::string Bucket(const std::string& alias, const std::string& column) const {
    return fmt::format("epoch_us({}.{}) // {} * {}", alias, column, bucket_us, bucket_us);
  }
};

// Runs `sql`, whose rows are (bucket start in µs, value...), and stores value i of each row
// as metric metrics[i] of its bucket.
Status Collect(QueryEngine& engine, const std::string& sql, const std::vector<Metric>& metrics, const Window& w,
               std::vector<BucketMetrics>* buckets) {
  ASSIGN_OR_RETURN(duck::QueryResult result, engine.Run(sql));
  for (size_t row = 0; row < result.row_count(); ++row) {
    const int64_t start = result.int64(0, row);
    if (start < w.from_us || start >= w.to_us) continue;
    BucketMetrics& bucket = (*buckets)[static_cast<size_t>((start - w.from_us) / w.bucket_us)];
    for (size_t i = 0; i < metrics.size(); ++i) {
      bucket.values[metrics[i]] = result.is_null(i + 1, row) ? 0 : result.dbl(i + 1, row);
    }
  }
  return Status::Ok();
}

// The SYS family: sys_query_history holds each finished query once with its own run and queue
// times (µs) and status; sys_query_detail holds its steps, with spilled blocks and alerts,
// partitioned by the query's end like their query.
Result<std::vector<BucketMetrics>> ReadSysMetrics(QueryEngine& engine, const Window& w,
                                                  const std::set<std::string>& tables,
                                                  std::vector<BucketMetrics> buckets) {
  RETURN_IF_ERROR(Collect(engine,
                          fmt::format("SELECT {}, count(*), quantile_cont(h.elapsed_time, 0.95) / 1e6, "
                                      "coalesce(sum(h.queue_time), 0) / 1e6, count(*) FILTER (WHERE h.status IN "
                                      "('failed', 'canceled', 'cancelled')) FROM sys_query_history h WHERE {} GROUP BY 1",
                                      w.Bucket("h", "end_time"), w.Range("h", "end_time")),
                          {kQueryCount, kP95Runtime, kQueueWait, kAborted}, w, &buckets));
  if (tables.contains("sys_query_detail")) {
    RETURN_IF_ERROR(Collect(
        engine,
        fmt::format("SELECT {}, count(DISTINCT h.query_id) FILTER (WHERE d.spilled_block_local_disk > 0 OR "
                    "d.spilled_block_remote_disk > 0), count(*) FILTER (WHERE trim(d.alert) <> ''), "
                    "count(DISTINCT h.query_id) FILTER (WHERE ltrim(d.alert) LIKE {}) "
                    "FROM sys_query_history h JOIN sys_query_detail d ON d.query_id = h.query_id AND d.cluster = h.cluster "
                    "WHERE {} AND d.dt BETWEEN {} AND {} GROUP BY 1",
                    w.Bucket("h", "end_time"), kNestedLoopAlert, w.Range("h", "end_time"), w.early_dt, w.last_dt),
        {kDiskBased, kAlerts, kNestedLoop}, w, &buckets));
  }
  return buckets;
}

}  // namespace

Timestamp BucketStart(Timestamp t, Duration bucket) {
  const int64_t us = t.micros(), b = bucket.micros();
  const int64_t floor = us / b * b;
  return Timestamp::FromMicros(floor > us ? floor - b : floor);
}

std::optional<MetricFamily> MetricFamilyOf(const std::vector<std::string>& exported) {
  auto has = [&](const std::string& t) { return std::find(exported.begin(), exported.end(), t) != exported.end(); };
  for (MetricFamily family : {MetricFamily::kStl, MetricFamily::kSys})
    if (has(MetricTables(family).front())) return family;
  return std::nullopt;
}

const std::vector<std::string>& MetricTables(MetricFamily family) {
  static const std::vector<std::string> stl = {"stl_query", "stl_wlm_query", "stl_scan", "stl_alert_event_log"};
  static const std::vector<std::string> sys = {"sys_query_history", "sys_query_detail"};
  return family == MetricFamily::kStl ? stl : sys;
}

Result<std::vector<BucketMetrics>> ReadBucketMetrics(QueryEngine& engine, const std::string& cluster,
                                                     MetricFamily family, Timestamp from, Timestamp to, Duration bucket) {
  std::vector<BucketMetrics> buckets;
  for (Timestamp t = from; t < to; t = t + bucket) buckets.push_back({.start = t});
  if (buckets.empty()) return buckets;
  std::set<std::string> tables;
  for (const LakeTable& table : engine.tables()) tables.insert(table.name);
  if (!tables.contains(MetricTables(family).front())) return buckets;

  const Window w{.cluster = Quoted(cluster),
                 .from_us = from.micros(),
                 .to_us = to.micros(),
                 .bucket_us = bucket.micros(),
                 .first_dt = Quoted(DateOf(from)),
                 .last_dt = Quoted(DateOf(to - Duration::Micros(1))),
                 .early_dt = Quoted(DateOf(from - kLongestQuery))};
  if (family == MetricFamily::kSys) return ReadSysMetrics(engine, w, tables, std::move(buckets));
  RETURN_IF_ERROR(Collect(engine,
                          fmt::format("SELECT {}, count(*), quantile_cont(epoch_us(q.endtime) - epoch_us(q.starttime), "
                                      "0.95) / 1e6, count(*) FILTER (WHERE q.aborted = 1) FROM stl_query q WHERE {} "
                                      "GROUP BY 1",
                                      w.Bucket("q", "endtime"), w.Range("q", "endtime")),
                          {kQueryCount, kP95Runtime, kAborted}, w, &buckets));
  if (tables.contains("stl_wlm_query")) {
    RETURN_IF_ERROR(Collect(engine,
                            fmt::format("SELECT {}, sum(m.total_queue_time) / 1e6 FROM stl_wlm_query m WHERE {} GROUP BY 1",
                                        w.Bucket("m", "service_class_end_time"), w.Range("m", "service_class_end_time")),
                            {kQueueWait}, w, &buckets));
  }
  // Scans and alerts belong to the bucket of their query's end.
  if (tables.contains("stl_scan")) {
    RETURN_IF_ERROR(Collect(engine,
                            fmt::format("SELECT {}, count(DISTINCT q.query) FROM stl_query q JOIN stl_scan s "
                                        "ON s.query = q.query AND s.cluster = q.cluster WHERE {} AND s.type = 3 AND "
                                        "s.dt BETWEEN {} AND {} GROUP BY 1",
                                        w.Bucket("q", "endtime"), w.Range("q", "endtime"), w.early_dt, w.last_dt),
                            {kDiskBased}, w, &buckets));
  }
  if (tables.contains("stl_alert_event_log")) {
    RETURN_IF_ERROR(Collect(engine,
                            fmt::format("SELECT {}, count(*), count(DISTINCT q.query) FILTER (WHERE ltrim(a.event) LIKE {}) "
                                        "FROM stl_query q JOIN stl_alert_event_log a "
                                        "ON a.query = q.query AND a.cluster = q.cluster WHERE {} AND "
                                        "a.dt BETWEEN {} AND {} GROUP BY 1",
                                        w.Bucket("q", "endtime"), kNestedLoopAlert, w.Range("q", "endtime"), w.early_dt,
                                        w.last_dt),
                            {kAlerts, kNestedLoop}, w, &buckets));
  }
  return buckets;
}

Result<std::optional<Timestamp>> FirstQueryBucket(QueryEngine& engine, const std::string& cluster, MetricFamily family,
                                                  Duration bucket) {
  const std::string& table = MetricTables(family).front();
  const bool has_queries = std::any_of(engine.tables().begin(), engine.tables().end(),
                                       [&](const LakeTable& t) { return t.name == table; });
  if (!has_queries) return std::optional<Timestamp>();
  ASSIGN_OR_RETURN(duck::QueryResult result,
                   engine.Run(fmt::format("SELECT epoch_us(min({})) FROM {} WHERE cluster = {}",
                                          family == MetricFamily::kStl ? "endtime" : "end_time", table, Quoted(cluster))));
  if (result.row_count() == 0 || result.is_null(0, 0)) return std::optional<Timestamp>();
  return std::optional<Timestamp>(BucketStart(Timestamp::FromMicros(result.int64(0, 0)), bucket));
}

}  // namespace fleetlog::detect
