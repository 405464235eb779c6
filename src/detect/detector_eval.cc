#include "detect/detector_eval.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "detect/random.h"
#include "detect/thresholder.h"

namespace fleetlog::detect {
namespace {

constexpr int kRowsPerDay = 288;
constexpr double kPi = 3.14159265358979323846;

double Gaussian(Rng& rng) {
  // Box-Muller; one draw per call keeps the stream simple to follow.
  return std::sqrt(-2.0 * std::log(rng.NextOpenUnit())) * std::cos(2 * kPi * rng.NextOpenUnit());
}

size_t At(int day, double hour) { return static_cast<size_t>(day * kRowsPerDay + static_cast<int>(hour * 12)); }

DetectionQuality Assess(std::span<const double> scores, const std::vector<bool>& flags,
                        const LabelledSeries& series, size_t from) {
  DetectionQuality q;
  int64_t positives = 0;
  for (size_t i = from; i < scores.size(); ++i) {
    positives += series.anomalous[i];
    q.flagged += flags[i];
    q.true_positives += flags[i] && series.anomalous[i];
  }
  q.precision = q.flagged > 0 ? static_cast<double>(q.true_positives) / static_cast<double>(q.flagged) : 0;
  q.recall = positives > 0 ? static_cast<double>(q.true_positives) / static_cast<double>(positives) : 0;
  q.auc = RocAuc(scores.subspan(from), std::vector<bool>(series.anomalous.begin() + static_cast<std::ptrdiff_t>(from),
                                                         series.anomalous.end()));
  for (const auto& incident : series.incidents) {
    q.incidents_hit += std::any_of(flags.begin() + static_cast<std::ptrdiff_t>(incident.begin),
                                   flags.begin() + static_cast<std::ptrdiff_t>(incident.end), [](bool f) { return f; });
  }
  return q;
}

}  // namespace

LabelledSeries MakeWarehouseMetrics(uint64_t seed, int days) {
  LabelledSeries s;
  s.columns = {"query_count", "p95_runtime_s", "queue_wait_s", "disk_spill_gb"};
  Rng rng(seed);
  const size_t n = static_cast<size_t>(days * kRowsPerDay);
  s.anomalous.assign(n, false);
  s.incidents = {{"queue-wait spike", At(8, 10), At(8, 12)},
                 {"query-count collapse", At(10, 13), At(10, 16)},
                 {"disk-spill burst", At(12, 2), At(12, 2.75)}};
  for (const auto& incident : s.incidents) {
    std::fill(s.anomalous.begin() + static_cast<std::ptrdiff_t>(incident.begin),
              s.anomalous.begin() + static_cast<std::ptrdiff_t>(incident.end), true);
  }
  for (size_t i = 0; i < n; ++i) {
    const double hour = static_cast<double>(i % kRowsPerDay) / 12.0;
    // Load peaks mid-afternoon and bottoms out at night; 0..1.
    const double load = 0.5 - 0.5 * std::cos(2 * kPi * (hour - 3) / 24);
    double queries = 200 + 600 * load + 25 * Gaussian(rng);
    if (s.anomalous[i] && i >= s.incidents[1].begin && i < s.incidents[1].end) queries *= 0.05;
    const double busy = std::max(0.0, queries - 200) / 600;  // the load the cluster actually has
    double runtime = 4 + 6 * busy + 0.6 * Gaussian(rng);
    double queue = 0.5 + 3 * busy * busy + std::abs(0.3 * Gaussian(rng));
    // Routine small spills, more likely when busy.
    double spill = rng.NextOpenUnit() < 0.1 + 0.3 * busy ? -std::log(rng.NextOpenUnit()) : 0;
    if (i >= s.incidents[0].begin && i < s.incidents[0].end) queue += 8 + Gaussian(rng);
    if (i >= s.incidents[2].begin && i < s.incidents[2].end) {
      spill = 40 + 10 * rng.NextOpenUnit();
      runtime *= 2;
    }
    s.rows.push_back({queries, runtime, queue, spill});
  }
  return s;
}

RollingZScore::RollingZScore(int dimensions, int window)
    : dims_(static_cast<size_t>(dimensions)),
      window_(static_cast<size_t>(window)),
      history_(window_, std::vector<double>(dims_)),
      sum_(dims_),
      sum_squares_(dims_) {}

double RollingZScore::Score(std::span<const double> row) const {
  if (seen_ < window_) return 0;
  double worst = 0;
  const auto n = static_cast<double>(window_);
  for (size_t d = 0; d < dims_; ++d) {
    const double mean = sum_[d] / n;
    const double sd = std::sqrt(std::max(1e-12, sum_squares_[d] / n - mean * mean));
    worst = std::max(worst, std::abs(row[d] - mean) / sd);
  }
  return worst;
}

void RollingZScore::Update(std::span<const double> row) {
  std::vector<double>& slot = history_[next_];
  for (size_t d = 0; d < dims_; ++d) {
    if (seen_ >= window_) {
      sum_[d] -= slot[d];
      sum_squares_[d] -= slot[d] * slot[d];
    }
    slot[d] = row[d];
    sum_[d] += row[d];
    sum_squares_[d] += row[d] * row[d];
  }
  next_ = (next_ + 1) % window_;
  ++seen_;
}

double RocAuc(std::span<const double> scores, const std::vector<bool>& labels) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney U: sum of the positives' ranks, ties given their average rank.
  double positive_rank_sum = 0;
  double positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double rank = (static_cast<double>(i + j) + 1) / 2;  // 1-based average of i+1..j
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]]) {
        positive_rank_sum += rank;
        ++positives;
      }
    }
    i = j;
  }
  const double negatives = static_cast<double>(scores.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  return (positive_rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

Result<DetectorComparison> CompareDetectors(const LabelledSeries& series, const ForestOptions& forest_options,
                                            size_t warmup_rows, int zscore_window) {
  const size_t dims = series.columns.size();
  if (warmup_rows < 2 || warmup_rows >= series.rows.size()) {
    return InvalidArgument("warm-up of {} rows leaves nothing to evaluate in {} rows", warmup_rows, series.rows.size());
  }
  ForestOptions options = forest_options;
  options.dimensions = static_cast<int>(dims);
  ASSIGN_OR_RETURN(RandomCutForest forest, RandomCutForest::Create(options));
  Thresholder thresholder;
  RollingZScore zscore(static_cast<int>(dims), zscore_window);

  std::vector<double> scale(dims);
  for (size_t d = 0; d < dims; ++d) {
    double sum = 0, sum_squares = 0;
    for (size_t i = 0; i < warmup_rows; ++i) {
      sum += series.rows[i][d];
      sum_squares += series.rows[i][d] * series.rows[i][d];
    }
    const double mean = sum / static_cast<double>(warmup_rows);
    scale[d] = std::sqrt(std::max(1e-12, sum_squares / static_cast<double>(warmup_rows) - mean * mean));
  }

  const size_t n = series.rows.size();
  std::vector<double> forest_scores(n), zscores(n);
  std::vector<bool> forest_flags(n), zscore_flags(n);
  std::vector<double> scaled(dims);
  for (size_t i = 0; i < n; ++i) {
    const std::vector<double>& row = series.rows[i];
    for (size_t d = 0; d < dims; ++d) scaled[d] = row[d] / scale[d];
    forest_scores[i] = forest.Score(scaled);
    forest_flags[i] = forest.ready() && thresholder.GradeAndUpdate(forest_scores[i]) > 0;
    RETURN_IF_ERROR(forest.Update(scaled));
    zscores[i] = zscore.Score(row);
    zscore_flags[i] = zscores[i] > 3;
    zscore.Update(row);
  }
  DetectorComparison result;
  result.evaluated_from = warmup_rows;
  result.evaluated_rows = n - warmup_rows;
  result.forest = Assess(forest_scores, forest_flags, series, warmup_rows);
  result.zscore = Assess(zscores, zscore_flags, series, warmup_rows);
  return result;
}

}  // namespace fleetlog::detect
