// EvidenceScorer: how surprising one cluster's latest buckets are, metric by metric, as the
// tail probability of what was observed given what is usual at that time of the week.
//
// Counts (query_count, disk_based_queries, alert_events, aborted_queries, nested_loop_queries)
// are judged as counts: a seasonal profile of the raw count per bucket gives the expected count mu, and the
// observed count's tail probability is taken under a negative binomial with variance
// mu + (dispersion * mu)^2: Poisson noise, which dominates small counts (three alert events
// where 0.2 are usual are a 1-in-800 event, not a twentyfold rise), plus a relative error of
// about `dispersion` that covers a whole day running 20% busier than usual. Until a cluster's
// hour of the week has been seen, its hour of the day stands in for it, and that mixes days
// that differ by several times (a weekday after a backfilled weekend, the first Saturday after
// weekdays): there counts are judged with the wider `young_dispersion`, so a young cluster's
// first Monday is not a query-count incident all day. (Seconds keep their spread: widening it
// as much as weekdays differ from weekends also hid the queue spikes of the first week.)
// In the hour of the week's second week (one week behind it, which may have held an incident:
// a count collapse there teaches the hour a fraction of its usual count, and the next
// week's ordinary hour then reads as a rise), each count is judged against whichever of the
// hour of the week's and the hour of the day's expectations lies nearer to it: an incident is
// far from both, an hour of the week poisoned by the week before is not far from the hour of
// the day. From its third week on the hour of the week alone is the reference.
// nested_loop_queries is expected differently once the cluster's hour of the week is known:
// as the bucket's query count times the share of queries with a nested-loop alert that is
// usual at that hour of the day (nested-loop plans belong to a few statements, so the share
// stays put where the count swings with the day's load). The share is learned over about
// `nested_share_horizon` buckets of its hour (84: a week) from every bucket, each counting
// at most one nested-loop query above its expectation, so a storm teaches it little: an
// hour of the week learns a storm as its next week's expectation (about one count per
// bucket, where a quiet hour usually holds a tenth of that), which hid the next storm.
// Seconds (p95_runtime_s, queue_wait_s) are judged on log(1 + value) residuals from their
// seasonal profile, in spreads, as Gaussian tails.
//
// Evidence accumulates: each metric is also judged over the last 2, 3 and 6 buckets together
// (the sum of the counts against the sum of their expectations; the residuals' sum, allowing
// for their correlation), so a storm adding half an event per bucket shows within half an hour
// though no single bucket stands out. A metric's surprise is -log10 of its smallest tail
// probability over those windows; the bucket's surprise is the largest of its metrics'.
// Only the directions that make an incident are judged: query_count both ways (a collapse is
// one), every other metric upwards (fewer spills, alerts, aborts or shorter waits are not).
//
// A persistent shift of a count (a collapse of a quiet cluster's query count: two queries a
// bucket where eight are usual, which no single window of 6 buckets makes rare enough) is what Page's CUSUM detects
// fastest for a given rate of false alarms. With `cusum_fall` k < 1, query_count also keeps
//   S = max(0, S + log(P(x | k mu) / P(x | mu)))
// over its buckets, the log-likelihood ratio of the count under k times its expectation
// against under its expectation (the same negative binomial as the tail, each bucket with its
// own relative error): it grows while counts run far below the expectation, and falls back to
// 0 once they are ordinary (a day 15% quieter than usual is evidence against a fall to a
// tenth; a bucket where less than one query is expected sets it back to 0, as an idle hour
// has nothing to lose). With `cusum_rise` k > 1, each count in `cusum_metrics` keeps the same for a rise
// (`cusum_min_rate` floors mu there, so an hour that is nearly always 0 does not make one
// event a shift). A CUSUM's surprise is `cusum_weight` times S in log10 units, at most
// kCusumMostSurprise (so an alert it raised ends within hours of the shift's end however long
// the shift lasted), and its metric's surprise is the largest of it and the windows'.
//
// Thread-safety: a value type with one owner.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "core/time.h"
#include "detect/blob.h"
#include "detect/fleet_metrics.h"
#include "detect/seasonal_profile.h"

namespace fleetlog::detect {

// The defaults are what bench/alert_calibration chose (docs/alerts-and-monitoring.md).
struct EvidenceOptions {
  double dispersion = 0.15;       // counts' relative error beyond Poisson noise
  double young_dispersion = 0.5;  // the same, while the hour of the week is not known yet
  double min_rate = 0.01;         // floor of a count's expectation per bucket
  // The most (in spreads) one seconds residual counts: one freak bucket (the p95 of three
  // queries is the slowest of them) cannot alert alone, a shift that lasts can.
  double seconds_clip = 4;
  double seconds_correlation = 0.3;                  // how much neighbouring seconds residuals move together
  SeasonalOptions count_profile{.min_spread = 1.0};  // raw counts
  // The CUSUMs (see above): query_count's fall (k < 1; 0: none), a rise (k > 1; 0: none) of
  // the counts in `cusum_metrics` (bit i: metric i), how much their log10 likelihood ratio
  // counts as surprise, and the floor of the expectation a rise is judged against. The
  // shipped rise (eightfold, of nested_loop_queries) is judged against the nested-loop share's
  // expectation; against the hour of the week's, which a storm teaches, it caught no storm
  // more on the calibration seeds.
  double cusum_fall = 0.1;
  double cusum_rise = 8;
  uint32_t cusum_metrics = 1u << 6;  // nested_loop_queries
  double cusum_weight = 2;
  double cusum_min_rate = 0.05;
  SeasonalOptions seconds_profile{.min_spread = 0.5};  // log(1 + seconds)
  // Buckets of an hour of the day over which nested_loop_queries' share of the query count
  // is learned (see above); 0: nested_loop_queries is expected like the other counts.
  int32_t nested_share_horizon = 84;
};

// -log10 of a tail probability of a count: P(X >= observed) (upper) or P(X <= observed)
// for X negative binomial with mean `expected` and variance expected + (dispersion *
// expected)^2 (Poisson when dispersion is 0). 0 when `observed` lies on the other side of the
// mean. REQUIRES: expected > 0, observed >= 0, dispersion >= 0.
double CountSurprise(double observed, double expected, double dispersion, bool upper);

// log(P(observed | rise * expected) / P(observed | expected)) under that negative binomial
// (natural log; dispersion 0: Poisson). REQUIRES: expected > 0, rise > 0, dispersion >= 0.
double CountLogLikelihoodRatio(double observed, double expected, double rise, double dispersion);

class EvidenceScorer {
 public:
  static constexpr int kLongestWindow = 6;          // buckets
  static constexpr double kCusumMostSurprise = 14;  // twice the detector's bar

  struct Surprise {
    std::array<double, kFleetMetricCount> metric{};  // -log10 p per metric (0: unsurprising)
    std::array<bool, kFleetMetricCount> high{};      // the direction of each metric's surprise
    double Max() const;
  };

  explicit EvidenceScorer(const EvidenceOptions& options = {});

  // Whether Score means something at `t`: both profiles know its hour of the day.
  bool Ready(Timestamp t) const;
  // The surprise of bucket `m` together with the buckets learned just before it (those
  // learned while Ready). REQUIRES: Ready(m.start).
  Surprise Score(const BucketMetrics& m) const;
  // Learns `m` as the latest bucket. Buckets must come in time order without gaps.
  void Learn(const BucketMetrics& m);
  // What Score expects of `m`, for diagnosis: counts as their expected count (floored),
  // seconds as exp(expected log(1 + value)) - 1. REQUIRES: Ready(m.start).
  SeasonalProfile::Vector Expected(const BucketMetrics& m) const;

  void Serialize(BlobWriter* out) const;
  [[nodiscard]] bool Deserialize(BlobReader* in);

 private:
  using Vector = SeasonalProfile::Vector;
  struct Recent {
    Vector observed{};      // counts as counted; seconds as clipped residuals
    Vector expected{};      // counts' expectations (seconds: unused)
    double dispersion = 0;  // the counts' relative error at this bucket
  };

  // The bucket as the scorer remembers it: counts with their expectations, seconds residuals.
  Recent Judge(const BucketMetrics& m) const;
  // The CUSUMs of each metric after the bucket `r`, from `before` (natural log units).
  struct Cusums {
    Vector high{}, low{};
  };
  Cusums CusumsAfter(const Cusums& before, const Recent& r) const;
  // Nested-loop queries and queries of an hour of the day, each an exponential sum.
  struct NestedShare {
    double nested = 0, queries = 0;
  };
  // nested_loop_queries' expectation at `m` by its hour of the day's share, if known.
  std::optional<double> ExpectedNestedLoops(const BucketMetrics& m) const;

  EvidenceOptions options_;
  SeasonalProfile counts_;                           // raw counts (seconds slots unused)
  SeasonalProfile seconds_;                          // log(1 + value) (count slots unused)
  std::array<Recent, kLongestWindow - 1> recent_{};  // the newest first
  int32_t recent_count_ = 0;
  Cusums cusums_;  // each metric's CUSUMs through the latest bucket learned (0: none)
  // By hour of the day (UTC).
  std::array<NestedShare, 24> nested_share_{};
};

}  // namespace fleetlog::detect
