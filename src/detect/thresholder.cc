#include "detect/thresholder.h"

#include <algorithm>
#include <cmath>

#include "detect/blob.h"

namespace fleetlog::detect {

Status ThresholderOptions::Validate() const {
  if (!(z_factor > 0)) return InvalidArgument("z factor must be positive, got {}", z_factor);
  if (!(lower_threshold >= 0)) return InvalidArgument("lower threshold must be >= 0, got {}", lower_threshold);
  if (!(initial_threshold > 0)) {
    return InvalidArgument("initial threshold must be positive, got {}", initial_threshold);
  }
  if (warmup_scores < 0) return InvalidArgument("warm-up must be >= 0 scores, got {}", warmup_scores);
  if (!(anomaly_rate > 0 && anomaly_rate < 1)) {
    return InvalidArgument("anomaly rate must be in (0, 1), got {}", anomaly_rate);
  }
  if (!(continuation > 0 && continuation <= 1)) {
    return InvalidArgument("continuation must be in (0, 1], got {}", continuation);
  }
  return Status::Ok();
}

Thresholder::Thresholder(const ThresholderOptions& options) : options_(options) {}

double Thresholder::mean() const { return weight_ > 0 ? sum_ / weight_ : 0; }

double Thresholder::deviation() const {
  if (weight_ <= 0) return 0;
  const double m = mean();
  return std::sqrt(std::max(0.0, sum_squares_ / weight_ - m * m));
}

double Thresholder::threshold() const {
  const double factor = in_anomaly_ ? options_.continuation : 1.0;
  if (count_ < options_.warmup_scores) return factor * options_.initial_threshold;
  return factor * std::max(options_.lower_threshold, mean() + options_.z_factor * deviation());
}

double Thresholder::Grade(double score) const {
  const double t = threshold();
  if (!(score >= t) || t <= 0) return 0;
  return std::min(1.0, 0.5 + 0.5 * (score - t) / t);
}

void Thresholder::Update(double score) {
  const double keep = 1.0 - options_.anomaly_rate;
  weight_ = weight_ * keep + 1;
  sum_ = sum_ * keep + score;
  sum_squares_ = sum_squares_ * keep + score * score;
  ++count_;
}

double Thresholder::GradeAndUpdate(double score) {
  const double grade = Grade(score);
  in_anomaly_ = grade > 0;
  Update(score);
  return grade;
}

std::string Thresholder::Serialize() const {
  BlobWriter out;
  out.Put<double>(options_.z_factor);
  out.Put<double>(options_.lower_threshold);
  out.Put<double>(options_.initial_threshold);
  out.Put<int32_t>(options_.warmup_scores);
  out.Put<double>(options_.anomaly_rate);
  out.Put<double>(options_.continuation);
  out.Put<uint8_t>(in_anomaly_ ? 1 : 0);
  out.Put<int64_t>(count_);
  out.Put<double>(weight_);
  out.Put<double>(sum_);
  out.Put<double>(sum_squares_);
  return out.Release();
}

Result<Thresholder> Thresholder::Deserialize(std::string_view blob) {
  const Status corrupt(StatusCode::kCorruption, "thresholder: truncated or not a thresholder");
  BlobReader in(blob);
  ThresholderOptions options;
  Thresholder t;
  uint8_t in_anomaly = 0;
  if (!in.Get(&options.z_factor) || !in.Get(&options.lower_threshold) ||
      !in.Get(&options.initial_threshold) || !in.Get(&options.warmup_scores) ||
      !in.Get(&options.anomaly_rate) || !in.Get(&options.continuation) || !in.Get(&in_anomaly) ||
      in_anomaly > 1 || !options.Validate().ok() || !in.Get(&t.count_) ||
      !in.Get(&t.weight_) || !in.Get(&t.sum_) || !in.Get(&t.sum_squares_) || !in.empty()) {
    return corrupt;
  }
  t.options_ = options;
  t.in_anomaly_ = in_anomaly == 1;
  return t;
}

}  // namespace fleetlog::detect
