#include "detect/evidence.h"

#include <gtest/gtest.h>

#include <cmath>

#include "detect/bucket_model.h"

namespace fleetlog::detect {
namespace {

constexpr int64_t kBucketUs = 5 * 60 * 1'000'000LL;
constexpr int kDay = 288;
constexpr size_t kAlerts = 4;  // alert_events
constexpr size_t kQueries = 0;

TEST(CountSurpriseTest, PoissonTailsMatchTheirClosedForms) {
  // P(X >= 3 | mu = 0.2) = 1 - e^-0.2 (1 + 0.2 + 0.02)
  EXPECT_NEAR(CountSurprise(3, 0.2, 0, true), -std::log10(1 - std::exp(-0.2) * 1.22), 1e-9);
  // P(X <= 0 | mu = 10) = e^-10
  EXPECT_NEAR(CountSurprise(0, 10, 0, false), 10 / std::log(10.0), 1e-9);
  // P(X <= 1 | mu = 4) = 5 e^-4
  EXPECT_NEAR(CountSurprise(1, 4, 0, false), -std::log10(5 * std::exp(-4.0)), 1e-9);
}

TEST(CountSurpriseTest, TheNegativeBinomialIsPoissonWithRoomForDaysThatRunBusier) {
  // Geometric (dispersion 1: size 1): P(X >= 5 | mu = 1) = (1/2)^5.
  EXPECT_NEAR(CountSurprise(5, 1, 1, true), 5 * std::log10(2.0), 1e-9);
  // 125 queries where 100 are usual: rare for Poisson, ordinary for a day 20% busier.
  EXPECT_GT(CountSurprise(125, 100, 0, true), 1.8);
  EXPECT_LT(CountSurprise(125, 100, 0.25, true), 1.0);
  // The other side of the mean is no surprise at all.
  EXPECT_EQ(CountSurprise(80, 100, 0.25, true), 0);
  EXPECT_EQ(CountSurprise(120, 100, 0.25, false), 0);
  // A collapse to 4% stays certain even with room for busy days.
  EXPECT_GT(CountSurprise(4, 100, 0.25, false), 10);
}

// A cluster whose buckets follow a daily rhythm: 20 to 100 queries and an alert event in
// every fifth bucket; `storm` adds `extra` alert events to buckets [from, to).
BucketMetrics Bucket(int b, double extra_alerts = 0) {
  BucketMetrics m;
  m.start = Timestamp::FromMicros(1'767'571'200'000'000LL + b * kBucketUs);
  const int of_day = b % kDay;
  m.values[kQueries] = 60 + 40 * std::sin(2 * 3.14159265358979 * of_day / kDay) + (b % 3);
  m.values[1] = 2 + 0.1 * (b % 4);
  m.values[2] = 1 + 0.2 * (b % 5);
  m.values[kAlerts] = (b % 5 == 0 ? 1 : 0) + extra_alerts;
  return m;
}

// A scorer that has learned every bucket before `until`.
EvidenceScorer TrainedUntil(int until) {
  EvidenceScorer scorer;
  for (int b = 0; b < until; ++b) scorer.Learn(Bucket(b));
  return scorer;
}

TEST(EvidenceScorerTest, UsualBucketsAreUnsurprisingAndAStormIsNot) {
  const int b = 8 * kDay + 100;
  EvidenceScorer scorer = TrainedUntil(b);
  ASSERT_TRUE(scorer.Ready(Bucket(b).start));
  EXPECT_LT(scorer.Score(Bucket(b)).Max(), 2.0);
  const auto storm = scorer.Score(Bucket(b, 5));  // 5 events where 0.2 are usual
  EXPECT_GT(storm.metric[kAlerts], 4.0);
  EXPECT_TRUE(storm.high[kAlerts]);
  EXPECT_EQ(storm.Max(), storm.metric[kAlerts]);
}

TEST(EvidenceScorerTest, AWeakStormBuildsUpEvidenceOverBuckets) {
  const int from = 8 * kDay + 102;  // one extra event per bucket where 0.2 are usual
  EvidenceScorer scorer = TrainedUntil(from);
  const double first = scorer.Score(Bucket(from, 1)).metric[kAlerts];
  for (int b = from; b < from + 5; ++b) scorer.Learn(Bucket(b, 1));
  const double sixth = scorer.Score(Bucket(from + 5, 1)).metric[kAlerts];
  EXPECT_LT(first, 1.5);
  EXPECT_GT(sixth, first + 1.0);
}

TEST(EvidenceScorerTest, ACollapseOfTheQueryCountIsSurprisingDownwards) {
  EvidenceScorer scorer = TrainedUntil(8 * kDay + 72);
  BucketMetrics m = Bucket(8 * kDay + 72);
  m.values[kQueries] = 3;
  const auto s = scorer.Score(m);
  EXPECT_GT(s.metric[kQueries], 10);
  EXPECT_FALSE(s.high[kQueries]);
}

// A cluster first seen on a Saturday: its weekend runs a quarter of its weekdays. Backfilled
// from the weekend, its first Monday is graded against the weekend's hours of the day (its
// hours of the week are not known yet), and must not read as an incident all day; once the
// hour of the week is known, the same jump is one.
TEST(EvidenceScorerTest, AYoungClustersFirstWeekdayAfterItsFirstWeekendIsNoIncident) {
  const int64_t saturday_us = 1'767'398'400'000'000LL;  // 2026-01-03 00:00 UTC
  auto bucket = [&](int b, double rate) {
    BucketMetrics m;
    m.start = Timestamp::FromMicros(saturday_us + b * kBucketUs);
    m.values[kQueries] = rate * (1 + 0.5 * std::sin(2 * 3.14159265358979 * (b % kDay) / kDay)) + (b % 3);
    m.values[1] = 2 + 0.1 * (b % 4);
    m.values[2] = 1 + 0.2 * (b % 5);
    return m;
  };
  const double weekend = 30, weekday = 120;
  EvidenceScorer scorer;
  for (int b = 0; b < 2 * kDay; ++b) scorer.Learn(bucket(b, weekend));
  double monday = 0;
  for (int b = 2 * kDay; b < 3 * kDay; ++b) {
    monday = std::max(monday, scorer.Score(bucket(b, weekday)).Max());
    scorer.Learn(bucket(b, weekday));
  }
  EXPECT_LT(monday, DetectorOptions{}.threshold);
  // A week on, Monday's hours are known: a fourfold Monday is surprising at once.
  for (int b = 3 * kDay; b < 9 * kDay; ++b) scorer.Learn(bucket(b, b < 7 * kDay ? weekday : weekend));
  const auto later = scorer.Score(bucket(9 * kDay + 120, 4 * weekday));
  EXPECT_GT(later.metric[kQueries], DetectorOptions{}.threshold);
  EXPECT_TRUE(later.high[kQueries]);
}

TEST(EvidenceScorerTest, ASavedScorerScoresAsTheOriginal) {
  EvidenceScorer scorer = TrainedUntil(2 * kDay);
  BlobWriter out;
  scorer.Serialize(&out);
  const std::string blob = out.Release();
  EvidenceScorer copy;
  BlobReader in(blob);
  ASSERT_TRUE(copy.Deserialize(&in));
  EXPECT_TRUE(in.empty());
  for (int b = 2 * kDay; b < 2 * kDay + 10; ++b) {
    const BucketMetrics m = Bucket(b, b % 7 == 0 ? 3 : 0);
    EXPECT_EQ(scorer.Score(m).metric, copy.Score(m).metric);
    scorer.Learn(m);
    copy.Learn(m);
  }
  BlobReader truncated(std::string_view(blob).substr(0, blob.size() - 3));
  EXPECT_FALSE(EvidenceScorer().Deserialize(&truncated));
}

}  // namespace
}  // namespace fleetlog::detect
