#include "detect/bucket_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

#include "detect/blob.h"

namespace fleetlog::detect {
namespace {

constexpr std::string_view kModelMagic = "FLDET\x01";
// The attribution names the largest part of the score, and any other metric with at least
// this share of it, up to kMaxNamed metrics.
constexpr double kNamedShare = 0.2;
constexpr size_t kMaxNamed = 3;

ForestOptions DetectorForestOptions() {
  ForestOptions options;
  options.dimensions = static_cast<int>(kFleetMetricCount);
  return options;  // 50 trees, 256 points, shingle 1, box cache
}

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

}  // namespace

ThresholderOptions DetectorThresholderOptions() { return ThresholderOptions(); }

BucketModel BucketModel::New(Duration bucket, Timestamp start, const ThresholderOptions& options) {
  return {std::move(RandomCutForest::Create(DetectorForestOptions())).value(), Thresholder(options), bucket, start};
}

Result<ScoredBucket> BucketModel::ScoreAndLearn(const BucketMetrics& metrics, bool describe) {
  ScoredBucket out{.metrics = metrics};
  const auto x = Features(metrics);
  out.score = forest.Score(x);
  if (forest.ready()) out.grade = thresholder.GradeAndUpdate(out.score);
  if (describe && out.score > 0) out.attribution = DescribeAttribution(forest.Attribution(x));
  RETURN_IF_ERROR(forest.Update(x));
  learned_through = metrics.start + bucket;
  return out;
}

std::string BucketModel::Serialize() const {
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

Result<BucketModel> BucketModel::Deserialize(std::string_view blob) {
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
  return BucketModel{std::move(forest), thresholder, Duration::Micros(bucket_us), Timestamp::FromMicros(learned_us)};
}

}  // namespace fleetlog::detect
