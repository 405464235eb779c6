#include "detect/thresholder.h"

#include <gtest/gtest.h>

#include <vector>

namespace fleetlog::detect {
namespace {

TEST(ThresholderTest, UsesTheFixedThresholdDuringWarmup) {
  ThresholderOptions options;
  options.warmup_scores = 10;
  Thresholder t(options);
  for (int i = 0; i < 9; ++i) t.Update(0.1);
  EXPECT_EQ(t.threshold(), 1.5);
  EXPECT_EQ(t.Grade(1.4), 0);
  EXPECT_EQ(t.Grade(1.5), 0.5);
  EXPECT_EQ(t.Grade(3.0), 1.0);
  t.Update(0.1);
  // Past warm-up: mean + 3 * deviation of constant scores is 0.1, so the floor rules.
  EXPECT_EQ(t.threshold(), 1.0);
  EXPECT_GT(t.Grade(1.2), 0.5);
}

TEST(ThresholderTest, GradesOnlyScoresFarAboveTheRecentOnes) {
  Thresholder t;
  for (int i = 0; i < 500; ++i) t.Update(1.2 + 0.1 * ((i % 5) - 2));  // mean 1.2, sd ~0.14
  EXPECT_NEAR(t.mean(), 1.2, 0.01);
  EXPECT_GT(t.threshold(), 1.55);
  EXPECT_LT(t.threshold(), 1.7);
  EXPECT_EQ(t.Grade(1.4), 0);
  EXPECT_GT(t.Grade(2.5), 0.5);
  EXPECT_LE(t.Grade(100), 1.0);
}

TEST(ThresholderTest, AnomalyRateSetsHowFastItForgets) {
  ThresholderOptions slow, fast;
  slow.anomaly_rate = 0.001;
  fast.anomaly_rate = 0.05;
  Thresholder a(slow), b(fast);
  for (int i = 0; i < 1000; ++i) {
    a.Update(0.5);
    b.Update(0.5);
  }
  for (int i = 0; i < 100; ++i) {
    a.Update(2.0);
    b.Update(2.0);
  }
  // After a level shift the fast one has mostly adopted the new level.
  EXPECT_GT(b.mean(), 1.8);
  EXPECT_LT(a.mean(), 1.0);
}

TEST(ThresholderTest, ContinuationHoldsALastingAnomaly) {
  ThresholderOptions options;
  options.continuation = 0.6;
  Thresholder held(options), plain;
  for (int i = 0; i < 500; ++i) {
    held.Update(0.5);
    plain.Update(0.5);
  }
  ASSERT_EQ(held.threshold(), 1.0);  // the floor
  // An anomaly whose score dips below the threshold for a bucket: one alert, not two.
  std::vector<double> held_grades, plain_grades;
  for (double score : {2.0, 0.8, 2.0, 0.5, 0.5}) {
    held_grades.push_back(held.GradeAndUpdate(score));
    plain_grades.push_back(plain.GradeAndUpdate(score));
  }
  EXPECT_GT(held_grades[1], 0);   // 0.8 >= 0.6 * threshold, right after an anomalous score
  EXPECT_EQ(plain_grades[1], 0);
  EXPECT_EQ(held_grades[3], 0);   // 0.5 ends it
  EXPECT_EQ(held_grades[4], 0);
  EXPECT_GT(held.threshold(), 0.9);  // back to the full threshold once it ended
  options.continuation = 1.5;
  EXPECT_FALSE(options.Validate().ok());
}

TEST(ThresholderTest, SerializesAndValidates) {
  Thresholder t;
  for (int i = 0; i < 100; ++i) t.Update(0.3 * (i % 3));
  auto copy = Thresholder::Deserialize(t.Serialize());
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->threshold(), t.threshold());
  EXPECT_EQ(copy->Grade(2.0), t.Grade(2.0));
  EXPECT_FALSE(Thresholder::Deserialize("x").ok());
  ThresholderOptions bad;
  bad.anomaly_rate = 0;
  EXPECT_FALSE(bad.Validate().ok());
}

}  // namespace
}  // namespace fleetlog::detect
