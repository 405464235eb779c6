#include "detect/evidence.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "detect/bucket_model.h"

namespace fleetlog::detect {
namespace {

constexpr int64_t kBucketUs = 5 * 60 * 1'000'000LL;
constexpr int kDay = 288;
constexpr size_t kAlerts = 4;  // alert_events
constexpr size_t kQueries = 0;
constexpr size_t kNestedLoop = 6;  // nested_loop_queries

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

TEST(EvidenceScorerTest, ExpectsWhatAnHourOfTheWeekUsuallyHolds) {
  const int b = 8 * kDay + 100;
  const EvidenceScorer scorer = TrainedUntil(b);
  const auto expected = scorer.Expected(Bucket(b));
  EXPECT_NEAR(expected[kQueries], Bucket(b).values[kQueries], 3);
  EXPECT_NEAR(expected[1], 2.15, 0.2);       // seconds, back from log(1 + value)
  EXPECT_NEAR(expected[kAlerts], 0.2, 0.2);  // an alert event in every fifth bucket
  EXPECT_GE(expected[kAlerts], 0.01);        // never below the count floor
}

TEST(EvidenceScorerTest, ACollapseLearnedInAnHoursFirstWeekDoesNotMakeItsSecondWeekARise) {
  // Week 1 held a collapse (a twentieth of the queries) all through Tuesday 10:00-11:00; in
  // week 2 that hour is ordinary again, and judged against the hour of the day as well.
  const int from = kDay + 10 * 12, to = from + 12;
  auto bucket = [&](int b) {
    BucketMetrics m = Bucket(b);
    if (b >= from && b < to) m.values[kQueries] = std::floor(m.values[kQueries] / 20);
    return m;
  };
  EvidenceScorer scorer;
  const int week = 7 * kDay;
  for (int b = 0; b < week + from; ++b) scorer.Learn(bucket(b));
  double most = 0;
  for (int b = week + from; b < week + to; ++b) {
    most = std::max(most, scorer.Score(bucket(b)).metric[kQueries]);
    scorer.Learn(bucket(b));
  }
  EXPECT_LT(most, 4.0);
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

TEST(CountLogLikelihoodRatioTest, PoissonHasItsClosedFormAndOverdispersionWeakensIt) {
  // Poisson: x log k - (k - 1) mu.
  EXPECT_NEAR(CountLogLikelihoodRatio(3, 0.5, 4, 0), 3 * std::log(4.0) - 1.5, 1e-12);
  EXPECT_NEAR(CountLogLikelihoodRatio(2, 10, 0.2, 0), 2 * std::log(0.2) + 8, 1e-12);
  // The negative binomial tends to it as its dispersion vanishes.
  EXPECT_NEAR(CountLogLikelihoodRatio(3, 0.5, 4, 1e-4), CountLogLikelihoodRatio(3, 0.5, 4, 0), 1e-4);
  // Size 4 (dispersion 0.5), mu 2 against 8: 20 log((8/12) / (2/6)) + 4 log((4/12) / (4/6)).
  EXPECT_NEAR(CountLogLikelihoodRatio(20, 2, 4, 0.5), 20 * std::log(2.0) - 4 * std::log(2.0), 1e-12);
  EXPECT_LT(CountLogLikelihoodRatio(20, 2, 4, 0.5), CountLogLikelihoodRatio(20, 2, 4, 0));
  // An ordinary count is evidence against the shift.
  EXPECT_LT(CountLogLikelihoodRatio(0, 0.5, 4, 0.15), 0);
  EXPECT_LT(CountLogLikelihoodRatio(6, 6, 0.2, 0.15), 0);
}

// A quiet cluster with a flat rhythm, drawn with a fixed seed: Poisson(queries) queries and
// Poisson(nested) nested-loop queries per bucket, steady run and queue times.
class PoissonStream {
 public:
  explicit PoissonStream(uint64_t seed) : rng_(seed) {}
  BucketMetrics Next(double queries, double nested) {
    BucketMetrics m;
    m.start = Timestamp::FromMicros(1'767'571'200'000'000LL + b_ * kBucketUs);
    m.values[kQueries] = static_cast<double>(std::poisson_distribution<int>(queries)(rng_));
    m.values[1] = 2 + 0.1 * static_cast<double>(b_ % 4);
    m.values[2] = 1 + 0.2 * static_cast<double>(b_ % 5);
    m.values[kNestedLoop] = static_cast<double>(std::poisson_distribution<int>(nested)(rng_));
    m.values[kAlerts] = m.values[kNestedLoop];
    ++b_;
    return m;
  }

 private:
  std::mt19937_64 rng_;
  int64_t b_ = 0;
};

constexpr double kQuietQueries = 6, kQuietNested = 0.1;
constexpr int kWeek = 7 * kDay;

// Both CUSUMs on: the shipped fall of the query count, and a rise of nested-loop queries and
// alert events.
EvidenceOptions CusumOptions() {
  EvidenceOptions o = DetectorOptions{}.evidence;
  o.cusum_rise = 8;
  o.cusum_metrics = 1u << kNestedLoop | 1u << kAlerts;
  if (!(o.cusum_fall > 0)) o.cusum_fall = 0.2;
  return o;
}

// The `from`th bucket on of the first that `scorer` finds above the detector's bar in
// metric `metric`, fed `next` for at most `limit` buckets; -1 when none.
template <typename Next>
int BucketsToBar(EvidenceScorer& scorer, size_t metric, int limit, Next next) {
  for (int b = 0; b < limit; ++b) {
    const BucketMetrics m = next();
    const double surprise = scorer.Score(m).metric[metric];
    scorer.Learn(m);
    if (surprise > DetectorOptions{}.threshold) return b;
  }
  return -1;
}

TEST(EvidenceCusumTest, AnOrdinaryPoissonStreamNeverReachesTheBarInEightWeeks) {
  PoissonStream stream(15);
  EvidenceScorer scorer(CusumOptions());
  double most = 0;
  for (int b = 0; b < 8 * kWeek; ++b) {
    const BucketMetrics m = stream.Next(kQuietQueries, kQuietNested);
    if (scorer.Ready(m.start)) most = std::max(most, scorer.Score(m).Max());
    scorer.Learn(m);
  }
  EXPECT_LT(most, DetectorOptions{}.threshold);
  EXPECT_GT(most, 1.0);  // the stream did vary
}

TEST(EvidenceCusumTest, AClusterIdleForAWeekRaisesNoCollapse) {
  PoissonStream stream(18);
  EvidenceScorer scorer(CusumOptions());
  double most = 0;
  for (int b = 0; b < kWeek + kDay; ++b) {
    const BucketMetrics m = stream.Next(0, 0);
    if (scorer.Ready(m.start)) most = std::max(most, scorer.Score(m).metric[kQueries]);
    scorer.Learn(m);
  }
  EXPECT_LT(most, DetectorOptions{}.threshold);
}

TEST(EvidenceCusumTest, ACollapseToAFifthReachesTheBarWithinHalfAnHourOnlyWithTheCusum) {
  for (bool cusum : {true, false}) {
    EvidenceOptions options = CusumOptions();
    if (!cusum) options.cusum_fall = 0;
    PoissonStream stream(16);
    EvidenceScorer scorer(options);
    for (int b = 0; b < 2 * kWeek; ++b) scorer.Learn(stream.Next(kQuietQueries, kQuietNested));
    const int at = BucketsToBar(scorer, kQueries, 6, [&] { return stream.Next(kQuietQueries / 5, kQuietNested); });
    if (cusum) {
      EXPECT_GE(at, 0);
      const BucketMetrics m = stream.Next(kQuietQueries / 5, kQuietNested);
      EXPECT_FALSE(scorer.Score(m).high[kQueries]);
    } else {
      EXPECT_EQ(at, -1) << "the windows alone reach the bar: the test no longer shows the CUSUM's worth";
    }
  }
}

TEST(EvidenceCusumTest, ATenfoldRiseOfRareCountsReachesTheBarWithinAnHour) {
  PoissonStream stream(17);
  EvidenceScorer scorer(CusumOptions());
  for (int b = 0; b < 2 * kWeek; ++b) scorer.Learn(stream.Next(kQuietQueries, kQuietNested));
  const int at = BucketsToBar(scorer, kNestedLoop, 12, [&] { return stream.Next(kQuietQueries, 10 * kQuietNested); });
  EXPECT_GE(at, 0);
  // Once the counts are ordinary again the evidence drains away within hours.
  double last = 0;
  for (int b = 0; b < 6 * 12; ++b) {
    const BucketMetrics m = stream.Next(kQuietQueries, kQuietNested);
    last = scorer.Score(m).metric[kNestedLoop];
    scorer.Learn(m);
  }
  EXPECT_LT(last, 0.5 * DetectorOptions{}.threshold);
}

// Saves `scorer` and restores it into a fresh scorer; both then score and learn the buckets
// `next(0)` .. `next(buckets - 1)` alike.
template <typename Next>
void ExpectARestoredCopyScoresAlike(EvidenceScorer& scorer, int buckets, Next next) {
  BlobWriter out;
  scorer.Serialize(&out);
  const std::string blob = out.Release();
  EvidenceScorer copy;
  BlobReader in(blob);
  ASSERT_TRUE(copy.Deserialize(&in));
  EXPECT_TRUE(in.empty());
  for (int b = 0; b < buckets; ++b) {
    const BucketMetrics m = next(b);
    EXPECT_EQ(scorer.Score(m).metric, copy.Score(m).metric);
    scorer.Learn(m);
    copy.Learn(m);
  }
}

TEST(EvidenceScorerTest, ASavedScorerScoresAsTheOriginal) {
  EvidenceScorer scorer(CusumOptions());
  for (int b = 0; b < 2 * kDay; ++b) scorer.Learn(Bucket(b));
  BlobWriter out;
  scorer.Serialize(&out);
  const std::string blob = out.Release();
  ExpectARestoredCopyScoresAlike(scorer, 10, [](int i) {
    const int b = 2 * kDay + i;
    return Bucket(b, b % 7 == 0 ? 3 : 0);
  });
  BlobReader truncated(std::string_view(blob).substr(0, blob.size() - 3));
  EXPECT_FALSE(EvidenceScorer().Deserialize(&truncated));
}

// A quiet cluster whose nested-loop queries rise twentyfold for two hours in its first week,
// and again at the same hour a week later. The hour of the week learns the first storm as
// its normal, which hid the second; the usual share of the query count, which a storm
// teaches at most one query a bucket, does not.
TEST(EvidenceNestedShareTest, AStormLearnedInAnHourOfTheWeekDoesNotHideTheNextOne) {
  constexpr int kStormAt = 3 * kDay + 100, kStormBuckets = 24;
  for (int32_t horizon : {EvidenceOptions{}.nested_share_horizon, 0}) {
    EvidenceOptions options;
    options.nested_share_horizon = horizon;
    PoissonStream stream(21);
    EvidenceScorer scorer(options);
    auto nested_at = [&](int b) {
      return b >= kStormAt && b < kStormAt + kStormBuckets ? 20 * kQuietNested : kQuietNested;
    };
    for (int b = 0; b < kStormAt + kWeek; ++b) scorer.Learn(stream.Next(kQuietQueries, nested_at(b)));
    const int at = BucketsToBar(scorer, kNestedLoop, 6, [&] { return stream.Next(kQuietQueries, 20 * kQuietNested); });
    if (horizon > 0) {
      EXPECT_GE(at, 0);
    } else {
      EXPECT_EQ(at, -1) << "the hour of the week no longer hides the second storm: the test shows nothing";
    }
  }
}

TEST(EvidenceNestedShareTest, ASavedScorerKeepsItsShare) {
  PoissonStream stream(22);
  EvidenceScorer scorer;
  for (int b = 0; b < kWeek + kDay; ++b) scorer.Learn(stream.Next(kQuietQueries, kQuietNested));
  ExpectARestoredCopyScoresAlike(scorer, 12, [&](int) { return stream.Next(kQuietQueries, 2); });
}

}  // namespace
}  // namespace fleetlog::detect
