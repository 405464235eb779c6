#include "detect/seasonal_profile.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/time.h"

namespace fleetlog::detect {
namespace {

constexpr int64_t kBucketUs = 5 * 60 * 1'000'000LL;
constexpr int kBucketsPerDay = 288;
// A Monday, 00:00 UTC.
const Timestamp kMonday = Timestamp::FromMicros(1'767'571'200'000'000LL);

Timestamp At(int bucket) { return kMonday + Duration::Micros(kBucketUs * bucket); }

// Busy afternoons, quiet nights and weekends (log units), with a little wobble.
SeasonalProfile::Vector Usual(int bucket) {
  const double hour = (bucket % kBucketsPerDay) / 12.0;
  const bool weekend = (bucket / kBucketsPerDay) % 7 >= 5;
  SeasonalProfile::Vector x{};
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = 1 + i + 3 * std::exp(-0.5 * std::pow((hour - 14) / 3, 2)) * (weekend ? 0.3 : 1) + 0.1 * std::sin(bucket * 1.7 + i);
  return x;
}

double LargestResidual(const SeasonalProfile& p, int bucket, const SeasonalProfile::Vector& x) {
  double worst = 0;
  for (double r : p.Residuals(At(bucket), x)) worst = std::max(worst, std::fabs(r));
  return worst;
}

TEST(SeasonalProfileTest, DailyAndWeeklyRhythmsAreNotResiduals) {
  SeasonalProfile p;
  EXPECT_FALSE(p.Ready(At(0)));
  for (int b = 0; b < 7 * kBucketsPerDay; ++b) p.Learn(At(b), Usual(b));
  // In the second week, every bucket (the Monday morning rise after a quiet weekend included)
  // stays within a few spreads of what the first week taught; a raw model would see the
  // afternoon peak as several times the night.
  double worst = 0;
  for (int b = 7 * kBucketsPerDay; b < 14 * kBucketsPerDay; ++b) {
    ASSERT_TRUE(p.Ready(At(b)));
    worst = std::max(worst, LargestResidual(p, b, Usual(b)));
    p.Learn(At(b), Usual(b));
  }
  EXPECT_LT(worst, 2.0);
}

TEST(SeasonalProfileTest, AnIncidentStandsOutAndIsLearnedOnlySlowly) {
  SeasonalProfile p;
  const int week = 7 * kBucketsPerDay;
  for (int b = 0; b < week; ++b) p.Learn(At(b), Usual(b));
  // Two hours of metric 2 four units (about 55 times) above its usual level.
  const int start = week + 2 * kBucketsPerDay + 10 * 12;
  for (int b = week; b < start; ++b) p.Learn(At(b), Usual(b));
  for (int b = start; b < start + 24; ++b) {
    SeasonalProfile::Vector x = Usual(b);
    x[2] += 4;
    const auto r = p.Residuals(At(b), x);
    EXPECT_GT(r[2], 4) << "bucket " << b - start;
    EXPECT_LT(std::fabs(r[0]), 2) << "bucket " << b - start;
    p.Learn(At(b), x);
  }
  // A week later the same hours are ordinary again: the incident did not become the norm
  // (learning it as it came would leave a residual of about 16 here).
  for (int b = start + 24; b < start + week; ++b) p.Learn(At(b), Usual(b));
  for (int b = start + week; b < start + week + 24; ++b) EXPECT_LT(LargestResidual(p, b, Usual(b)), 2.5) << b - start - week;
}

TEST(SeasonalProfileTest, SerializesExactly) {
  SeasonalProfile p(SeasonalOptions{.min_spread = 0.3});
  for (int b = 0; b < 500; ++b) p.Learn(At(b), Usual(b));
  BlobWriter out;
  p.Serialize(&out);
  const std::string blob = out.Release();
  SeasonalProfile q;
  BlobReader in(blob);
  ASSERT_TRUE(q.Deserialize(&in));
  EXPECT_TRUE(in.empty());
  for (int b = 500; b < 600; ++b) EXPECT_EQ(p.Residuals(At(b), Usual(b)), q.Residuals(At(b), Usual(b)));
  BlobReader truncated(std::string_view(blob).substr(0, blob.size() / 2));
  EXPECT_FALSE(SeasonalProfile().Deserialize(&truncated));
}

}  // namespace
}  // namespace fleetlog::detect
