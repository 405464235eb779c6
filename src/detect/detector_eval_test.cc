#include "detect/detector_eval.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

namespace fleetlog::detect {
namespace {

TEST(DetectorEvalTest, RocAucOfKnownRankings) {
  const std::vector<bool> labels = {false, false, true, true};
  const std::vector<double> perfect = {0.1, 0.2, 0.8, 0.9};
  const std::vector<double> inverted = {0.9, 0.8, 0.2, 0.1};
  const std::vector<double> tied = {1, 1, 1, 1};
  EXPECT_DOUBLE_EQ(RocAuc(perfect, labels), 1.0);
  EXPECT_DOUBLE_EQ(RocAuc(inverted, labels), 0.0);
  EXPECT_DOUBLE_EQ(RocAuc(tied, labels), 0.5);
}

TEST(DetectorEvalTest, ForestBeatsRollingZScoreOnLabelledWarehouseMetrics) {
  const LabelledSeries series = MakeWarehouseMetrics(/*seed=*/2024);
  ForestOptions options;
  options.bounding_box_cache = true;  // same scores, faster test
  auto result = CompareDetectors(series, options, /*warmup_rows=*/2 * 288, /*zscore_window=*/288);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::printf("forest  precision %.3f recall %.3f auc %.3f\nz-score precision %.3f recall %.3f auc %.3f\n",
              result->forest.precision, result->forest.recall, result->forest.auc, result->zscore.precision,
              result->zscore.recall, result->zscore.auc);
  EXPECT_GT(result->forest.auc, result->zscore.auc);
  EXPECT_EQ(result->forest.incidents_hit, 3);
}

}  // namespace
}  // namespace fleetlog::detect
