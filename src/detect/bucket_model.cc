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

constexpr std::string_view kModelMagic = "FLDET\x02";  // 2: seasonal residuals
// The attribution names the largest part of the score, and any other metric with at least
// this share of it, up to kMaxNamed metrics.
constexpr double kNamedShare = 0.2;
constexpr size_t kMaxNamed = 3;

ForestOptions DetectorForestOptions(bool smoothed) {
  ForestOptions options;
  options.dimensions = static_cast<int>(kFleetMetricCount) * (smoothed ? 2 : 1);
  return options;  // 50 trees, 256 points, shingle 1, box cache
}

// "queue_wait_s high (83%), p95_runtime_s high (12%)": the metrics that make up the score.
std::string DescribeAttribution(const DiVector& parts) {
  const double total = parts.Total();
  if (!(total > 0)) return "";
  std::vector<size_t> order(kFleetMetricCount);
  std::iota(order.begin(), order.end(), 0);
  // With smoothing the forest sees each metric twice (now, and its average): both are its part.
  auto part = [&](const std::vector<double>& v, size_t i) {
    return v[i] + (v.size() > kFleetMetricCount ? v[i + kFleetMetricCount] : 0);
  };
  auto share = [&](size_t i) { return (part(parts.high, i) + part(parts.low, i)) / total; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return share(a) > share(b); });
  std::string text;
  for (size_t k = 0; k < std::min(kMaxNamed, order.size()); ++k) {
    const size_t i = order[k];
    if (k > 0 && share(i) < kNamedShare) break;
    text += fmt::format("{}{} {} ({:.0f}%)", k > 0 ? ", " : "", kFleetMetricNames[i],
                        part(parts.high, i) >= part(parts.low, i) ? "high" : "low", 100 * share(i));
  }
  return text;
}

}  // namespace

// Chosen by bench/alert_calibration on its calibration seeds (the best within a pager's
// budget of false alerts; see docs/alerts-and-monitoring.md for how it fares on held-out ones).
SeasonalProfile::Vector BucketFeatures(const BucketMetrics& m, const InputOptions& options) {
  SeasonalProfile::Vector x{};
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    const double v = std::max(0.0, m.values[i]);
    x[i] = options.counts_sqrt && kFleetMetricIsCount[i] ? std::sqrt(v + 0.375) : std::log1p(v);
  }
  return x;
}

DetectorOptions DefaultDetectorOptions() {
  DetectorOptions o;
  o.seasonal.min_spread = 0.5;
  o.input.counts_sqrt = true;
  o.input.residual_clip = 6;
  o.input.smoothing = 0.5;
  o.thresholder.z_factor = 3.0;
  o.thresholder.lower_threshold = 1.0;
  o.thresholder.continuation = 0.7;
  return o;
}

BucketModel BucketModel::New(Duration bucket, Timestamp start, const DetectorOptions& options) {
  return {.profile = SeasonalProfile(options.seasonal),
          .forest = std::move(RandomCutForest::Create(DetectorForestOptions(options.input.smoothing > 0))).value(),
          .thresholder = Thresholder(options.thresholder),
          .input = options.input,
          .bucket = bucket,
          .learned_through = start};
}

Result<ScoredBucket> BucketModel::ScoreAndLearn(const BucketMetrics& metrics, bool describe) {
  ScoredBucket out{.metrics = metrics};
  const auto x = BucketFeatures(metrics, input);
  if (profile.Ready(metrics.start)) {
    auto residuals = profile.Residuals(metrics.start, x);
    if (input.residual_clip > 0)
      for (double& r : residuals) r = std::clamp(r, -input.residual_clip, input.residual_clip);
    std::vector<double> point(residuals.begin(), residuals.end());
    if (input.smoothing > 0) {
      for (size_t i = 0; i < kFleetMetricCount; ++i) smoothed[i] += input.smoothing * (residuals[i] - smoothed[i]);
      point.insert(point.end(), smoothed.begin(), smoothed.end());
    }
    out.score = forest.Score(point);
    if (forest.ready()) out.grade = thresholder.GradeAndUpdate(out.score);
    if (describe && out.score > 0) out.attribution = DescribeAttribution(forest.Attribution(point));
    RETURN_IF_ERROR(forest.Update(point));
  }
  profile.Learn(metrics.start, x);
  learned_through = metrics.start + bucket;
  return out;
}

std::string BucketModel::Serialize() const {
  BlobWriter out;
  for (char c : kModelMagic) out.Put<char>(c);
  out.Put<int64_t>(bucket.micros());
  out.Put<int64_t>(learned_through.micros());
  out.Put<uint8_t>(input.counts_sqrt ? 1 : 0);
  out.Put<double>(input.residual_clip);
  out.Put<double>(input.smoothing);
  out.Put(smoothed);
  profile.Serialize(&out);
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
  uint8_t counts_sqrt = 0;
  InputOptions input;
  SeasonalProfile::Vector smoothed{};
  SeasonalProfile profile;
  std::vector<char> forest_blob, thresholder_blob;
  if (!in.Get(&bucket_us) || !in.Get(&learned_us) || !in.Get(&counts_sqrt) || counts_sqrt > 1 ||
      !in.Get(&input.residual_clip) || !in.Get(&input.smoothing) || !in.Get(&smoothed) ||
      !profile.Deserialize(&in) || !in.GetArray(&forest_blob, blob.size()) ||
      !in.GetArray(&thresholder_blob, blob.size()) || !in.empty() || bucket_us <= 0) {
    return corrupt;
  }
  ASSIGN_OR_RETURN(RandomCutForest forest,
                   RandomCutForest::Deserialize(std::string_view(forest_blob.data(), forest_blob.size())));
  ASSIGN_OR_RETURN(Thresholder thresholder,
                   Thresholder::Deserialize(std::string_view(thresholder_blob.data(), thresholder_blob.size())));
  input.counts_sqrt = counts_sqrt == 1;
  if (forest.options().dimensions != static_cast<int>(kFleetMetricCount) * (input.smoothing > 0 ? 2 : 1)) return corrupt;
  return BucketModel{.profile = profile,
                     .forest = std::move(forest),
                     .thresholder = thresholder,
                     .input = input,
                     .smoothed = smoothed,
                     .bucket = Duration::Micros(bucket_us),
                     .learned_through = Timestamp::FromMicros(learned_us)};
}

}  // namespace fleetlog::detect
