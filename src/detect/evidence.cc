#include "detect/evidence.h"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace fleetlog::detect {
namespace {

// The windows judged, in buckets: the latest bucket alone, then with the ones before it.
constexpr std::array<int, 4> kWindows = {1, 2, 3, EvidenceScorer::kLongestWindow};
// No surprise counts more than this (p = 1e-50): beyond it, all are certain.
constexpr double kMaxSurprise = 50;
// Summing a tail stops once a term adds less than this share.
constexpr double kTailPrecision = 1e-12;
constexpr int kMaxTailTerms = 1'000'000;
// A fall of the query count is followed only where at least this many queries are expected
// per bucket (a quieter bucket has little to lose); elsewhere its CUSUM returns to 0.
constexpr double kLeastFallingCount = 1;
constexpr size_t kNestedLoopQueries = 6;
static_assert(std::string_view(kFleetMetricNames[kNestedLoopQueries]) == "nested_loop_queries");
// The most nested-loop queries a bucket teaches its hour's share above its expectation.
constexpr double kNestedShareMostExcess = 1;

size_t HourOfDay(Timestamp t) {
  constexpr int64_t kHourUs = 3600LL * 1'000'000;
  return static_cast<size_t>(((t.micros() / kHourUs) % 24 + 24) % 24);
}

double SurpriseOf(double p) { return std::min(kMaxSurprise, -std::log10(std::max(p, 1e-300))); }

// -log10 P(Z >= z) for a standard normal Z.
double GaussianSurprise(double z) { return z <= 0 ? 0 : SurpriseOf(0.5 * std::erfc(z / std::sqrt(2.0))); }

}  // namespace

double CountSurprise(double observed, double expected, double dispersion, bool upper) {
  const double x0 = std::floor(observed + 0.5);
  if (upper ? x0 <= expected : x0 >= expected) return 0;
  // The tail is summed from the observed count away from the mean, where terms only shrink.
  // Negative binomial with size k = 1 / dispersion^2 and success odds q = mu / (k + mu):
  //   P(x) = Gamma(x + k) / (Gamma(k) x!) (k / (k + mu))^k q^x,  P(x + 1) / P(x) = (x + k) / (x + 1) q.
  // Poisson (dispersion 0): P(x) = mu^x e^-mu / x!,  P(x + 1) / P(x) = mu / (x + 1).
  const bool poisson = dispersion <= 0;
  const double k = poisson ? 0 : 1 / (dispersion * dispersion);
  const double q = poisson ? 0 : expected / (k + expected);
  const double log_p0 = poisson ? x0 * std::log(expected) - expected - std::lgamma(x0 + 1)
                                : std::lgamma(x0 + k) - std::lgamma(k) - std::lgamma(x0 + 1) +
                                      k * std::log(k / (k + expected)) + x0 * std::log(q);
  double term = 1, sum = 1;  // relative to P(x0)
  double x = x0;
  for (int i = 0; i < kMaxTailTerms; ++i) {
    if (upper) {
      term *= poisson ? expected / (x + 1) : (x + k) / (x + 1) * q;
      x += 1;
    } else {
      if (x <= 0) break;
      term *= poisson ? x / expected : x / ((x - 1 + k) * q);
      x -= 1;
    }
    sum += term;
    if (term < kTailPrecision * sum) break;
  }
  return std::clamp(-(log_p0 + std::log(sum)) / std::log(10.0), 0.0, kMaxSurprise);
}

double CountLogLikelihoodRatio(double observed, double expected, double rise, double dispersion) {
  const double x = std::max(0.0, std::floor(observed + 0.5));
  const double shifted = rise * expected;
  if (dispersion <= 0) return x * std::log(rise) - (shifted - expected);
  // log P(x | mu) = x log(mu / (k + mu)) + k log(k / (k + mu)) + terms without mu.
  const double k = 1 / (dispersion * dispersion);
  return x * (std::log(shifted / (k + shifted)) - std::log(expected / (k + expected))) +
         k * (std::log(k / (k + shifted)) - std::log(k / (k + expected)));
}

double EvidenceScorer::Surprise::Max() const { return *std::max_element(metric.begin(), metric.end()); }

EvidenceScorer::EvidenceScorer(const EvidenceOptions& options)
    : options_(options), counts_(options.count_profile), seconds_(options.seconds_profile) {}

bool EvidenceScorer::Ready(Timestamp t) const { return counts_.Ready(t) && seconds_.Ready(t); }

std::optional<double> EvidenceScorer::ExpectedNestedLoops(const BucketMetrics& m) const {
  const NestedShare& share = nested_share_[HourOfDay(m.start)];
  if (options_.nested_share_horizon <= 0 || share.queries <= 0) return std::nullopt;
  return share.nested / share.queries * std::max(0.0, m.values[0]);
}

EvidenceScorer::Recent EvidenceScorer::Judge(const BucketMetrics& m) const {
  Recent r;
  Vector raw{}, logs{};
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    raw[i] = std::max(0.0, m.values[i]);
    logs[i] = std::log1p(raw[i]);
  }
  const Vector expected = counts_.Expected(m.start);
  r.dispersion = counts_.KnowsHourOfWeek(m.start) ? options_.dispersion : options_.young_dispersion;
  const Vector residuals = seconds_.Residuals(m.start, logs);
  // An hour of the week in its second week has one week behind it, which may have held an
  // incident (a collapse learned as that hour's normal): its counts are judged against the
  // hour of the week's or the hour of the day's expectation, whichever lies nearer.
  const bool young = counts_.KnowsHourOfWeek(m.start) && !counts_.KnowsHourOfWeekWell(m.start);
  const Vector of_day = young ? counts_.ExpectedOfDay(m.start) : Vector{};
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    if (kFleetMetricIsCount[i]) {
      r.observed[i] = raw[i];
      r.expected[i] = std::max(options_.min_rate, expected[i]);
      if (young && std::fabs(raw[i] - of_day[i]) < std::fabs(raw[i] - expected[i]))
        r.expected[i] = std::max(options_.min_rate, of_day[i]);
    } else {
      r.observed[i] = std::clamp(residuals[i], -options_.seconds_clip, options_.seconds_clip);
    }
  }
  // Only once the hour of the week is known: before, the share has seen a few days at most.
  if (const auto nested = ExpectedNestedLoops(m); nested && counts_.KnowsHourOfWeek(m.start))
    r.expected[kNestedLoopQueries] = std::max(options_.min_rate, *nested);
  return r;
}

SeasonalProfile::Vector EvidenceScorer::Expected(const BucketMetrics& m) const {
  Vector e = Judge(m).expected;
  const Vector seconds = seconds_.Expected(m.start);
  for (size_t i = 0; i < kFleetMetricCount; ++i)
    if (!kFleetMetricIsCount[i]) e[i] = std::expm1(seconds[i]);
  return e;
}

EvidenceScorer::Cusums EvidenceScorer::CusumsAfter(const Cusums& before, const Recent& r) const {
  const double most = kCusumMostSurprise * std::log(10.0) / options_.cusum_weight;
  auto step = [&](size_t i, double expected, double shift, double from) {
    return std::clamp(from + CountLogLikelihoodRatio(r.observed[i], expected, shift, r.dispersion), 0.0, most);
  };
  Cusums after;
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    if (!kFleetMetricIsCount[i]) continue;
    if (options_.cusum_rise > 1 && (options_.cusum_metrics >> i & 1))
      after.high[i] = step(i, std::max(options_.cusum_min_rate, r.expected[i]), options_.cusum_rise, before.high[i]);
    // Unfloored, and only where queries are expected: an idle hour whose expectation sits on
    // a floor above its true rate would take every empty bucket as evidence of a fall.
    if (options_.cusum_fall > 0 && options_.cusum_fall < 1 && i == 0 && r.expected[i] >= kLeastFallingCount)
      after.low[i] = step(i, r.expected[i], options_.cusum_fall, before.low[i]);
  }
  return after;
}

EvidenceScorer::Surprise EvidenceScorer::Score(const BucketMetrics& m) const {
  const Recent now = Judge(m);
  Surprise s;
  const Cusums cusums = CusumsAfter(cusums_, now);
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    const double high = options_.cusum_weight * cusums.high[i] / std::log(10.0);
    const double low = options_.cusum_weight * cusums.low[i] / std::log(10.0);
    s.metric[i] = std::max(high, low);
    s.high[i] = high >= low;
  }
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    double observed = 0, expected = 0, dispersion = 0;  // of the window: its widest
    int summed = 0;
    for (int w : kWindows) {
      if (w - 1 > recent_count_) break;
      for (; summed < w; ++summed) {
        const Recent& r = summed == 0 ? now : recent_[static_cast<size_t>(summed - 1)];
        observed += r.observed[i];
        expected += r.expected[i];
        dispersion = std::max(dispersion, r.dispersion);
      }
      double high = 0, low = 0;
      if (kFleetMetricIsCount[i]) {
        high = CountSurprise(observed, expected, dispersion, true);
        // Only fewer queries than usual is an incident; fewer spills, alerts or aborts are not.
        if (i == 0) low = CountSurprise(observed, expected, dispersion, false);
      } else {
        const double n = w;
        high = GaussianSurprise(observed / std::sqrt(n * (1 + options_.seconds_correlation * (n - 1))));
      }
      if (std::max(high, low) > s.metric[i]) {
        s.metric[i] = std::max(high, low);
        s.high[i] = high >= low;
      }
    }
  }
  return s;
}

void EvidenceScorer::Learn(const BucketMetrics& m) {
  if (Ready(m.start)) {
    std::move_backward(recent_.begin(), recent_.end() - 1, recent_.end());
    recent_[0] = Judge(m);
    recent_count_ = std::min<int32_t>(recent_count_ + 1, static_cast<int32_t>(recent_.size()));
    cusums_ = CusumsAfter(cusums_, recent_[0]);
  } else {
    recent_count_ = 0;
    cusums_ = {};
  }
  Vector raw{}, logs{};
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    raw[i] = std::max(0.0, m.values[i]);
    logs[i] = std::log1p(raw[i]);
  }
  if (options_.nested_share_horizon > 0) {
    double nested = raw[kNestedLoopQueries];
    if (const auto expected = ExpectedNestedLoops(m)) nested = std::min(nested, *expected + kNestedShareMostExcess);
    const double keep = 1 - 1.0 / options_.nested_share_horizon;
    NestedShare& share = nested_share_[HourOfDay(m.start)];
    share.nested = share.nested * keep + nested;
    share.queries = share.queries * keep + raw[0];
  }
  counts_.Learn(m.start, raw);
  seconds_.Learn(m.start, logs);
}

void EvidenceScorer::Serialize(BlobWriter* out) const {
  out->Put(options_.dispersion);
  out->Put(options_.young_dispersion);
  out->Put(options_.min_rate);
  out->Put(options_.seconds_clip);
  out->Put(options_.seconds_correlation);
  out->Put(options_.cusum_rise);
  out->Put(options_.cusum_metrics);
  out->Put(options_.cusum_fall);
  out->Put(options_.cusum_weight);
  out->Put(options_.cusum_min_rate);
  out->Put(options_.nested_share_horizon);
  counts_.Serialize(out);
  seconds_.Serialize(out);
  out->Put(recent_);
  out->Put(recent_count_);
  out->Put(cusums_);
  out->Put(nested_share_);
}

bool EvidenceScorer::Deserialize(BlobReader* in) {
  if (!in->Get(&options_.dispersion) || !in->Get(&options_.young_dispersion) || !in->Get(&options_.min_rate) ||
      !in->Get(&options_.seconds_clip) || !in->Get(&options_.seconds_correlation) || !in->Get(&options_.cusum_rise) ||
      !in->Get(&options_.cusum_metrics) || !in->Get(&options_.cusum_fall) || !in->Get(&options_.cusum_weight) ||
      !in->Get(&options_.cusum_min_rate) || !in->Get(&options_.nested_share_horizon) || !counts_.Deserialize(in) ||
      !seconds_.Deserialize(in) || !in->Get(&recent_) || !in->Get(&recent_count_) || !in->Get(&cusums_) ||
      !in->Get(&nested_share_)) {
    return false;
  }
  return options_.dispersion >= 0 && options_.young_dispersion >= 0 && options_.min_rate > 0 &&
         options_.seconds_clip > 0 && options_.seconds_correlation >= 0 && options_.cusum_rise >= 0 &&
         options_.cusum_fall >= 0 && options_.cusum_weight > 0 && options_.cusum_min_rate > 0 &&
         options_.nested_share_horizon >= 0 &&
         std::all_of(nested_share_.begin(), nested_share_.end(),
                     [](const NestedShare& n) { return n.nested >= 0 && n.queries >= 0; }) &&
         recent_count_ >= 0 && recent_count_ <= static_cast<int32_t>(recent_.size());
}

}  // namespace fleetlog::detect
