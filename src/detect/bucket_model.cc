#include "detect/bucket_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "detect/blob.h"

namespace fleetlog::detect {
namespace {

constexpr std::string_view kModelMagic = "FLDET\x08";  // 8: nested-loop queries by share (older models replay)
// The attribution names the largest part of the surprise, and any other metric with at least
// this share of it, up to kMaxNamed metrics. Metrics below kUnsurprising take no part.
constexpr double kNamedShare = 0.2;
constexpr size_t kMaxNamed = 3;
constexpr double kUnsurprising = 1;  // p = 0.1

}  // namespace

// Chosen by bench/alert_calibration on its calibration seeds: the most incidents caught within
// 30 minutes with fewer than one false alert per cluster-week (see
// docs/alerts-and-monitoring.md for how it fares on held-out seeds).
DetectorOptions DefaultDetectorOptions() { return DetectorOptions{}; }

double GradeOf(double score, double bar) {
  if (!(score > bar) || !(bar > 0)) return 0;
  return std::min(1.0, 0.5 + 0.5 * (score - bar) / bar);
}

std::string DescribeSurprise(const EvidenceScorer::Surprise& surprise) {
  auto part = [&](size_t i) { return surprise.metric[i] >= kUnsurprising ? surprise.metric[i] : 0.0; };
  double total = 0;
  for (size_t i = 0; i < kFleetMetricCount; ++i) total += part(i);
  if (!(total > 0)) return "";
  std::vector<size_t> order(kFleetMetricCount);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return part(a) > part(b); });
  std::string text;
  for (size_t k = 0; k < std::min(kMaxNamed, order.size()); ++k) {
    const size_t i = order[k];
    const double share = part(i) / total;
    if (k > 0 && share < kNamedShare) break;
    text += fmt::format("{}{} {} ({:.0f}%)", k > 0 ? ", " : "", kFleetMetricNames[i], surprise.high[i] ? "high" : "low",
                        100 * share);
  }
  return text;
}

BucketModel BucketModel::New(Duration bucket, Timestamp start, const DetectorOptions& options) {
  return {.scorer = EvidenceScorer(options.evidence),
          .threshold = options.threshold,
          .continuation = options.continuation,
          .bucket = bucket,
          .learned_through = start};
}

Result<ScoredBucket> BucketModel::ScoreAndLearn(const BucketMetrics& metrics, bool describe) {
  ScoredBucket out{.metrics = metrics};
  if (scorer.Ready(metrics.start)) {
    const EvidenceScorer::Surprise surprise = scorer.Score(metrics);
    out.score = surprise.Max();
    out.grade = GradeOf(out.score, in_anomaly ? continuation * threshold : threshold);
    in_anomaly = out.grade > 0;
    if (describe) out.attribution = DescribeSurprise(surprise);
  }
  scorer.Learn(metrics);
  learned_through = metrics.start + bucket;
  return out;
}

std::string BucketModel::Serialize() const {
  BlobWriter out;
  for (char c : kModelMagic) out.Put<char>(c);
  out.Put<int64_t>(bucket.micros());
  out.Put<int64_t>(learned_through.micros());
  out.Put(threshold);
  out.Put(continuation);
  out.Put<uint8_t>(in_anomaly ? 1 : 0);
  scorer.Serialize(&out);
  return out.Release();
}

Result<BucketModel> BucketModel::Deserialize(std::string_view blob) {
  const Status corrupt(StatusCode::kCorruption, "fleet detector model: truncated or not a model");
  if (!blob.starts_with(kModelMagic)) {
    // An earlier fleetlog's model (same name, another format number): replayed, not broken.
    if (blob.size() >= kModelMagic.size() && blob.starts_with(kModelMagic.substr(0, kModelMagic.size() - 1)))
      return Status(StatusCode::kNotFound, "fleet detector model: saved by another version of fleetlog");
    return corrupt;
  }
  BlobReader in(blob.substr(kModelMagic.size()));
  int64_t bucket_us = 0, learned_us = 0;
  BucketModel model;
  uint8_t in_anomaly = 0;
  if (!in.Get(&bucket_us) || !in.Get(&learned_us) || !in.Get(&model.threshold) || !in.Get(&model.continuation) ||
      !in.Get(&in_anomaly) || in_anomaly > 1 || !model.scorer.Deserialize(&in) || !in.empty() || bucket_us <= 0 ||
      !(model.threshold > 0) || !(model.continuation > 0 && model.continuation <= 1)) {
    return corrupt;
  }
  model.in_anomaly = in_anomaly == 1;
  model.bucket = Duration::Micros(bucket_us);
  model.learned_through = Timestamp::FromMicros(learned_us);
  return model;
}

}  // namespace fleetlog::detect
