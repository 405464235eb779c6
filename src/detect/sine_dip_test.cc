// The example stream of the detection mission:
//   value(t) = 10 * sin(rad) + 10, rad = (t / 100) mod 360, except value = -17 while 2.4 < rad < 2.6.
// Read literally, rad keeps growing to 360 before wrapping, so the sine has a period of
// 2*pi*100 ~ 628 points and the dip occurs once every 36000 points: at t in (240, 260), and
// again at t in (36240, 36260). The first dip comes before the model has seen one full cycle
// (scores start after 628 / 4 = 157 points), so it is not a fair test of "no false alarm after
// warm-up". We run t = 0 .. 37000, call the first two cycles (t < 1256) warm-up, and judge the
// second dip against everything else after warm-up.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include "detect/random_cut_forest.h"
#include "detect/thresholder.h"

namespace fleetlog::detect {
namespace {

double MissionValue(int64_t t) {
  const double rad = std::fmod(static_cast<double>(t) / 100.0, 360.0);
  if (rad > 2.4 && rad < 2.6) return -17;
  return 10 * std::sin(rad) + 10;
}

bool InDip(int64_t t) {
  const double rad = std::fmod(static_cast<double>(t) / 100.0, 360.0);
  return rad > 2.4 && rad < 2.6;
}

TEST(SineDipTest, ScorePeaksInTheDipAndOnlyTheDipIsGraded) {
  ForestOptions options;
  options.sample_size = 628;
  options.shingle_size = 1;
  options.bounding_box_cache = true;  // same scores as without, faster
  RandomCutForest forest = RandomCutForest::Create(options).value();
  Thresholder thresholder;
  constexpr int64_t kWarmup = 1256, kEnd = 37000;
  double peak = 0, peak_outside = 0, dip_grade = 0;
  int64_t peak_at = -1, false_alarms = 0;
  for (int64_t t = 0; t < kEnd; ++t) {
    const double x[1] = {MissionValue(t)};
    const double score = forest.Score(x);
    const double grade = forest.ready() ? thresholder.GradeAndUpdate(score) : 0;
    ASSERT_TRUE(forest.Update(x).ok());
    if (t < kWarmup) continue;
    if (score > peak) {
      peak = score;
      peak_at = t;
    }
    if (InDip(t)) {
      dip_grade = std::max(dip_grade, grade);
    } else {
      peak_outside = std::max(peak_outside, score);
      if (grade > 0) ++false_alarms;
    }
  }
  EXPECT_TRUE(InDip(peak_at)) << "peak score " << peak << " at t=" << peak_at;
  EXPECT_GT(dip_grade, 0.5);
  EXPECT_EQ(false_alarms, 0) << "highest score outside the dip " << peak_outside;
  std::printf("sine dip: peak score %.3f at t=%lld, highest elsewhere after warm-up %.3f, dip grade %.2f, false alarms %lld\n",
              peak, static_cast<long long>(peak_at), peak_outside, dip_grade, static_cast<long long>(false_alarms));
}

}  // namespace
}  // namespace fleetlog::detect
