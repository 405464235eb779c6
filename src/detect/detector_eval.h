// Labelled evaluation of anomaly detectors on synthetic warehouse metrics.
//
// MakeWarehouseMetrics builds a 5-minute series of four metrics of one warehouse cluster with
// a daily cycle (query_count, p95_runtime_s, queue_wait_s, disk_spill_gb) and injects three
// labelled incidents: a 2-hour queue-wait spike, a 3-hour query-count collapse and a 45-minute
// disk-spill burst. CompareDetectors runs the Random Cut Forest (with its Thresholder) and a
// rolling z-score detector over the same rows and reports point-wise precision, recall and
// ROC AUC for both. bench/rcf_eval prints the comparison; a unit test guards it.
// Thread-safety: pure functions and value types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "detect/random_cut_forest.h"

namespace fleetlog::detect {

struct LabelledSeries {
  struct Incident {
    std::string name;
    size_t begin, end;  // rows [begin, end)
  };
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;  // one per 5 minutes
  std::vector<bool> anomalous;            // the label of each row
  std::vector<Incident> incidents;
};

// 288 rows per day; incidents fall on days 8, 10 and 12. REQUIRES: days >= 13.
LabelledSeries MakeWarehouseMetrics(uint64_t seed, int days = 14);

// Scores a row by its largest absolute z-score, per metric, against the previous `window` rows.
// Thread-safety: not thread-safe.
class RollingZScore {
 public:
  RollingZScore(int dimensions, int window);
  // 0 until `window` rows have been seen.
  double Score(std::span<const double> row) const;
  void Update(std::span<const double> row);

 private:
  size_t dims_, window_;
  std::vector<std::vector<double>> history_;  // ring of the last `window` rows
  size_t next_ = 0, seen_ = 0;
  std::vector<double> sum_, sum_squares_;
};

struct DetectionQuality {
  double precision = 0, recall = 0, auc = 0;
  int64_t flagged = 0, true_positives = 0, incidents_hit = 0;
};

// Area under the ROC curve of `scores` against `labels` (ties count one half).
double RocAuc(std::span<const double> scores, const std::vector<bool>& labels);

struct DetectorComparison {
  DetectionQuality forest, zscore;
  size_t evaluated_from = 0, evaluated_rows = 0;
};

// Runs both detectors over `series`; rows before `warmup_rows` train them but are not judged.
// The forest sees each metric divided by its standard deviation over the warm-up rows (a
// forest's cuts follow ranges, so units must be comparable); it flags rows with grade > 0.
// The z-score detector flags rows scoring above 3.
Result<DetectorComparison> CompareDetectors(const LabelledSeries& series, const ForestOptions& forest_options,
                                            size_t warmup_rows, int zscore_window);

}  // namespace fleetlog::detect
