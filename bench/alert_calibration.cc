// Anomaly alerts worth waking for: calibrates and judges the detector's grade as an alert
// source on the simulated fleet's labelled anomalies, beside a rolling z-score baseline and
// the previous detector (a Random Cut Forest over seasonal residuals).
//
// For each seed and cluster it computes the detector's six bucket metrics (5-minute buckets,
// as detect/fleet_metrics.h defines them) straight from the simulated workload (sim_workload.h:
// the same queries the sim source turns into stl_* rows; the few queries that run for hours
// are left out), scores them with the detector's own model (detect/bucket_model.h: the
// evidence scorer's surprise against a bar), and raises an alert when a bucket is graded
// anomalous (the shipped anomaly rule counts the latest bucket's grade: alert/sources.h). The
// baseline flags a bucket when any metric's |z| against the previous day (log(1 + value)) is
// above its threshold, for `for` buckets.
//
// Judged from the second simulated week on (the first trains every detector):
//   detection delay  bucket end of the first firing bucket minus the incident's start; an
//                    incident counts as caught when that is at most 30 minutes. The running
//                    service adds up to one export interval plus settle (5m30s by default).
//   false alerts     alert onsets that fall outside every incident (start to end + 30m), per
//                    cluster and simulated week.
// Calibration: evidence variants (count dispersion, count floor, seconds spread floor and
// correlation, all without CUSUMs), and the shipped evidence options with CUSUMs (evidence.h:
// a rise of nested-loop queries, or of those and alert events; a fall of the query count; and
// their weight), and the shipped evidence options with nested-loop queries expected by the
// usual share of the query count learned over other horizons or not at all (evidence.h), each
// times a grid of surprise bars, hysteresis and `for` values, are tried on the calibration seeds
// (1-2, or 1 to the fourth argument). The best setting there meets both targets (all caught
// within 30 min, < 1 false alert per cluster-week); failing that, it catches the most with
// fewer than one false alert per cluster-week; ties go to fewer false alerts, then the shortest
// worst delay, then the first tried (in the order of the grid's loops). It is then judged on
// the seeds after them, which it never saw, beside the shipped defaults. The baseline's
// threshold and `for` are chosen the same way.
// Usage: alert_calibration [seeds=4] [clusters=3] [weeks=3] [calibration seeds=2]
// For study: CALIBRATION_ONLY="dispersion,min_rate,seconds_spread,correlation,clip,threshold,
// continuation,for" judges one setting instead of the grid (with the shipped CUSUMs, or with
// CALIBRATION_CUSUM="rise,weight,min_rate,metric bits,fall"; CALIBRATION_NESTED_SHARE=buckets
// sets the nested-loop share's horizon, 0 for none); CALIBRATION_EXPLAIN=1 prints the
// last half hour (metric values, the evidence scorer's surprises) before each false alert, and
// the first half hour of each missed incident, with each metric's sum over that half hour, what
// the detector expected of it, and the same half hour in every simulated week;
// CALIBRATION_ORACLE=draws judges each held-out incident with an oracle as well (PrintOracle).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "detect/bucket_model.h"
#include "detect/detector_eval.h"
#include "detect/random_cut_forest.h"
#include "detect/seasonal_profile.h"
#include "detect/thresholder.h"
#include "detect/evidence.h"
#include "source/sim/anomaly_schedule.h"
#include "source/sim/sim_random.h"
#include "source/sim/sim_workload.h"

namespace {

using namespace fleetlog;
using namespace fleetlog::detect;

constexpr int64_t kBucketUs = 5 * 60 * 1'000'000LL;
constexpr int64_t kWeekUs = 7 * 24 * 3600 * 1'000'000LL;
constexpr int64_t kGraceUs = 30 * 60 * 1'000'000LL;
// A Monday, 00:00 UTC (2026-01-05): weeks line up with the anomaly schedule's weeks.
constexpr int64_t kStartUs = 1'767'571'200'000'000LL;
// The metrics a CUSUM may watch for a rise (EvidenceOptions::cusum_metrics bits).
constexpr uint32_t kCusumAlerts = 1u << 4, kCusumNestedLoop = 1u << 6;
// Seeds 1 to this calibrate by default (the fourth argument sets it); the seeds after them judge.
constexpr int kCalibrationSeeds = 2;

struct ClusterSeries {
  std::string name;  // "seed/cluster"
  uint64_t cluster_seed = 0;
  std::vector<BucketMetrics> buckets;
  std::vector<sim::AnomalyWindow> incidents;  // those starting in the judged weeks
  std::vector<double> zscores;                // the baseline's max |z| per bucket
  std::vector<double> surprises;              // the evidence scorer's surprise per bucket
  std::vector<std::array<double, kFleetMetricCount>> metric_surprises;  // and each metric's
  std::vector<std::array<double, kFleetMetricCount>> expected;          // and what it expected
};

bool RanOnMainCluster(const sim::SimQuery& q) { return !q.has(sim::kCacheHit) && !q.has(sim::kConcurrencyScaled); }

// The bucket metrics of [from_us, to_us); `draw` and `anomalies` as in sim::Workload::Minute.
std::vector<BucketMetrics> SimBucketMetrics(const sim::Workload& w, int64_t from_us, int64_t to_us, uint64_t draw = 0,
                                            bool anomalies = true) {
  const size_t n = static_cast<size_t>((to_us - from_us) / kBucketUs);
  std::vector<BucketMetrics> out(n);
  std::vector<std::vector<double>> runtimes(n);
  for (size_t b = 0; b < n; ++b) out[b].start = Timestamp::FromMicros(from_us + static_cast<int64_t>(b) * kBucketUs);
  auto bucket_of = [&](int64_t us) -> int64_t { return us < from_us ? -1 : (us - from_us) / kBucketUs; };
  for (int64_t minute = (from_us - sim::kMaxRegularUs) / sim::kMinuteUs; minute < to_us / sim::kMinuteUs; ++minute) {
    for (const sim::SimQuery& q : w.Minute(minute, draw, anomalies).queries) {
      const int64_t b = bucket_of(q.end_us());
      if (b >= 0 && b < static_cast<int64_t>(n)) {
        auto& v = out[static_cast<size_t>(b)].values;
        v[0] += 1;
        runtimes[static_cast<size_t>(b)].push_back(static_cast<double>(q.end_us() - q.start_us) / 1e6);
        if (RanOnMainCluster(q) && q.has(sim::kDiskBased)) v[3] += 1;
        if (RanOnMainCluster(q)) {
          for (auto f : {sim::kMissingStats, sim::kNestedLoop, sim::kSelectiveFilter, sim::kDeletedRows, sim::kDistributed})
            v[4] += q.has(f) ? 1 : 0;
          v[6] += q.has(sim::kNestedLoop) ? 1 : 0;
        }
        if (q.has(sim::kAborted)) v[5] += 1;
      }
      const int64_t wb = bucket_of(q.exec_end_us());
      if (!q.has(sim::kCacheHit) && sim::ServiceClassOf(q.kind) && wb >= 0 && wb < static_cast<int64_t>(n))
        out[static_cast<size_t>(wb)].values[2] += static_cast<double>(q.queue_us) / 1e6;
    }
  }
  for (size_t b = 0; b < n; ++b) {
    auto& r = runtimes[b];
    if (r.empty()) continue;
    const size_t k = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(r.size()))) - 1;
    std::nth_element(r.begin(), r.begin() + static_cast<long>(k), r.end());
    out[b].values[1] = r[k];
  }
  return out;
}

ClusterSeries Simulate(uint64_t seed, const std::string& cluster, int weeks) {
  ClusterSeries s;
  s.name = fmt::format("{}/{}", seed, cluster);
  const uint64_t cluster_seed = sim::ClusterSeed(seed, cluster);
  s.cluster_seed = cluster_seed;
  const sim::Workload workload(cluster_seed, 1.0);
  const int64_t end_us = kStartUs + weeks * kWeekUs;
  s.buckets = SimBucketMetrics(workload, kStartUs, end_us);
  for (const auto& a : sim::AnomaliesOverlapping(cluster_seed, kStartUs + kWeekUs, end_us))
    if (a.start_us >= kStartUs + kWeekUs) s.incidents.push_back(a);
  RollingZScore baseline(static_cast<int>(kFleetMetricCount), 288);
  for (const BucketMetrics& m : s.buckets) {
    std::array<double, kFleetMetricCount> x{};
    for (size_t i = 0; i < kFleetMetricCount; ++i) x[i] = std::log1p(std::max(0.0, m.values[i]));
    s.zscores.push_back(baseline.Score(x));
    baseline.Update(x);
  }
  return s;
}

// The previous detector, for comparison: each metric as log(1 + value) (counts as
// sqrt(count + 3/8)), residuals from a seasonal profile (spread at least 0.5, clipped at 6),
// a Random Cut Forest over the residuals and their exponential average (weight 0.5), and a
// Thresholder (above 1.0 and mean + 3 deviations, 70% of that right after an anomalous
// bucket); an alert once two buckets in a row are anomalous.
constexpr int kPreviousForBuckets = 2;
std::vector<bool> PreviousForestFlags(const ClusterSeries& s) {
  SeasonalProfile profile(SeasonalOptions{.min_spread = 0.5});
  ForestOptions forest_options;
  forest_options.dimensions = 2 * static_cast<int>(kFleetMetricCount);
  RandomCutForest forest = std::move(RandomCutForest::Create(forest_options)).value();
  Thresholder thresholder(ThresholderOptions{.z_factor = 3.0, .lower_threshold = 1.0, .continuation = 0.7});
  SeasonalProfile::Vector smoothed{};
  std::vector<bool> flags;
  for (const BucketMetrics& m : s.buckets) {
    SeasonalProfile::Vector x{};
    for (size_t i = 0; i < kFleetMetricCount; ++i) {
      const double v = std::max(0.0, m.values[i]);
      x[i] = kFleetMetricIsCount[i] ? std::sqrt(v + 0.375) : std::log1p(v);
    }
    bool flagged = false;
    if (profile.Ready(m.start)) {
      auto r = profile.Residuals(m.start, x);
      std::vector<double> point;
      for (size_t i = 0; i < kFleetMetricCount; ++i) {
        r[i] = std::clamp(r[i], -6.0, 6.0);
        smoothed[i] += 0.5 * (r[i] - smoothed[i]);
        point.push_back(r[i]);
      }
      point.insert(point.end(), smoothed.begin(), smoothed.end());
      const double score = forest.Score(point);
      flagged = forest.ready() && thresholder.GradeAndUpdate(score) > 0;
      if (!forest.Update(point).ok()) std::abort();
    }
    profile.Learn(m.start, x);
    flags.push_back(flagged);
  }
  return flags;
}

// The shipped detector's flags (detect/bucket_model.h with its default options).
std::vector<bool> ShippedFlags(const ClusterSeries& s) {
  BucketModel model = BucketModel::New(Duration::Micros(kBucketUs), Timestamp::FromMicros(kStartUs));
  std::vector<bool> flags;
  for (const BucketMetrics& m : s.buckets) flags.push_back(model.ScoreAndLearn(m, false).value().grade > 0);
  return flags;
}

// The evidence scorer's surprise of every bucket under `options`.
void ScoreEvidence(const EvidenceOptions& options, std::vector<ClusterSeries>* all) {
  for (ClusterSeries& s : *all) {
    EvidenceScorer scorer(options);
    s.surprises.clear();
    s.metric_surprises.clear();
    s.expected.clear();
    for (const BucketMetrics& m : s.buckets) {
      const bool ready = scorer.Ready(m.start);
      const auto scored = ready ? scorer.Score(m) : EvidenceScorer::Surprise{};
      s.surprises.push_back(scored.Max());
      s.metric_surprises.push_back(scored.metric);
      s.expected.push_back(ready ? scorer.Expected(m) : std::array<double, kFleetMetricCount>{});
      scorer.Learn(m);
    }
  }
}

struct Judgement {
  int incidents = 0, caught = 0;
  int false_alerts = 0;
  double cluster_weeks = 0;
  std::vector<double> delays_min;  // of caught incidents
  std::map<std::string, std::pair<int, int>> by_kind;  // caught, total
  std::vector<std::string> missed;                     // "kind at HH:MM UTC (weekday)", for diagnosis
  std::map<std::string, int> false_by_metric;          // false alerts by the metric that raised them
  double false_per_cluster_week() const { return cluster_weeks > 0 ? false_alerts / cluster_weeks : 0; }
  double worst_delay() const { return delays_min.empty() ? 0 : *std::max_element(delays_min.begin(), delays_min.end()); }
  double median_delay() const {
    if (delays_min.empty()) return 0;
    auto d = delays_min;
    std::sort(d.begin(), d.end());
    return d[d.size() / 2];
  }
  bool meets_targets() const { return caught == incidents && false_per_cluster_week() < 1.0; }
};

// Buckets [from, to) of `s`, a line each: every metric's value and (in brackets) its surprise.
std::string BucketsText(const ClusterSeries& s, size_t from, size_t to) {
  std::string text;
  for (size_t b = from; b < to; ++b) {
    text += "\n      ";
    for (size_t i = 0; i < kFleetMetricCount; ++i)
      text += fmt::format(" {}={:.1f}({:.1f})", kFleetMetricNames[i], s.buckets[b].values[i], s.metric_surprises[b][i]);
  }
  return text;
}

// The first half hour from bucket `from` (6 buckets), a line per metric: the counts' sum (the
// seconds' largest value), what the detector expected of them (the sum of expectations; for
// seconds their largest), and the same half hour in every simulated week (this one marked).
std::string FirstHalfHourText(const ClusterSeries& s, size_t from) {
  const size_t week = static_cast<size_t>(kWeekUs / kBucketUs);
  std::vector<std::array<double, kFleetMetricCount>> values;
  for (const BucketMetrics& m : s.buckets) values.push_back(m.values);
  std::string text;
  for (size_t i = 0; i < kFleetMetricCount; ++i) {
    auto sum = [&](const auto& rows, size_t start) {
      double v = 0;
      for (size_t b = start; b < std::min(start + 6, rows.size()); ++b)
        v = kFleetMetricIsCount[i] ? v + rows[b][i] : std::max(v, rows[b][i]);
      return v;
    };
    std::string weeks;
    for (size_t w = from % week; w < s.buckets.size(); w += week)
      weeks += fmt::format(" {}{:.1f}", w == from ? "*" : "", sum(values, w));
    text += fmt::format("      {:<20} {} {:.1f} expected {:.2f}; same half hour by week:{}\n", kFleetMetricNames[i],
                        kFleetMetricIsCount[i] ? "sum" : "max", sum(values, from), sum(s.expected, from), weeks);
  }
  return text;
}

int64_t BucketEnd(size_t b) { return kStartUs + static_cast<int64_t>(b + 1) * kBucketUs; }

// Whether an alert fires at each bucket: `flagged` (one flag per bucket) for `for_buckets` in a row.
std::vector<bool> Firing(const std::vector<bool>& flagged, int for_buckets) {
  std::vector<bool> firing(flagged.size(), false);
  int run = 0;
  for (size_t b = 0; b < flagged.size(); ++b) {
    run = flagged[b] ? run + 1 : 0;
    firing[b] = run >= for_buckets;
  }
  return firing;
}

// Minutes from the incident's start to the end of the first bucket after it that fires, when
// that is within 30 minutes (the incident is caught); nothing otherwise.
std::optional<double> CaughtAfter(const std::vector<bool>& firing, const sim::AnomalyWindow& a) {
  for (size_t b = static_cast<size_t>(kWeekUs / kBucketUs); b < firing.size(); ++b) {
    const int64_t at = BucketEnd(b);
    if (at <= a.start_us || !firing[b]) continue;
    if (at - a.start_us <= kGraceUs) return static_cast<double>(at - a.start_us) / 60e6;
    break;
  }
  return std::nullopt;
}

// Judges the alert stream that `flagged` (one flag per bucket) and `for_buckets` make.
void Judge(const ClusterSeries& s, const std::vector<bool>& flagged, int for_buckets, int weeks, Judgement* j) {
  const size_t first = static_cast<size_t>(kWeekUs / kBucketUs);
  const std::vector<bool> firing = Firing(flagged, for_buckets);
  for (size_t b = first; b < firing.size(); ++b) {
    if (!firing[b] || (b > 0 && firing[b - 1])) continue;
    const int64_t at = BucketEnd(b);
    const bool explained = std::any_of(s.incidents.begin(), s.incidents.end(), [&](const auto& a) {
      return at > a.start_us && at <= a.end_us + kGraceUs;
    });
    if (!explained) {
      ++j->false_alerts;
      if (std::getenv("CALIBRATION_EXPLAIN") && !s.metric_surprises.empty()) {
        const int64_t minute = static_cast<int64_t>(b) * 5;
        fmt::print("    false alert {} week {} day {} {:02}:{:02}:{}\n", s.name, minute / 10080, minute / 1440 % 7,
                   minute / 60 % 24, minute % 60, BucketsText(s, b >= 5 ? b - 5 : 0, b + 1));
      }
      if (!s.metric_surprises.empty()) {
        const auto& m = s.metric_surprises[b];
        ++j->false_by_metric[kFleetMetricNames[static_cast<size_t>(std::max_element(m.begin(), m.end()) - m.begin())]];
      }
    }
  }
  for (const auto& a : s.incidents) {
    ++j->incidents;
    auto& kind = j->by_kind[sim::AnomalyKindName(a.kind)];
    ++kind.second;
    const std::optional<double> delay = CaughtAfter(firing, a);
    if (delay) {
      ++j->caught;
      ++kind.first;
      j->delays_min.push_back(*delay);
    } else {
      const int64_t minute = (a.start_us - kStartUs) / 60'000'000;
      std::string peak;  // the evidence scorer's largest surprise in the first 30 minutes, when scored
      if (!s.metric_surprises.empty()) {
        const size_t from = static_cast<size_t>((a.start_us - kStartUs) / kBucketUs);
        double best = 0;
        size_t metric = 0;
        for (size_t b = from; b < std::min(from + 6, s.metric_surprises.size()); ++b)
          for (size_t i = 0; i < kFleetMetricCount; ++i)
            if (s.metric_surprises[b][i] > best) best = s.metric_surprises[b][i], metric = i;
        peak = fmt::format(" (peak {} {:.1f})", kFleetMetricNames[metric], best);
        if (std::getenv("CALIBRATION_EXPLAIN")) {  // the 10 minutes before the incident and its first half hour
          fmt::print("    missed {} {} (day {} {:02}:{:02}):{}\n{}", s.name, sim::AnomalyKindName(a.kind),
                     minute / 1440 % 7, minute / 60 % 24, minute % 60,
                     BucketsText(s, from >= 2 ? from - 2 : 0, std::min(from + 6, s.metric_surprises.size())),
                     FirstHalfHourText(s, from));
        }
      }
      j->missed.push_back(fmt::format("{} day {} {:02}:{:02} UTC{}", sim::AnomalyKindName(a.kind), minute / 1440 % 7,
                                      minute / 60 % 24, minute % 60, peak));
    }
  }
  j->cluster_weeks += weeks - 1;
}

Judgement JudgeFlags(const std::vector<ClusterSeries>& all, std::vector<bool> (*flags)(const ClusterSeries&),
                     int for_buckets, int weeks) {
  Judgement j;
  for (const ClusterSeries& s : all) Judge(s, flags(s), for_buckets, weeks, &j);
  return j;
}

struct EvidenceSetting {
  std::string model;
  EvidenceOptions options;
  double threshold, continuation;
  int for_buckets;
  std::string Name() const {
    return fmt::format("{}, surprise {:.1f}, cont {:.1f}, for {}", model, threshold, continuation, for_buckets);
  }
};

Judgement JudgeEvidence(const std::vector<ClusterSeries>& all, const EvidenceSetting& setting, int weeks) {
  Judgement j;
  for (const ClusterSeries& s : all) {
    std::vector<bool> flagged;
    bool last = false;
    for (double surprise : s.surprises) {
      last = surprise > (last ? setting.continuation : 1.0) * setting.threshold;
      flagged.push_back(last);
    }
    Judge(s, flagged, setting.for_buckets, weeks, &j);
  }
  return j;
}

Judgement JudgeZScore(const std::vector<ClusterSeries>& all, double threshold, int for_buckets, int weeks) {
  Judgement j;
  for (const ClusterSeries& s : all) {
    std::vector<bool> flagged;
    for (double z : s.zscores) flagged.push_back(z > threshold);
    Judge(s, flagged, for_buckets, weeks, &j);
  }
  return j;
}

// Meets both targets first; failing that, stays within the target's budget of false alerts
// (fewer than kFalseBudget per cluster-week) while catching the most.
constexpr double kFalseBudget = 1;
bool Better(const Judgement& a, const Judgement& b) {
  if (a.meets_targets() != b.meets_targets()) return a.meets_targets();
  const bool a_quiet = a.false_per_cluster_week() < kFalseBudget, b_quiet = b.false_per_cluster_week() < kFalseBudget;
  if (a_quiet != b_quiet) return a_quiet;
  if (a.caught != b.caught) return a.caught > b.caught;
  if (a.false_alerts != b.false_alerts) return a.false_alerts < b.false_alerts;
  return a.worst_delay() < b.worst_delay();
}

// `by_metric`: also the false alerts by the metric that raised them (the evidence scorer's).
void Print(const char* name, const std::string& setting, const Judgement& j, bool by_metric) {
  std::string kinds;
  for (const auto& [kind, ct] : j.by_kind) kinds += fmt::format(" {} {}/{}", kind, ct.first, ct.second);
  fmt::print("  {:<16} {:<36} caught {:>3}/{:<3} delay median {:>5.1f} worst {:>5.1f} min  false/cluster-week {:>5.2f}  {}\n",
             name, setting, j.caught, j.incidents, j.median_delay(), j.worst_delay(), j.false_per_cluster_week(),
             j.meets_targets() ? "MEETS TARGETS" : "misses");
  fmt::print("  {:<16}{}\n", "", kinds);
  if (!j.missed.empty()) fmt::print("  {:<16} missed: {}\n", "", fmt::join(j.missed, "; "));
  if (by_metric && !j.false_by_metric.empty()) {
    std::string by;
    for (const auto& [metric, n] : j.false_by_metric) by += fmt::format(" {} {}", metric, n);
    fmt::print("  {:<16} false alerts by metric:{}\n", "", by);
  }
}

// The oracle (CALIBRATION_ORACLE=draws): how unusual each held-out incident's first half hour
// was, to a test that knows what no detector can: the incident's kind and start, the one
// metric its kind moves (nested-loop queries, disk-based queries, queue seconds; the query
// count, downwards, for a collapse) and the cluster's exact load at that hour. Its statistic
// is that metric's sum over the buckets that end in the incident's first 30 minutes: for a
// count whose rate rises or falls by a constant factor, no test of those buckets is more
// powerful. `draws` other draws of the same minutes without the anomaly (sim::Workload::
// Minute) give the statistic's ordinary distribution, and p is the share of them at least as
// extreme as what happened. As many draws with the anomaly give the oracle's power: the share
// of them that its test at level alpha flags. At alpha = 1/336 one ordinary half hour a week
// (there are 336) would be flagged, about one false alert a week from this metric alone;
// 1/2016 counts each 5-minute step's half hour. Summed over the incidents, the power is how
// many of them the oracle is expected to catch on that budget.
struct OracleCase {
  double observed = 0;  // the metric's sum over the first half hour
  double ordinary = 0;  // its mean over the draws without the anomaly
  double p = 1;
  double power[2] = {0, 0};  // at alpha 1/336 and 1/2016
};
constexpr double kOracleAlphas[2] = {1.0 / 336, 1.0 / 2016};

// The metric an anomaly of `kind` moves, and whether upwards.
std::pair<size_t, bool> OracleMetric(sim::AnomalyKind kind) {
  switch (kind) {
    case sim::AnomalyKind::kQueueSpike:
      return {2, true};
    case sim::AnomalyKind::kCountCollapse:
      return {0, false};
    case sim::AnomalyKind::kDiskSpillBurst:
      return {3, true};
    case sim::AnomalyKind::kNestedLoopAlerts:
      return {6, true};
  }
  return {0, true};
}

OracleCase Oracle(const ClusterSeries& s, const sim::AnomalyWindow& a, int draws) {
  const sim::Workload workload(s.cluster_seed, 1.0);
  // The buckets that end in (start, start + 30 min].
  const int64_t from = kStartUs + (a.start_us - kStartUs) / kBucketUs * kBucketUs;
  const int64_t to = kStartUs + (a.start_us + kGraceUs - kStartUs) / kBucketUs * kBucketUs;
  const auto [metric, up] = OracleMetric(a.kind);
  auto statistic = [&](uint64_t draw, bool anomalies) {  // larger is more unusual
    double sum = 0;
    for (const BucketMetrics& m : SimBucketMetrics(workload, from, to, draw, anomalies)) sum += m.values[metric];
    return up ? sum : -sum;
  };
  OracleCase c;
  const double observed = statistic(0, true);
  c.observed = up ? observed : -observed;
  std::vector<double> ordinary, anomalous;
  for (int d = 1; d <= draws; ++d) {
    ordinary.push_back(statistic(static_cast<uint64_t>(d), false));
    anomalous.push_back(statistic(static_cast<uint64_t>(d), true));
  }
  std::sort(ordinary.begin(), ordinary.end());
  for (double v : ordinary) c.ordinary += (up ? v : -v) / draws;
  auto above = [&](double v) {  // ordinary draws above v
    return static_cast<double>(ordinary.end() - std::upper_bound(ordinary.begin(), ordinary.end(), v));
  };
  c.p =
      (1 + above(observed) + static_cast<double>(std::count(ordinary.begin(), ordinary.end(), observed))) / (draws + 1);
  for (int i = 0; i < 2; ++i) {
    // The test flags a statistic above the least ordinary value that at most alpha of the
    // ordinary draws exceed (a test without randomisation: at most alpha, not exactly).
    double bar = ordinary.back();
    for (double v : ordinary)
      if (above(v) <= kOracleAlphas[i] * draws) {
        bar = v;
        break;
      }
    c.power[i] =
        static_cast<double>(std::count_if(anomalous.begin(), anomalous.end(), [&](double v) { return v > bar; })) /
        draws;
  }
  return c;
}

void PrintOracle(const std::vector<ClusterSeries>& test, int draws) {
  fmt::print(
      "\noracle ({} draws each way; the shipped detector beside it): the incident's own metric over its first "
      "half hour\n",
      draws);
  struct Kind {
    int n = 0, caught = 0, p_half_hours = 0, p_steps = 0;
    double power[2] = {0, 0};
  };
  std::map<std::string, Kind> kinds;
  for (const ClusterSeries& s : test) {
    const std::vector<bool> firing = Firing(ShippedFlags(s), 1);
    for (const auto& a : s.incidents) {
      const OracleCase c = Oracle(s, a, draws);
      const bool caught = CaughtAfter(firing, a).has_value();
      for (const char* name : {sim::AnomalyKindName(a.kind), "all"}) {
        Kind& k = kinds[name];
        ++k.n;
        k.caught += caught;
        k.p_half_hours += c.p <= kOracleAlphas[0];
        k.p_steps += c.p <= kOracleAlphas[1];
        for (int i = 0; i < 2; ++i) k.power[i] += c.power[i];
      }
      if (!caught || std::getenv("CALIBRATION_EXPLAIN")) {
        const int64_t minute = (a.start_us - kStartUs) / 60'000'000;
        fmt::print(
            "  {:<9} {:<18} day {} {:02}:{:02} {:<7} {:<20} {:>7.1f} (ordinarily {:>6.2f})  p {:.4f}  oracle "
            "catches {:>3.0f}% / {:>3.0f}%\n",
            s.name, sim::AnomalyKindName(a.kind), minute / 1440 % 7, minute / 60 % 24, minute % 60,
            caught ? "caught" : "MISSED", kFleetMetricNames[OracleMetric(a.kind).first], c.observed, c.ordinary, c.p,
            100 * c.power[0], 100 * c.power[1]);
      }
    }
  }
  fmt::print(
      "  by kind: incidents, caught by the detector, p <= 1/336, p <= 1/2016, oracle's expected catch at alpha "
      "1/336 and 1/2016\n");
  for (const auto& [name, k] : kinds)
    fmt::print("  {:<18} {:>4} {:>4} {:>4} {:>4} {:>7.1f} {:>7.1f}\n", name, k.n, k.caught, k.p_half_hours, k.p_steps,
               k.power[0], k.power[1]);
}

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 4;
  const int clusters = argc > 2 ? std::atoi(argv[2]) : 3;
  const int weeks = argc > 3 ? std::atoi(argv[3]) : 3;
  const int calibration_seeds = argc > 4 ? std::atoi(argv[4]) : kCalibrationSeeds;
  if (calibration_seeds < 1 || seeds < calibration_seeds + 1 || clusters < 1 || weeks < 2) {
    fmt::print(stderr,
               "usage: alert_calibration [seeds>=3] [clusters>=1] [weeks>=2] [calibration seeds>=1, < seeds]\n");
    return 2;
  }
  std::vector<ClusterSeries> train, test;
  for (int seed = 1; seed <= seeds; ++seed)
    for (int c = 0; c < clusters; ++c)
      (seed <= calibration_seeds ? train : test)
          .push_back(Simulate(static_cast<uint64_t>(seed), fmt::format("cluster-{}", c), weeks));
  fmt::print(
      "{} seeds x {} clusters x {} weeks (5-minute buckets; week 1 trains); calibrated on seeds 1-{}, judged on "
      "{}-{}\n\n",
      seeds, clusters, weeks, calibration_seeds, calibration_seeds + 1, seeds);

  // Evidence variants, each with a grid of surprise bars, hysteresis and `for` values.
  std::vector<std::pair<std::string, EvidenceOptions>> variants;
  for (double dispersion : {0.1, 0.15, 0.25})
    for (double min_rate : {0.01, 0.02, 0.1})
      for (double seconds_spread : {0.5, 1.0})
        for (double correlation : {0.3, 1.0})
          for (double clip : {4.0, 8.0}) {
            EvidenceOptions o;
            o.cusum_fall = 0;  // the CUSUMs are tried below, on top of the shipped options
            o.cusum_rise = 0;
            o.cusum_metrics = 0;
            o.dispersion = dispersion;
            o.min_rate = min_rate;
            o.seconds_profile.min_spread = seconds_spread;
            o.seconds_correlation = correlation;
            o.seconds_clip = clip;
            variants.emplace_back(fmt::format("disp {:.2f} min {:.2f} spread {:.1f} corr {:.1f} clip {:.0f}", dispersion,
                                              min_rate, seconds_spread, correlation, clip), o);
          }
  // CUSUMs (evidence.h) on top of the shipped evidence options: a rise of nested-loop queries
  // (and of alert events, which come in clusters: one query raises several), a fall of the
  // query count, and how much their log-likelihood ratio counts as surprise.
  for (double rise : {0.0, 4.0, 8.0, 16.0})
    for (uint32_t metrics : {kCusumNestedLoop, kCusumNestedLoop | kCusumAlerts})
      for (double fall : {0.0, 0.1, 0.2, 0.3})
        for (double weight : {1.0, 1.5, 2.0, 3.0}) {
          if ((rise == 0 && metrics != kCusumNestedLoop) || (rise == 0 && fall == 0)) continue;
          EvidenceOptions o = DefaultDetectorOptions().evidence;
          o.cusum_rise = rise;
          o.cusum_metrics = rise > 0 ? metrics : 0;
          o.cusum_fall = fall;
          o.cusum_weight = weight;
          variants.emplace_back(fmt::format("shipped evidence, cusum rise {:.0f} of {} fall {:.1f} weight {:.1f}", rise,
                                            metrics == kCusumNestedLoop ? "nested" : "nested+alerts", fall, weight),
                                o);
        }
  // Nested-loop queries expected by their usual share of the query count (evidence.h), learned
  // over other horizons (buckets of an hour of the day: 84 is a week), or by the seasonal
  // profile like the other counts (0).
  for (int32_t horizon : {0, 42, 84, 168, 336}) {
    EvidenceOptions o = DefaultDetectorOptions().evidence;
    if (horizon == o.nested_share_horizon) continue;
    o.nested_share_horizon = horizon;
    variants.emplace_back(fmt::format("shipped evidence, nested-loop share over {} buckets", horizon), o);
  }
  std::vector<double> thresholds = {4.0, 5.0, 6.0, 7.0, 8.0, 10.0}, continuations = {1.0, 0.7, 0.5};
  std::vector<int> fors = {1, 2};
  if (const char* only = std::getenv("CALIBRATION_ONLY")) {  // one setting, for study:
    // "dispersion,min_rate,seconds_spread,correlation,clip,threshold,continuation,for"
    EvidenceOptions o;
    double t = 0, c = 0;
    int f = 0;
    if (std::sscanf(only, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%d", &o.dispersion, &o.min_rate, &o.seconds_profile.min_spread,
                    &o.seconds_correlation, &o.seconds_clip, &t, &c, &f) != 8) {
      fmt::print(stderr, "CALIBRATION_ONLY: dispersion,min_rate,seconds_spread,correlation,clip,threshold,continuation,for\n");
      return 2;
    }
    if (const char* cusum = std::getenv("CALIBRATION_CUSUM")) {  // "rise,weight,min_rate,metric bits,fall"
      unsigned bits = 0;
      if (std::sscanf(cusum, "%lf,%lf,%lf,%u,%lf", &o.cusum_rise, &o.cusum_weight, &o.cusum_min_rate, &bits,
                      &o.cusum_fall) != 5) {
        fmt::print(stderr, "CALIBRATION_CUSUM: rise,weight,min_rate,metric bits,fall\n");
        return 2;
      }
      o.cusum_metrics = bits;
    }
    if (const char* share = std::getenv("CALIBRATION_NESTED_SHARE")) o.nested_share_horizon = std::atoi(share);
    variants = {{only, o}};
    thresholds = {t};
    continuations = {c};
    fors = {f};
  }
  std::optional<std::pair<EvidenceSetting, Judgement>> best;
  fmt::print("each evidence variant's best setting on the calibration seeds:\n");
  for (const auto& [name, variant] : variants) {
    ScoreEvidence(variant, &train);
    std::optional<std::pair<EvidenceSetting, Judgement>> local;
    for (double threshold : thresholds)
      for (double continuation : continuations)
        for (int for_buckets : fors) {
          EvidenceSetting g{name, variant, threshold, continuation, for_buckets};
          Judgement j = JudgeEvidence(train, g, weeks);
          if (!local || Better(j, local->second)) local.emplace(g, j);
        }
    Print("variant", local->first.Name(), local->second, false);
    if (!best || Better(local->second, best->second)) best = local;
  }
  fmt::print("\n");
  double best_z = 3;
  int best_z_for = 1;
  Judgement best_z_train = JudgeZScore(train, best_z, best_z_for, weeks);
  for (double z : {3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0})
    for (int for_buckets : {1, 2, 3}) {
      Judgement j = JudgeZScore(train, z, for_buckets, weeks);
      if (Better(j, best_z_train)) {
        best_z = z;
        best_z_for = for_buckets;
        best_z_train = j;
      }
    }

  fmt::print("calibration seeds:\n");
  Print("evidence", best->first.Name(), best->second, true);
  Print("z-score", fmt::format("|z| > {:.0f}, for {}", best_z, best_z_for), best_z_train, false);
  fmt::print("\nheld-out seeds:\n");
  ScoreEvidence(best->first.options, &test);
  Print("evidence", best->first.Name(), JudgeEvidence(test, best->first, weeks), true);
  const DetectorOptions shipped = DefaultDetectorOptions();
  Print("shipped", fmt::format("detector defaults: disp {:.2f} min {:.2f} spread {:.1f} corr {:.1f} clip {:.0f}, cusum rise {:.0f} "
                               "(metrics {:#x}) fall {:.1f} weight {:.1f}, nested-loop share over {} buckets, surprise {:.1f}, "
                               "cont {:.1f}, for 1",
                               shipped.evidence.dispersion, shipped.evidence.min_rate,
                               shipped.evidence.seconds_profile.min_spread, shipped.evidence.seconds_correlation,
                               shipped.evidence.seconds_clip, shipped.evidence.cusum_rise, shipped.evidence.cusum_metrics,
                               shipped.evidence.cusum_fall, shipped.evidence.cusum_weight,
                               shipped.evidence.nested_share_horizon, shipped.threshold, shipped.continuation),
        JudgeFlags(test, ShippedFlags, 1, weeks), false);
  Print("previous forest", "forest over seasonal residuals, for 2", JudgeFlags(test, PreviousForestFlags, kPreviousForBuckets, weeks), false);
  Print("z-score", fmt::format("|z| > {:.0f}, for {}", best_z, best_z_for), JudgeZScore(test, best_z, best_z_for, weeks), false);
  Print("z-score |z|>3", "|z| > 3, for 1", JudgeZScore(test, 3, 1, weeks), false);
  if (const char* draws = std::getenv("CALIBRATION_ORACLE")) PrintOracle(test, std::max(1, std::atoi(draws)));
  return 0;
}
