#include "detect/fleet_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace fleetlog::detect {
namespace {

enum Metric : size_t { kQueryCount, kP95Runtime, kQueueWait, kDiskBased, kAlerts, kAborted };

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

}  // namespace

Timestamp BucketStart(Timestamp t, Duration bucket) {
  const int64_t us = t.micros(), b = bucket.micros();
  const int64_t floor = us / b * b;
  return Timestamp::FromMicros(floor > us ? floor - b : floor);
}

Result<std::vector<BucketMetrics>> ReadBucketMetrics(QueryEngine& engine, const std::string& cluster, Timestamp from,
                                                     Timestamp to, Duration bucket) {
  std::vector<BucketMetrics> buckets;
  for (Timestamp t = from; t < to; t = t + bucket) buckets.push_back({.start = t});
  if (buckets.empty()) return buckets;
  std::set<std::string> tables;
  for (const LakeTable& table : engine.tables()) tables.insert(table.name);
  if (!tables.contains("stl_query")) return buckets;

  const Window w{.cluster = Quoted(cluster),
                 .from_us = from.micros(),
                 .to_us = to.micros(),
                 .bucket_us = bucket.micros(),
                 .first_dt = Quoted(DateOf(from)),
                 .last_dt = Quoted(DateOf(to - Duration::Micros(1))),
                 .early_dt = Quoted(DateOf(from - kLongestQuery))};
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
                            fmt::format("SELECT {}, count(*) FROM stl_query q JOIN stl_alert_event_log a "
                                        "ON a.query = q.query AND a.cluster = q.cluster WHERE {} AND "
                                        "a.dt BETWEEN {} AND {} GROUP BY 1",
                                        w.Bucket("q", "endtime"), w.Range("q", "endtime"), w.early_dt, w.last_dt),
                            {kAlerts}, w, &buckets));
  }
  return buckets;
}

Result<std::optional<Timestamp>> FirstQueryBucket(QueryEngine& engine, const std::string& cluster, Duration bucket) {
  const bool has_queries = std::any_of(engine.tables().begin(), engine.tables().end(),
                                       [](const LakeTable& t) { return t.name == "stl_query"; });
  if (!has_queries) return std::optional<Timestamp>();
  ASSIGN_OR_RETURN(duck::QueryResult result,
                   engine.Run(fmt::format("SELECT epoch_us(min(endtime)) FROM stl_query WHERE cluster = {}", Quoted(cluster))));
  if (result.row_count() == 0 || result.is_null(0, 0)) return std::optional<Timestamp>();
  return std::optional<Timestamp>(BucketStart(Timestamp::FromMicros(result.int64(0, 0)), bucket));
}

}  // namespace fleetlog::detect
