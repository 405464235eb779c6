// SeasonalProfile: what one cluster's bucket metrics usually are at this time of the week, so
// the detector scores how far a bucket strays from its usual self rather than its raw values.
// Warehouses breathe: nightly ETL, business hours, quiet weekends, Monday mornings. A model of
// raw values that remembers a few days reads every such turn as an anomaly; residuals from a
// seasonal profile do not.
//
// Per metric (inputs are log(1 + value), as the forest sees them), the profile keeps
//   - the expected value of each hour of the week (168 slots, UTC, weeks from Monday), used
//     once that hour of the week has been seen for a whole hour of buckets, so from its second
//     week on: a slot in its first hour is learning from the very values being judged, and
//     would take an incident under way then as the hour's normal;
//   - the expected value of each hour of the day (24 slots), used before that;
//   - the usual spread of residuals at each hour of the day (a root mean square), floored so a
//     metric that is nearly always 0 does not turn one event into a storm.
// Residual = (value - expected) / spread. Learning is robust: a value far from the expectation
// moves it as if it were only `clip` spreads away (and the spread as if at most 2 spreads), so
// an incident is not taught as normal: two hours of a metric fifty times its usual level move
// next week's expectation for those hours by about one spread. A lasting level shift is
// adopted slowly by the profile. One exception keeps a young profile from being poisoned: an
// hour-of-week slot starts from the hour of the day's expectation, and when that has seen less
// than two days and every one of the new slot's first hour of values lies beyond the clip on
// the same side (an incident on the profile's first day taught the hour of the day), the slot
// takes the plain mean of its first hour instead. Means average the first values of a slot and
// then follow an exponential average with a horizon of `mean_horizon` values; spreads the same
// with `spread_horizon`.
//
// Thread-safety: a value type with one owner.
#pragma once

#include <array>
#include <cstdint>

#include "core/time.h"
#include "detect/blob.h"
#include "detect/fleet_metrics.h"

namespace fleetlog::detect {

struct SeasonalOptions {
  double min_spread = 0.25;  // floor of the spread, in log(1 + value) units
  double clip = 1.5;         // the most (in spreads) one value moves an expectation
  int mean_horizon = 24;     // values; an hour slot sees 12 five-minute buckets per day or week
  int spread_horizon = 48;
};

class SeasonalProfile {
 public:
  using Vector = std::array<double, kFleetMetricCount>;

  explicit SeasonalProfile(const SeasonalOptions& options = {}) : options_(options) {}

  // Whether Residuals means something at `t`: its hour of the day has been seen for half an
  // hour of buckets. (On a cluster's first day that is the same day's first half hour: a
  // young profile, which the forest's own warm-up partly covers.)
  bool Ready(Timestamp t) const;
  // (x - expected) / spread for each metric at `t`. REQUIRES: Ready(t).
  Vector Residuals(Timestamp t, const Vector& x) const;
  // The expected value of each metric at `t`. REQUIRES: Ready(t).
  Vector Expected(Timestamp t) const;
  // Whether the expectation at `t` is its hour of the week's own (learned for a whole hour
  // of buckets, so on an earlier week) rather than its hour of the day's standing in for it.
  bool KnowsHourOfWeek(Timestamp t) const;
  // Whether the hour of the week at `t` is its own reference and has been for a whole hour of
  // buckets already (so from its third week on).
  bool KnowsHourOfWeekWell(Timestamp t) const;
  // The hour of the day's expected value of each metric at `t`. REQUIRES: Ready(t).
  Vector ExpectedOfDay(Timestamp t) const;
  // Learns `x` as the values at `t`.
  void Learn(Timestamp t, const Vector& x);

  void Serialize(BlobWriter* out) const;
  [[nodiscard]] bool Deserialize(BlobReader* in);

 private:
  struct Slot {
    double mean = 0;
    double square = 0;  // mean square residual (spread slots)
    int32_t seen = 0;
    // Of the slot's first hour of values: how many lay beyond the clip (+1 above, -1 below),
    // and their plain mean.
    int32_t beyond = 0;
    double first_hour = 0;
  };
  using Slots = std::array<Slot, kFleetMetricCount>;

  const Slot& Expectation(Timestamp t, size_t metric) const;
  double Spread(Timestamp t, size_t metric) const;

  SeasonalOptions options_;
  std::array<Slots, 168> week_{};
  std::array<Slots, 24> day_{};
};

}  // namespace fleetlog::detect
