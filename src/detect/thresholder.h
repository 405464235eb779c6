// Thresholder: turns a stream of anomaly scores into grades in [0, 1] with few false alarms.
//
// After the reference library's BasicThresholder. It keeps an exponentially discounted mean
// and standard deviation of the scores seen so far; a score is anomalous when it exceeds
//   threshold = max(lower_threshold, mean + z_factor * deviation)
// and, during warm-up (fewer than `warmup_scores` scores seen), the fixed
// `initial_threshold` instead. The grade is 0 below the threshold and rises linearly from 0.5
// at the threshold to 1 at twice the threshold.
//
// `anomaly_rate` is the expected fraction of anomalous points; as in the reference, it sets
// how fast the statistics forget: each new score discounts the old ones by (1 - anomaly_rate),
// a horizon of about 1/anomaly_rate scores. A higher rate adapts faster (more alarms right
// after a level shift, fewer during a long one).
//
// `continuation` (at most 1) is hysteresis, as in the reference's predictor-corrector: right
// after a score graded anomalous by GradeAndUpdate, the next is graded against
// continuation * threshold, so an anomaly that lasts does not flicker in and out (each
// flicker would be a new alert).
//
// Thread-safety: not thread-safe; a value type with one owner.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace fleetlog::detect {

struct ThresholderOptions {
  double z_factor = 3.0;
  double lower_threshold = 1.0;    // the floor: no score below it is anomalous
  double initial_threshold = 1.5;  // the fixed threshold during warm-up
  int warmup_scores = 32;
  double anomaly_rate = 0.005;
  double continuation = 1.0;       // (0, 1]: the threshold's factor right after an anomalous score

  Status Validate() const;
};

class Thresholder {
 public:
  // REQUIRES: options.Validate().ok().
  explicit Thresholder(const ThresholderOptions& options = {});

  // The grade of `score` against the scores seen so far (and whether the last one graded was
  // anomalous); does not learn from it.
  double Grade(double score) const;
  // Learns from `score`.
  void Update(double score);
  // Grade(score), then Update(score); remembers whether it was anomalous.
  double GradeAndUpdate(double score);

  // The threshold the next score is graded against (continuation included).
  double threshold() const;
  double mean() const;
  double deviation() const;
  int64_t scores_seen() const { return count_; }

  std::string Serialize() const;
  static Result<Thresholder> Deserialize(std::string_view blob);

 private:
  ThresholderOptions options_;
  int64_t count_ = 0;
  double weight_ = 0;  // discounted number of scores
  double sum_ = 0;     // discounted sum of scores
  double sum_squares_ = 0;
  bool in_anomaly_ = false;  // the last GradeAndUpdate graded > 0
};

}  // namespace fleetlog::detect
