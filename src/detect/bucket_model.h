// One cluster's anomaly model over its bucket metrics (fleet_metrics.h): a Random Cut Forest
// over log(1 + value) of each metric and a Thresholder that grades its scores. What the fleet
// detector runs after each cycle, and what bench/alert_calibration drives directly.
// Thread-safety: a value type with one owner.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "detect/fleet_metrics.h"
#include "detect/random_cut_forest.h"
#include "detect/thresholder.h"

namespace fleetlog::detect {

struct ScoredBucket {
  BucketMetrics metrics;
  double score = 0, grade = 0;
  std::string attribution;  // "queue_wait_s high (83%), ...": the metrics that drove the score
};

// The thresholds the detector grades with: calibrated by bench/alert_calibration on the
// simulated fleet's labelled anomalies (see docs).
ThresholderOptions DetectorThresholderOptions();

struct BucketModel {
  RandomCutForest forest;
  Thresholder thresholder;
  Duration bucket;
  Timestamp learned_through;  // the end of the last bucket learned

  static BucketModel New(Duration bucket, Timestamp start, const ThresholderOptions& options = DetectorThresholderOptions());

  // Scores one bucket against what the model has learned, then learns it. `describe` adds
  // the attribution (costs one more pass over the trees).
  Result<ScoredBucket> ScoreAndLearn(const BucketMetrics& metrics, bool describe);

  std::string Serialize() const;
  static Result<BucketModel> Deserialize(std::string_view blob);
};

}  // namespace fleetlog::detect
