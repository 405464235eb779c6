// Anomaly alerts worth waking for: calibrates and judges the detector's grade as an alert
// source on the simulated fleet's labelled anomalies, beside a rolling z-score baseline.
//
// For each seed and cluster it computes the detector's six bucket metrics (5-minute buckets,
// as detect/fleet_metrics.h defines them) straight from the simulated workload (sim_workload.h:
// the same queries the sim source turns into stl_* rows; the few queries that run for hours
// are left out), scores them with the detector's own model (detect/bucket_model.h), and
// raises an alert when the grade is above 0 for `for` consecutive buckets, as an
// [[alert]] source = "anomaly" rule would. The baseline flags a bucket when any metric's
// |z| against the previous day (log(1 + value), like the forest) is above its threshold.
//
// Judged from the second simulated week on (the first trains both detectors):
//   detection delay  bucket end of the first firing bucket minus the incident's start; an
//                    incident counts as caught when that is at most 30 minutes. The running
//                    service adds up to one export interval plus settle (5m30s by default).
//   false alerts     alert onsets that fall outside every incident (start to end + 30m), per
//                    cluster and simulated week.
// Calibration: a grid of Thresholder settings and `for` values is tried on the first half
// of the seeds; the best setting that meets both targets there (all caught within 30 min,
// < 1 false alert per cluster-week; fewest false alerts, then shortest worst delay) is then
// judged on the other half, which it never saw. The baseline's threshold is chosen the same
// way. Usage: alert_calibration [seeds=4] [clusters=3] [weeks=3]
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "detect/bucket_model.h"
#include "detect/detector_eval.h"
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

struct ClusterSeries {
  std::vector<BucketMetrics> buckets;
  std::vector<sim::AnomalyWindow> incidents;  // those starting in the judged weeks
  std::vector<double> scores;                 // the forest's score per bucket
  std::vector<double> zscores;                // the baseline's max |z| per bucket
};

bool RanOnMainCluster(const sim::SimQuery& q) { return !q.has(sim::kCacheHit) && !q.has(sim::kConcurrencyScaled); }

std::vector<BucketMetrics> SimBucketMetrics(const sim::Workload& w, int64_t from_us, int64_t to_us) {
  const size_t n = static_cast<size_t>((to_us - from_us) / kBucketUs);
  std::vector<BucketMetrics> out(n);
  std::vector<std::vector<double>> runtimes(n);
  for (size_t b = 0; b < n; ++b) out[b].start = Timestamp::FromMicros(from_us + static_cast<int64_t>(b) * kBucketUs);
  auto bucket_of = [&](int64_t us) -> int64_t { return us < from_us ? -1 : (us - from_us) / kBucketUs; };
  for (int64_t minute = (from_us - sim::kMaxRegularUs) / sim::kMinuteUs; minute < to_us / sim::kMinuteUs; ++minute) {
    for (const sim::SimQuery& q : w.Minute(minute).queries) {
      const int64_t b = bucket_of(q.end_us());
      if (b >= 0 && b < static_cast<int64_t>(n)) {
        auto& v = out[static_cast<size_t>(b)].values;
        v[0] += 1;
        runtimes[static_cast<size_t>(b)].push_back(static_cast<double>(q.end_us() - q.start_us) / 1e6);
        if (RanOnMainCluster(q) && q.has(sim::kDiskBased)) v[3] += 1;
        if (RanOnMainCluster(q))
          for (auto f : {sim::kMissingStats, sim::kNestedLoop, sim::kSelectiveFilter, sim::kDeletedRows, sim::kDistributed})
            v[4] += q.has(f) ? 1 : 0;
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
  const uint64_t cluster_seed = sim::ClusterSeed(seed, cluster);
  const sim::Workload workload(cluster_seed, 1.0);
  const int64_t end_us = kStartUs + weeks * kWeekUs;
  s.buckets = SimBucketMetrics(workload, kStartUs, end_us);
  for (const auto& a : sim::AnomaliesOverlapping(cluster_seed, kStartUs + kWeekUs, end_us))
    if (a.start_us >= kStartUs + kWeekUs) s.incidents.push_back(a);
  BucketModel model = BucketModel::New(Duration::Micros(kBucketUs), Timestamp::FromMicros(kStartUs));
  RollingZScore baseline(static_cast<int>(kFleetMetricCount), 288);
  for (const BucketMetrics& m : s.buckets) {
    auto scored = model.ScoreAndLearn(m, false);
    s.scores.push_back(scored.ok() ? scored->score : 0);
    std::array<double, kFleetMetricCount> x{};
    for (size_t i = 0; i < kFleetMetricCount; ++i) x[i] = std::log1p(std::max(0.0, m.values[i]));
    s.zscores.push_back(baseline.Score(x));
    baseline.Update(x);
  }
  return s;
}

struct Judgement {
  int incidents = 0, caught = 0;
  int false_alerts = 0;
  double cluster_weeks = 0;
  std::vector<double> delays_min;  // of caught incidents
  std::map<std::string, std::pair<int, int>> by_kind;  // caught, total
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

// Judges the alert stream that `flagged` (one flag per bucket) and `for_buckets` make.
void Judge(const ClusterSeries& s, const std::vector<bool>& flagged, int for_buckets, int weeks, Judgement* j) {
  const size_t first = static_cast<size_t>(kWeekUs / kBucketUs);
  std::vector<bool> firing(flagged.size(), false);
  int run = 0;
  for (size_t b = 0; b < flagged.size(); ++b) {
    run = flagged[b] ? run + 1 : 0;
    firing[b] = run >= for_buckets;
  }
  auto bucket_end = [&](size_t b) { return kStartUs + static_cast<int64_t>(b + 1) * kBucketUs; };
  for (size_t b = first; b < firing.size(); ++b) {
    if (!firing[b] || (b > 0 && firing[b - 1])) continue;
    const int64_t at = bucket_end(b);
    const bool explained = std::any_of(s.incidents.begin(), s.incidents.end(), [&](const auto& a) {
      return at > a.start_us && at <= a.end_us + kGraceUs;
    });
    if (!explained) ++j->false_alerts;
  }
  for (const auto& a : s.incidents) {
    ++j->incidents;
    auto& kind = j->by_kind[sim::AnomalyKindName(a.kind)];
    ++kind.second;
    for (size_t b = first; b < firing.size(); ++b) {
      const int64_t at = bucket_end(b);
      if (at <= a.start_us || !firing[b]) continue;
      if (at - a.start_us <= kGraceUs) {
        ++j->caught;
        ++kind.first;
        j->delays_min.push_back(static_cast<double>(at - a.start_us) / 60e6);
      }
      break;
    }
  }
  j->cluster_weeks += weeks - 1;
}

struct ForestSetting {
  ThresholderOptions options;
  int for_buckets;
  std::string Name() const {
    return fmt::format("z_factor {:.1f}, floor {:.2f}, for {}", options.z_factor, options.lower_threshold, for_buckets);
  }
};

Judgement JudgeForest(const std::vector<ClusterSeries>& all, const ForestSetting& setting, int weeks) {
  Judgement j;
  for (const ClusterSeries& s : all) {
    Thresholder t(setting.options);
    std::vector<bool> flagged;
    bool ready = false;
    for (double score : s.scores) {
      ready |= score > 0;  // the forest scores 0 until it is ready
      flagged.push_back(ready && t.GradeAndUpdate(score) > 0);
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

bool Better(const Judgement& a, const Judgement& b) {
  if (a.meets_targets() != b.meets_targets()) return a.meets_targets();
  if (a.caught != b.caught) return a.caught > b.caught;
  if (a.false_alerts != b.false_alerts) return a.false_alerts < b.false_alerts;
  return a.worst_delay() < b.worst_delay();
}

void Print(const char* name, const std::string& setting, const Judgement& j) {
  std::string kinds;
  for (const auto& [kind, ct] : j.by_kind) kinds += fmt::format(" {} {}/{}", kind, ct.first, ct.second);
  fmt::print("  {:<16} {:<36} caught {:>3}/{:<3} delay median {:>5.1f} worst {:>5.1f} min  false/cluster-week {:>5.2f}  {}\n",
             name, setting, j.caught, j.incidents, j.median_delay(), j.worst_delay(), j.false_per_cluster_week(),
             j.meets_targets() ? "MEETS TARGETS" : "misses");
  fmt::print("  {:<16}{}\n", "", kinds);
}

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 4;
  const int clusters = argc > 2 ? std::atoi(argv[2]) : 3;
  const int weeks = argc > 3 ? std::atoi(argv[3]) : 3;
  if (seeds < 2 || clusters < 1 || weeks < 2) {
    fmt::print(stderr, "usage: alert_calibration [seeds>=2] [clusters>=1] [weeks>=2]\n");
    return 2;
  }
  std::vector<ClusterSeries> train, test;
  for (int seed = 1; seed <= seeds; ++seed)
    for (int c = 0; c < clusters; ++c)
      (seed <= seeds / 2 ? train : test).push_back(Simulate(static_cast<uint64_t>(seed), fmt::format("cluster-{}", c), weeks));
  fmt::print("{} seeds x {} clusters x {} weeks (5-minute buckets; week 1 trains); calibrated on seeds 1-{}, judged on {}-{}\n\n",
             seeds, clusters, weeks, seeds / 2, seeds / 2 + 1, seeds);

  std::vector<ForestSetting> grid;
  for (double z : {2.5, 3.0, 4.0, 5.0, 6.0, 8.0})
    for (double floor : {1.0, 1.5, 2.0, 3.0, 4.0, 5.0})
      for (int for_buckets : {1, 2, 3}) {
        ThresholderOptions o = DetectorThresholderOptions();
        o.z_factor = z;
        o.lower_threshold = floor;
        o.initial_threshold = std::max(o.initial_threshold, floor);
        grid.push_back({o, for_buckets});
      }
  ForestSetting best = grid.front();
  Judgement best_train = JudgeForest(train, best, weeks);
  for (const auto& g : grid) {
    Judgement j = JudgeForest(train, g, weeks);
    if (Better(j, best_train)) {
      best = g;
      best_train = j;
    }
  }
  const ForestSetting shipped{DetectorThresholderOptions(), 1};
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
  Print("forest", best.Name(), best_train);
  Print("z-score", fmt::format("|z| > {:.0f}, for {}", best_z, best_z_for), best_z_train);
  fmt::print("\nheld-out seeds:\n");
  Print("forest", best.Name(), JudgeForest(test, best, weeks));
  Print("forest shipped", shipped.Name(), JudgeForest(test, shipped, weeks));
  Print("z-score", fmt::format("|z| > {:.0f}, for {}", best_z, best_z_for), JudgeZScore(test, best_z, best_z_for, weeks));
  Print("z-score |z|>3", "|z| > 3, for 1", JudgeZScore(test, 3, 1, weeks));
  return 0;
}
