// One cluster's anomaly model over its bucket metrics (fleet_metrics.h): a seasonal profile
// (seasonal_profile.h) turns log(1 + value) of each metric into residuals from what is usual
// at that time of the week, a Random Cut Forest scores the residuals, and a Thresholder grades
// the scores. What the fleet detector runs after each cycle, and what bench/alert_calibration
// drives directly. Buckets before the profile knows their hour of the day only teach it
// (score 0).
// Thread-safety: a value type with one owner.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "detect/fleet_metrics.h"
#include "detect/random_cut_forest.h"
#include "detect/seasonal_profile.h"
#include "detect/thresholder.h"

namespace fleetlog::detect {

struct ScoredBucket {
  BucketMetrics metrics;
  double score = 0, grade = 0;
  std::string attribution;  // "queue_wait_s high (83%), ...": the metrics that drove the score
};

// How bucket metrics become the forest's input (beyond the seasonal profile).
struct InputOptions {
  // Counts enter as sqrt(x + 3/8) (Anscombe's transform, halved: a Poisson count's spread is
  // then about 0.5 at any level) instead of log(1 + x), so three events where 0.2 are usual
  // read as the chance they are, not as a twentyfold rise. Seconds stay log(1 + x).
  bool counts_sqrt = false;
  // Residuals beyond this many spreads count as this many (0: not clipped), so one freak
  // bucket cannot outweigh a lasting shift.
  double residual_clip = 0;
  // The forest also sees an exponential average of the residuals with this weight on the
  // newest bucket (0: not), so a shift that lasts builds up evidence bucket by bucket.
  double smoothing = 0;
};

struct DetectorOptions {
  SeasonalOptions seasonal;
  InputOptions input;
  ThresholderOptions thresholder;
};

// A bucket's metrics as the profile sees them: log(1 + value), or for counts sqrt(x + 3/8)
// when options.counts_sqrt.
SeasonalProfile::Vector BucketFeatures(const BucketMetrics& m, const InputOptions& options);

// What the detector runs with: calibrated by bench/alert_calibration on the simulated fleet's
// labelled anomalies (see docs/alerts-and-monitoring.md).
DetectorOptions DefaultDetectorOptions();

struct BucketModel {
  SeasonalProfile profile;
  RandomCutForest forest;
  Thresholder thresholder;
  InputOptions input;
  SeasonalProfile::Vector smoothed{};  // the exponential average of residuals
  Duration bucket;
  Timestamp learned_through;  // the end of the last bucket learned

  static BucketModel New(Duration bucket, Timestamp start, const DetectorOptions& options = DefaultDetectorOptions());

  // Scores one bucket against what the model has learned, then learns it. `describe` adds
  // the attribution (costs one more pass over the trees).
  Result<ScoredBucket> ScoreAndLearn(const BucketMetrics& metrics, bool describe);

  std::string Serialize() const;
  static Result<BucketModel> Deserialize(std::string_view blob);
};

}  // namespace fleetlog::detect
