#include "detect/fleet_detector.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>

#include "detect/bucket_model.h"
#include "detect/fleet_metrics.h"
#include "lake/commit_window.h"
#include "query/engine.h"

namespace fleetlog::detect {
namespace {

// How far back a lost model is rebuilt from: four weeks, about two horizons of the seasonal
// profiles' hour-of-week slots, bounded so that a re-derivation stays cheap.
constexpr Duration kLongestReplay = Duration::Days(28);

std::string ModelKey(const std::string& cluster) { return "rcf/" + cluster; }

TableSchema AnomaliesSchema() {
  TableSchema schema = {{"bucket_start", ColumnType::kTimestamp}};
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    schema.push_back({kFleetMetricNames[i], kFleetMetricIsCount[i] ? ColumnType::kInt64 : ColumnType::kDouble});
  }
  schema.push_back({"score", ColumnType::kDouble});
  schema.push_back({"grade", ColumnType::kDouble});
  schema.push_back({"attribution", ColumnType::kVarchar});
  return schema;
}

RowBatch AnomalyRows(const std::vector<ScoredBucket>& scored) {
  RowBatch batch(AnomaliesSchema());
  for (const ScoredBucket& b : scored) {
    size_t c = 0;
    batch.column(c++).AppendInt(b.metrics.start.micros());
    for (size_t i = 0; i < kFleetMetricCount; ++i) {
      if (kFleetMetricIsCount[i]) {
        batch.column(c++).AppendInt(std::llround(b.metrics.values[i]));
      } else {
        batch.column(c++).AppendDouble(b.metrics.values[i]);
      }
    }
    batch.column(c++).AppendDouble(b.score);
    batch.column(c++).AppendDouble(b.grade);
    batch.column(c++).AppendString(b.attribution);
  }
  return batch;
}

// The end of the cluster's last closed bucket: the bucket start at or below the smallest
// export cursor of the tables the metrics read (fleet_metrics.h says which family). Empty
// when the cluster exports no query table or some table has no cursor yet.
Result<std::optional<Timestamp>> ClosedUntil(const DetectContext& ctx, const ClusterConfig& cluster,
                                             MetricFamily family) {
  const std::vector<std::string> exported = ctx.config.TablesOf(cluster);
  std::optional<Timestamp> closed;
  for (const std::string& table : MetricTables(family)) {
    if (std::find(exported.begin(), exported.end(), table) == exported.end()) continue;
    ASSIGN_OR_RETURN(std::optional<Timestamp> cursor, ctx.state.GetCursor(cluster.name, table));
    if (!cursor) return std::optional<Timestamp>();
    closed = closed ? std::min(*closed, *cursor) : *cursor;
  }
  if (!closed) return std::optional<Timestamp>();
  return std::optional<Timestamp>(BucketStart(*closed, ctx.config.detect.bucket));
}

// The model to continue from `cursor` (the end of the last scored bucket), re-deriving it by
// replay when the saved one is missing, behind, or made for another bucket size.
Result<BucketModel> LoadModel(const DetectContext& ctx, QueryEngine& engine, const std::string& cluster,
                               MetricFamily family, std::optional<Timestamp> cursor, Timestamp first_bucket) {
  const Duration bucket = ctx.config.detect.bucket;
  const Timestamp resume = cursor ? *cursor : first_bucket;
  ASSIGN_OR_RETURN(std::optional<std::string> blob, ctx.state.GetValue(ModelKey(cluster)));
  std::optional<BucketModel> model;
  if (blob) {
    auto saved = BucketModel::Deserialize(*blob);
    if (!saved.ok() && saved.status().code() == StatusCode::kNotFound) {
      spdlog::info("cluster {}: the saved anomaly model is from another version of fleetlog; rebuilding it", cluster);
    } else if (!saved.ok()) {
      spdlog::warn("cluster {}: the saved anomaly model is unreadable ({}); rebuilding it", cluster,
                   saved.status().message());
    } else if (saved->bucket == bucket && saved->learned_through <= resume) {
      model.emplace(std::move(saved).value());
    }
  }
  if (!model) {
    const Timestamp replay_from = std::max(first_bucket, BucketStart(resume - kLongestReplay, bucket));
    model.emplace(BucketModel::New(bucket, std::min(replay_from, resume)));
  }
  if (model->learned_through < resume) {
    spdlog::info("cluster {}: re-deriving the anomaly model from {} to {}", cluster,
                 FormatTimestamp(model->learned_through), FormatTimestamp(resume));
    ASSIGN_OR_RETURN(auto replay, ReadBucketMetrics(engine, cluster, family, model->learned_through, resume, bucket));
    for (const BucketMetrics& m : replay) RETURN_IF_ERROR(model->ScoreAndLearn(m, false).status());
  }
  return std::move(model).value();
}

Status DetectCluster(const DetectContext& ctx, QueryEngine& engine, const ClusterConfig& cluster) {
  const Duration bucket = ctx.config.detect.bucket;
  const std::optional<MetricFamily> family = MetricFamilyOf(ctx.config.TablesOf(cluster));
  if (!family) return Status::Ok();  // no query table: nothing to measure
  ASSIGN_OR_RETURN(std::optional<Timestamp> closed, ClosedUntil(ctx, cluster, *family));
  if (!closed) return Status::Ok();
  ASSIGN_OR_RETURN(std::optional<Timestamp> cursor, ctx.state.GetCursor(cluster.name, kAnomaliesTable));
  ASSIGN_OR_RETURN(std::optional<Timestamp> first, FirstQueryBucket(engine, cluster.name, *family, bucket));
  if (!first) return Status::Ok();  // no queries in the lake yet
  const Timestamp from = cursor ? *cursor : *first;
  if (from >= *closed) return Status::Ok();

  RunRecord run{.cluster = cluster.name, .table = kAnomaliesTable, .started_at = ctx.clock.Now(),
                .window_lower = from, .window_upper = *closed, .kind = "detect"};
  ASSIGN_OR_RETURN(BucketModel model, LoadModel(ctx, engine, cluster.name, *family, cursor, *first));
  ASSIGN_OR_RETURN(std::vector<BucketMetrics> metrics, ReadBucketMetrics(engine, cluster.name, *family, from, *closed, bucket));
  std::vector<ScoredBucket> scored;
  scored.reserve(metrics.size());
  for (const BucketMetrics& m : metrics) {
    ASSIGN_OR_RETURN(ScoredBucket s, model.ScoreAndLearn(m, true));
    scored.push_back(std::move(s));
  }
  run.rows_read = static_cast<int64_t>(scored.size());

  // Rows of these buckets can only be in files whose buckets reach `from`.
  CommitWindow window(ctx.writer, ctx.state,
                      {.table = kAnomaliesTable, .cluster = cluster.name, .partition_column = "bucket_start",
                       .key = {"bucket_start"}, .repeats_from = from});
  RETURN_IF_ERROR(window.Append(AnomalyRows(scored)));
  ASSIGN_OR_RETURN(WindowCommitted committed, window.Commit(ctx.clock, run, *closed));
  if (!committed.publish_error.ok()) spdlog::warn("cluster {}: {}", cluster.name, committed.publish_error.message());
  if (!scored.empty()) {
    const ScoredBucket& last = scored.back();
    const nlohmann::json latest = {{"bucket_start", last.metrics.start.micros()}, {"score", last.score},
                                   {"grade", last.grade}, {"attribution", last.attribution}};
    RETURN_IF_ERROR(ctx.state.PutValue(kLatestBucketKeyPrefix + cluster.name, latest.dump()));
  }
  // After the commit, not in it (see the header): a crash here costs a replay, not a row.
  return ctx.state.PutValue(ModelKey(cluster.name), model.Serialize());
}

}  // namespace

Status RunFleetDetection(const DetectContext& ctx) {
  EngineOptions options{.lake_root = ctx.config.lake_path, .memory_limit_bytes = 512LL << 20, .threads = 1};
  ASSIGN_OR_RETURN(auto engine, QueryEngine::Open(options, &ctx.state));
  std::vector<std::string> failures;
  for (const ClusterConfig& cluster : ctx.config.clusters) {
    const Timestamp started = ctx.clock.Now();
    Status status = DetectCluster(ctx, *engine, cluster).WithContext(fmt::format("anomaly detection, cluster {}", cluster.name));
    if (status.ok()) continue;
    spdlog::error("{}", status.message());
    failures.push_back(status.message());
    RunRecord run{.cluster = cluster.name, .table = kAnomaliesTable, .started_at = started,
                  .finished_at = ctx.clock.Now(), .status = RunStatus::kFailed, .error = status.message(),
                  .kind = "detect"};
    if (auto recorded = ctx.state.RecordRun(run); !recorded.ok()) {
      spdlog::error("cannot record the failed detection run: {}", recorded.status().message());
    }
  }
  if (failures.empty()) return Status::Ok();
  std::string message;
  for (const std::string& f : failures) message += (message.empty() ? "" : "; ") + f;
  return Status(StatusCode::kInternal, message);
}

}  // namespace fleetlog::detect
