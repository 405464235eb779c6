// One cluster's anomaly model over its bucket metrics (fleet_metrics.h): an evidence scorer
// (evidence.h) gives each bucket its surprise, -log10 of the smallest tail probability of any
// metric over the latest buckets given what is usual at that time of the week, and a fixed
// bar grades it. What the fleet detector runs after each cycle, and what
// bench/alert_calibration drives directly. Buckets before the seasonal profiles know their
// hour of the day only teach them (score 0).
// Thread-safety: a value type with one owner.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "detect/evidence.h"
#include "detect/fleet_metrics.h"

namespace fleetlog::detect {

struct ScoredBucket {
  BucketMetrics metrics;
  double score = 0, grade = 0;
  std::string attribution;  // "alert_events high (91%), ...": the metrics that drove the score
};

struct DetectorOptions {
  EvidenceOptions evidence;
  // A bucket is anomalous when its surprise is above `threshold` (a tail probability below
  // 10^-threshold); right after an anomalous bucket, above continuation * threshold, so an
  // anomaly that lasts does not flicker (each flicker would be a new alert).
  double threshold = 7;
  double continuation = 0.5;
};

// What the detector runs with (the defaults above): calibrated by bench/alert_calibration on
// the simulated fleet's labelled anomalies (see docs/alerts-and-monitoring.md).
DetectorOptions DefaultDetectorOptions();

// The grade of a surprise `score` against the bar `bar`: 0 below it, rising linearly from 0.5
// at the bar to 1 at twice the bar.
double GradeOf(double score, double bar);

// "alert_events high (91%), query_count low (9%)": the metrics whose surprise makes up the
// bucket's, largest first (metrics with a tail probability above 0.1 take no part).
std::string DescribeSurprise(const EvidenceScorer::Surprise& surprise);

struct BucketModel {
  EvidenceScorer scorer;
  double threshold = 7, continuation = 0.5;
  bool in_anomaly = false;  // the last bucket scored was graded anomalous
  Duration bucket;
  Timestamp learned_through;  // the end of the last bucket learned

  static BucketModel New(Duration bucket, Timestamp start, const DetectorOptions& options = DefaultDetectorOptions());

  // Scores one bucket against what the model has learned, then learns it. `describe` adds
  // the attribution.
  Result<ScoredBucket> ScoreAndLearn(const BucketMetrics& metrics, bool describe);

  std::string Serialize() const;
  // kNotFound: a model saved by a fleetlog with another model format (to be rebuilt by
  // replay); kCorruption: not a model, or a damaged one.
  static Result<BucketModel> Deserialize(std::string_view blob);
};

}  // namespace fleetlog::detect
