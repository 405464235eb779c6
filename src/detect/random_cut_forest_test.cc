#include "detect/random_cut_forest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <utility>
#include <vector>

#include "detect/random.h"
#include "detect/thresholder.h"

namespace fleetlog::detect {
namespace {

std::vector<double> ScoreStream(RandomCutForest& forest, int64_t from, int64_t to, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> scores;
  for (int64_t t = from; t < to; ++t) {
    const double x[2] = {std::sin(static_cast<double>(t) / 50) + 0.1 * rng.NextOpenUnit(),
                         std::cos(static_cast<double>(t) / 50) + 0.1 * rng.NextOpenUnit()};
    scores.push_back(forest.Score(x));
    EXPECT_TRUE(forest.Update(x).ok());
  }
  return scores;
}

ForestOptions SmallForest() {
  ForestOptions options;
  options.dimensions = 2;
  options.shingle_size = 2;
  options.number_of_trees = 20;
  options.sample_size = 64;
  return options;
}

TEST(RandomCutForestTest, SameSeedSameScores) {
  RandomCutForest a = RandomCutForest::Create(SmallForest()).value();
  RandomCutForest b = RandomCutForest::Create(SmallForest()).value();
  const std::vector<double> first = ScoreStream(a, 0, 2000, 9);
  EXPECT_EQ(first, ScoreStream(b, 0, 2000, 9));
  ForestOptions other = SmallForest();
  other.seed = 43;
  RandomCutForest c = RandomCutForest::Create(other).value();
  EXPECT_NE(first, ScoreStream(c, 0, 2000, 9));
}

TEST(RandomCutForestTest, BoxCacheChangesSpeedNotScores) {
  ForestOptions uncached = SmallForest();
  uncached.bounding_box_cache = false;
  ForestOptions cached = SmallForest();
  cached.bounding_box_cache = true;
  RandomCutForest a = RandomCutForest::Create(uncached).value();
  RandomCutForest b = RandomCutForest::Create(cached).value();
  EXPECT_EQ(ScoreStream(a, 0, 1500, 4), ScoreStream(b, 0, 1500, 4));
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(b.tree(i).Validate(b.point_store()).ok());
}

TEST(RandomCutForestTest, ScoresZeroUntilOutputAfter) {
  RandomCutForest forest = RandomCutForest::Create(SmallForest()).value();
  const std::vector<double> scores = ScoreStream(forest, 0, 100, 1);
  // Shingle 2: the first point enters with input 2; output_after = 64 / 4 = 16 points.
  for (int t = 0; t < 17; ++t) EXPECT_EQ(scores[static_cast<size_t>(t)], 0) << t;
  EXPECT_GT(scores[17], 0);
}

TEST(RandomCutForestTest, IsolatedPointScoresAboveClusterPoints) {
  ForestOptions options;
  options.dimensions = 3;
  RandomCutForest forest = RandomCutForest::Create(options).value();
  Rng rng(5);
  for (int i = 0; i < 2000; ++i) {
    const double x[3] = {rng.NextOpenUnit(), rng.NextOpenUnit(), rng.NextOpenUnit()};
    ASSERT_TRUE(forest.Update(x).ok());
  }
  double cluster_max = 0;
  for (int i = 0; i < 50; ++i) {
    const double x[3] = {0.2 + 0.6 * rng.NextOpenUnit(), 0.2 + 0.6 * rng.NextOpenUnit(),
                         0.2 + 0.6 * rng.NextOpenUnit()};
    cluster_max = std::max(cluster_max, forest.Score(x));
  }
  const double isolated[3] = {0.5, 0.5, 4.0};
  const double isolated_score = forest.Score(isolated);
  EXPECT_LT(cluster_max, 1.0);
  EXPECT_GT(isolated_score, 1.5);
  EXPECT_GT(isolated_score, 2 * cluster_max);

  const DiVector attribution = forest.Attribution(isolated);
  EXPECT_NEAR(attribution.Total(), isolated_score, 1e-6 * isolated_score);  // float box sums
  EXPECT_GT(attribution.high[2], 0.9 * isolated_score);  // the third value is too high
}

TEST(RandomCutForestTest, EvictedPointsLeaveTreesAndStore) {
  ForestOptions options = SmallForest();
  options.number_of_trees = 5;
  RandomCutForest forest = RandomCutForest::Create(options).value();
  ScoreStream(forest, 0, 5000, 3);
  size_t references = 0;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(forest.tree(i).Validate(forest.point_store()).ok());
    EXPECT_EQ(forest.tree(i).mass(), 64);
    references += forest.SampledPoints(i).size();
  }
  // Every live point is held by some sampler; everything else was freed.
  EXPECT_LE(forest.point_store().live_points(), references);
  EXPECT_LT(forest.point_store().live_points(), 5 * 64u + 1);
}

TEST(RandomCutForestTest, RestoredModelContinuesWithIdenticalScores) {
  for (const auto& [cache, shingle] : {std::pair{false, 2}, {true, 2}, {true, 1}}) {
    SCOPED_TRACE(testing::Message() << "cache " << cache << ", shingle " << shingle);
    ForestOptions options = SmallForest();
    options.bounding_box_cache = cache;
    options.shingle_size = shingle;
    RandomCutForest original = RandomCutForest::Create(options).value();
    ScoreStream(original, 0, 1234, 8);
    const std::string blob = original.Serialize();
    auto restored = RandomCutForest::Deserialize(blob);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    // The continuation shares the seed of the noise generator, so both see the same inputs.
    EXPECT_EQ(ScoreStream(*restored, 1234, 3000, 77), ScoreStream(original, 1234, 3000, 77));
    EXPECT_LT(blob.size(), 200u * 1024);

    EXPECT_FALSE(RandomCutForest::Deserialize(blob.substr(0, blob.size() / 2)).ok());
    EXPECT_FALSE(RandomCutForest::Deserialize("not a model").ok());
  }
}

TEST(RandomCutForestTest, RejectsBadOptionsAndInputs) {
  ForestOptions options;
  options.sample_size = 1;
  EXPECT_EQ(RandomCutForest::Create(options).status().code(), StatusCode::kInvalidArgument);
  RandomCutForest forest = RandomCutForest::Create(ForestOptions{}).value();
  const double nan[1] = {std::nan("")};
  EXPECT_FALSE(forest.Update(nan).ok());
  const double two[2] = {1, 2};
  EXPECT_FALSE(forest.Update(two).ok());
  EXPECT_EQ(forest.inputs_seen(), 0);
}

}  // namespace
}  // namespace fleetlog::detect
