#include "detect/seasonal_profile.h"

#include <algorithm>
#include <cmath>

namespace fleetlog::detect {
namespace {

constexpr int64_t kHourUs = 3600LL * 1'000'000;
// The most (in spreads) one residual counts when learning the spread.
constexpr double kSpreadClip = 2.0;
// An hour, and half an hour, of 5-minute buckets.
constexpr int32_t kHourOfBuckets = 12;
constexpr int32_t kHalfHourOfBuckets = 6;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

size_t HourOfDay(Timestamp t) {
  return static_cast<size_t>(FloorDiv(t.micros(), kHourUs) - 24 * FloorDiv(t.micros(), 24 * kHourUs));
}

size_t HourOfWeek(Timestamp t) {
  const int64_t day = FloorDiv(t.micros(), 24 * kHourUs);
  const int64_t weekday = ((day + 3) % 7 + 7) % 7;  // day 0 (1970-01-01) was a Thursday; Monday is 0
  return static_cast<size_t>(weekday) * 24 + HourOfDay(t);
}

// Moves `mean` towards `x` as the average of the first `horizon` values, then as an
// exponential average with that horizon; `seen` counts the values before this one.
void Follow(double* mean, int32_t seen, int horizon, double x) {
  *mean += (x - *mean) / static_cast<double>(std::min(seen + 1, horizon));
}

}  // namespace

const SeasonalProfile::Slot& SeasonalProfile::Expectation(Timestamp t, size_t metric) const {
  const Slot& week = week_[HourOfWeek(t)][metric];
  return week.seen >= kHourOfBuckets ? week : day_[HourOfDay(t)][metric];
}

double SeasonalProfile::Spread(Timestamp t, size_t metric) const {
  return std::max(options_.min_spread, std::sqrt(day_[HourOfDay(t)][metric].square));
}

bool SeasonalProfile::KnowsHourOfWeek(Timestamp t) const { return week_[HourOfWeek(t)][0].seen >= kHourOfBuckets; }

bool SeasonalProfile::KnowsHourOfWeekWell(Timestamp t) const {
  return week_[HourOfWeek(t)][0].seen >= 2 * kHourOfBuckets;
}

SeasonalProfile::Vector SeasonalProfile::ExpectedOfDay(Timestamp t) const {
  Vector e{};
  for (size_t i = 0; i < kFleetMetricCount; ++i) e[i] = day_[HourOfDay(t)][i].mean;
  return e;
}

bool SeasonalProfile::Ready(Timestamp t) const { return day_[HourOfDay(t)][0].seen >= kHalfHourOfBuckets; }

SeasonalProfile::Vector SeasonalProfile::Residuals(Timestamp t, const Vector& x) const {
  Vector r{};
  for (size_t i = 0; i < kFleetMetricCount; ++i) r[i] = (x[i] - Expectation(t, i).mean) / Spread(t, i);
  return r;
}

SeasonalProfile::Vector SeasonalProfile::Expected(Timestamp t) const {
  Vector e{};
  for (size_t i = 0; i < kFleetMetricCount; ++i) e[i] = Expectation(t, i).mean;
  return e;
}

void SeasonalProfile::Learn(Timestamp t, const Vector& x) {
  const bool ready = Ready(t);
  Slots& week = week_[HourOfWeek(t)];
  Slots& day = day_[HourOfDay(t)];
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    const double spread = Spread(t, i);
    const double residual = x[i] - Expectation(t, i).mean;
    // Until the hour has been seen, values teach as they are; after, clipped.
    const double limit = ready ? options_.clip * spread : HUGE_VAL;
    const double spread_limit = ready ? kSpreadClip * spread : HUGE_VAL;
    // `may_reset`: whether the slot may take its first hour's plain mean (see the header).
    auto learn_mean = [&](Slot& s, bool may_reset) {
      // A slot's first value starts from what the profile expected (clipped like any other);
      // before anything is known it is taken as it is. In its first hour of values the clip
      // is three times wider, so a new rhythm (the first weekend) is learned, but an outlier
      // beyond twice that counts a quarter as much: an incident that fills a young slot must
      // not ratchet its mean up clip by clip.
      if (s.seen == 0) s.mean = ready ? Expectation(t, i).mean : x[i];
      const double slot_limit = s.seen < kHourOfBuckets ? 3 * limit : limit;
      const double delta = x[i] - s.mean;
      const double weight = std::fabs(delta) > 2 * slot_limit ? 0.25 : 1.0;
      Follow(&s.mean, s.seen, options_.mean_horizon, s.mean + weight * std::clamp(delta, -slot_limit, slot_limit));
      if (s.seen < kHourOfBuckets) {
        s.first_hour += (x[i] - s.first_hour) / static_cast<double>(s.seen + 1);
        if (std::fabs(delta) > slot_limit) s.beyond += delta > 0 ? 1 : -1;
        if (may_reset && s.seen + 1 == kHourOfBuckets && std::abs(s.beyond) == kHourOfBuckets) s.mean = s.first_hour;
      }
    };
    if (day[i].seen > 0) {
      const double clipped = std::min(residual * residual, spread_limit * spread_limit);
      Follow(&day[i].square, day[i].seen - 1, options_.spread_horizon, clipped);
    }
    learn_mean(week[i], day[i].seen < 2 * kHourOfBuckets);
    learn_mean(day[i], false);
    ++week[i].seen;
    ++day[i].seen;
  }
}

void SeasonalProfile::Serialize(BlobWriter* out) const {
  out->Put(options_);
  for (const Slots& s : week_) out->Put(s);
  for (const Slots& s : day_) out->Put(s);
}

bool SeasonalProfile::Deserialize(BlobReader* in) {
  if (!in->Get(&options_)) return false;
  for (Slots& s : week_)
    if (!in->Get(&s)) return false;
  for (Slots& s : day_)
    if (!in->Get(&s)) return false;
  return options_.min_spread > 0 && options_.clip > 0 && options_.mean_horizon > 0 && options_.spread_horizon > 0;
}

}  // namespace fleetlog::detect
