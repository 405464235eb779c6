#include "detect/fleet_detector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>

#include "detect/blob.h"
#include "detect/fleet_metrics.h"
#include "detect/random_cut_forest.h"
#include "detect/thresholder.h"
#include "lake/commit_window.h"
#include "query/engine.h"

namespace fleetlog::detect {
namespace {

constexpr std::string_view kModelMagic = "FLDET\x01";
// How far back a lost model is rebuilt from: about ten forest memories (1/time_decay inputs)
// at the default bucket, bounded so that a re-derivation stays cheap.
constexpr Duration kLongestReplay = Duration::Days(28);
// The attribution names the largest part of the score, and any other metric with at least
// this share of it, up to kMaxNamed metrics.
constexpr double kNamedShare = 0.2;
constexpr size_t kMaxNamed = 3;

std::string ModelKey(const std::string& cluster) { return "rcf/" + cluster; }

ForestOptions DetectorForestOptions() {
  ForestOptions options;
  options.dimensions = static_cast<int>(kFleetMetricCount);
  return options;  // 50 trees, 256 points, shingle 1, box cache
}

// A cluster's model, and the end of the last bucket it has learned.
struct ClusterModel {
  RandomCutForest forest;
  Thresholder thresholder;
  Duration bucket;
  Timestamp learned_through;

  static ClusterModel New(Duration bucket, Timestamp start) {
    return {std::move(RandomCutForest::Create(DetectorForestOptions())).value(), Thresholder(), bucket, start};
  }

  std::string Serialize() const {
    BlobWriter out;
    for (char c : kModelMagic) out.Put<char>(c);
    out.Put<int64_t>(bucket.micros());
    out.Put<int64_t>(learned_through.micros());
    const std::string forest_blob = forest.Serialize();
    const std::string thresholder_blob = thresholder.Serialize();
    out.PutArray<char>(std::span<const char>(forest_blob.data(), forest_blob.size()));
    out.PutArray<char>(std::span<const char>(thresholder_blob.data(), thresholder_blob.size()));
    return out.Release();
  }

  static Result<ClusterModel> Deserialize(std::string_view blob) {
    const Status corrupt(StatusCode::kCorruption, "fleet detector model: truncated or not a model");
    if (!blob.starts_with(kModelMagic)) return corrupt;
    BlobReader in(blob.substr(kModelMagic.size()));
    int64_t bucket_us = 0, learned_us = 0;
    std::vector<char> forest_blob, thresholder_blob;
    if (!in.Get(&bucket_us) || !in.Get(&learned_us) || !in.GetArray(&forest_blob, blob.size()) ||
        !in.GetArray(&thresholder_blob, blob.size()) || !in.empty() || bucket_us <= 0) {
      return corrupt;
    }
    ASSIGN_OR_RETURN(RandomCutForest forest,
                     RandomCutForest::Deserialize(std::string_view(forest_blob.data(), forest_blob.size())));
    ASSIGN_OR_RETURN(Thresholder thresholder,
                     Thresholder::Deserialize(std::string_view(thresholder_blob.data(), thresholder_blob.size())));
    if (forest.options().dimensions != static_cast<int>(kFleetMetricCount)) return corrupt;
    return ClusterModel{std::move(forest), thresholder, Duration::Micros(bucket_us), Timestamp::FromMicros(learned_us)};
  }
};

struct ScoredBucket {
  BucketMetrics metrics;
  double score = 0, grade = 0;
  std::string attribution;
};

std::array<double, kFleetMetricCount> Features(const BucketMetrics& m) {
  std::array<double, kFleetMetricCount> x{};
  for (size_t i = 0; i < kFleetMetricCount; ++i) x[i] = std::log1p(std::max(0.0, m.values[i]));
  return x;
}

// "queue_wait_s high (83%), p95_runtime_s high (12%)": the metrics that make up the score.
std::string DescribeAttribution(const DiVector& parts) {
  const double total = parts.Total();
  if (!(total > 0)) return "";
  std::vector<size_t> order(kFleetMetricCount);
  std::iota(order.begin(), order.end(), 0);
  auto share = [&](size_t i) { return (parts.high[i] + parts.low[i]) / total; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return share(a) > share(b); });
  std::string text;
  for (size_t k = 0; k < std::min(kMaxNamed, order.size()); ++k) {
    const size_t i = order[k];
    if (k > 0 && share(i) < kNamedShare) break;
    text += fmt::format("{}{} {} ({:.0f}%)", k > 0 ? ", " : "", kFleetMetricNames[i],
                        parts.high[i] >= parts.low[i] ? "high" : "low", 100 * share(i));
  }
  return text;
}

// Scores one bucket against what the model has learned, then learns it.
Result<ScoredBucket> ScoreAndLearn(ClusterModel& model, const BucketMetrics& metrics, bool describe) {
  ScoredBucket out{.metrics = metrics};
  const auto x = Features(metrics);
  out.score = model.forest.Score(x);
  if (model.forest.ready()) out.grade = model.thresholder.GradeAndUpdate(out.score);
  if (describe && out.score > 0) out.attribution = DescribeAttribution(model.forest.Attribution(x));
  RETURN_IF_ERROR(model.forest.Update(x));
  model.learned_through = metrics.start + model.bucket;
  return out;
}

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
// export cursor of the tables the metrics read. Empty when stl_query is not exported or
// some table has no cursor yet.
Result<std::optional<Timestamp>> ClosedUntil(const DetectContext& ctx, const ClusterConfig& cluster) {
  const std::vector<std::string> exported = ctx.config.TablesOf(cluster);
  auto exports = [&](const char* table) { return std::find(exported.begin(), exported.end(), table) != exported.end(); };
  if (!exports("stl_query")) return std::optional<Timestamp>();
  std::optional<Timestamp> closed;
  for (const char* table : {"stl_query", "stl_wlm_query", "stl_scan", "stl_alert_event_log"}) {
    if (!exports(table)) continue;
    ASSIGN_OR_RETURN(std::optional<Timestamp> cursor, ctx.state.GetCursor(cluster.name, table));
    if (!cursor) return std::optional<Timestamp>();
    closed = closed ? std::min(*closed, *cursor) : *cursor;
  }
  return std::optional<Timestamp>(BucketStart(*closed, ctx.config.detect.bucket));
}

// The model to continue from `cursor` (the end of the last scored bucket), re-deriving it by
// replay when the saved one is missing, behind, or made for another bucket size.
Result<ClusterModel> LoadModel(const DetectContext& ctx, QueryEngine& engine, const std::string& cluster,
                               std::optional<Timestamp> cursor, Timestamp first_bucket) {
  const Duration bucket = ctx.config.detect.bucket;
  const Timestamp resume = cursor ? *cursor : first_bucket;
  ASSIGN_OR_RETURN(std::optional<std::string> blob, ctx.state.GetValue(ModelKey(cluster)));
  std::optional<ClusterModel> model;
  if (blob) {
    auto saved = ClusterModel::Deserialize(*blob);
    if (!saved.ok()) {
      spdlog::warn("cluster {}: the saved anomaly model is unreadable ({}); rebuilding it", cluster,
                   saved.status().message());
    } else if (saved->bucket == bucket && saved->learned_through <= resume) {
      model.emplace(std::move(saved).value());
    }
  }
  if (!model) {
    const Timestamp replay_from = std::max(first_bucket, BucketStart(resume - kLongestReplay, bucket));
    model.emplace(ClusterModel::New(bucket, std::min(replay_from, resume)));
  }
  if (model->learned_through < resume) {
    spdlog::info("cluster {}: re-deriving the anomaly model from {} to {}", cluster,
                 FormatTimestamp(model->learned_through), FormatTimestamp(resume));
    ASSIGN_OR_RETURN(auto replay, ReadBucketMetrics(engine, cluster, model->learned_through, resume, bucket));
    for (const BucketMetrics& m : replay) RETURN_IF_ERROR(ScoreAndLearn(*model, m, false).status());
  }
  return std::move(model).value();
}

Status DetectCluster(const DetectContext& ctx, QueryEngine& engine, const ClusterConfig& cluster) {
  const Duration bucket = ctx.config.detect.bucket;
  ASSIGN_OR_RETURN(std::optional<Timestamp> closed, ClosedUntil(ctx, cluster));
  if (!closed) return Status::Ok();
  ASSIGN_OR_RETURN(std::optional<Timestamp> cursor, ctx.state.GetCursor(cluster.name, kAnomaliesTable));
  ASSIGN_OR_RETURN(std::optional<Timestamp> first, FirstQueryBucket(engine, cluster.name, bucket));
  if (!first) return Status::Ok();  // no queries in the lake yet
  const Timestamp from = cursor ? *cursor : *first;
  if (from >= *closed) return Status::Ok();

  RunRecord run{.cluster = cluster.name, .table = kAnomaliesTable, .started_at = ctx.clock.Now(),
                .window_lower = from, .window_upper = *closed, .kind = "detect"};
  ASSIGN_OR_RETURN(ClusterModel model, LoadModel(ctx, engine, cluster.name, cursor, *first));
  ASSIGN_OR_RETURN(std::vector<BucketMetrics> metrics, ReadBucketMetrics(engine, cluster.name, from, *closed, bucket));
  std::vector<ScoredBucket> scored;
  scored.reserve(metrics.size());
  for (const BucketMetrics& m : metrics) {
    ASSIGN_OR_RETURN(ScoredBucket s, ScoreAndLearn(model, m, true));
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
