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
// Thread-safety: a value type with one owner.
#pragma once

#include <array>
#include <cstdint>

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
  double seconds_correlation = 0.3;                    // how much neighbouring seconds residuals move together
  SeasonalOptions count_profile{.min_spread = 1.0};    // raw counts
  SeasonalOptions seconds_profile{.min_spread = 0.5};  // log(1 + seconds)
};

// -log10 of a tail probability of a count: P(X >= observed) (upper) or P(X <= observed)
// for X negative binomial with mean `expected` and variance expected + (dispersion *
// expected)^2 (Poisson when dispersion is 0). 0 when `observed` lies on the other side of the
// mean. REQUIRES: expected > 0, observed >= 0, dispersion >= 0.
double CountSurprise(double observed, double expected, double dispersion, bool upper);

class EvidenceScorer {
 public:
  static constexpr int kLongestWindow = 6;  // buckets

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

  EvidenceOptions options_;
  SeasonalProfile counts_;                           // raw counts (seconds slots unused)
  SeasonalProfile seconds_;                          // log(1 + value) (count slots unused)
  std::array<Recent, kLongestWindow - 1> recent_{};  // the newest first
  int32_t recent_count_ = 0;
};

}  // namespace fleetlog::detect
