// The load model. Interactive work follows business hours in the cluster's own time zone and
// drops at weekends; ETL peaks at night and runs every day. Queueing grows with utilization
// (roughly the cube, as WLM slot contention does), and run times are log-normal per kind of
// work, which is what real query-time histograms look like on a log axis.
#include "source/sim/sim_workload.h"

#include <algorithm>
#include <cmath>

namespace fleetlog::sim {
namespace {

// 2024-01-01 00:00 UTC in minutes since the epoch: ids count from here, so they fit int32
// until about 2034.
constexpr int64_t kIdOriginMinute = 19723LL * 24 * 60;
constexpr int64_t kDayUs = 24 * kHourUs;

constexpr ServiceClass kShortQueue{14, "Short query queue", "Normal", 1, 256LL << 20};
constexpr ServiceClass kEtlQueue{100, "etl", "High", 2, 4LL << 30};
constexpr ServiceClass kDashboardQueue{101, "dashboard", "Normal", 1, 1LL << 30};
constexpr ServiceClass kAdhocQueue{102, "adhoc", "Low", 1, 2LL << 30};

struct KindModel {
  double exec_median_s;
  double exec_sigma;
  double cache_hit;
  double disk_based;
  double nested_loop;
  double giant_text;
  double aborted;
};
constexpr KindModel kModels[5] = {
    {0.15, 0.7, 0.20, 0.000, 0.00, 0.000, 0.002},  // short
    {1.8, 1.0, 0.30, 0.005, 0.01, 0.000, 0.003},   // dashboard
    {14.0, 1.5, 0.02, 0.040, 0.03, 0.005, 0.020},  // adhoc
    {45.0, 1.3, 0.00, 0.030, 0.00, 0.004, 0.005},  // etl
    {0.05, 0.5, 0.00, 0.000, 0.00, 0.000, 0.000},  // internal
};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }
int64_t Clamp(double v, int64_t lo, int64_t hi) {
  return std::clamp(static_cast<int64_t>(v), lo, hi);
}
double Bump(double hour, double center, double width) {
  double d = std::fabs(hour - center);
  d = std::min(d, 24 - d);  // wraps around midnight
  return std::exp(-0.5 * (d / width) * (d / width));
}

}  // namespace

const ServiceClass* ServiceClassOf(WorkKind kind) {
  switch (kind) {
    case WorkKind::kShort: return &kShortQueue;
    case WorkKind::kDashboard: return &kDashboardQueue;
    case WorkKind::kAdhoc: return &kAdhocQueue;
    case WorkKind::kEtl: return &kEtlQueue;
    case WorkKind::kInternal: return nullptr;
  }
  return nullptr;
}

Workload::Workload(uint64_t cluster_seed, double scale) : seed_(cluster_seed), catalog_(cluster_seed) {
  Rng rng(Hash(cluster_seed, 0x9f0));
  peak_per_hour_ = (300 + 1700 * rng.Uniform()) * scale;
  tz_hours_ = static_cast<double>(rng.Between(-8, 3));  // from US West to Central Europe
  weekend_factor_ = 0.2 + 0.3 * rng.Uniform();
  slices_ = static_cast<int>(rng.Between(2, 5)) * 2;
  const char* databases[] = {"dev", "analytics", "warehouse", "prod"};
  database_ = databases[rng.Next() % 4];
}

Workload::Load Workload::LoadAt(int64_t us) const {
  const int64_t local = us + static_cast<int64_t>(tz_hours_ * static_cast<double>(kHourUs));
  const int64_t day = FloorDiv(local, kDayUs);
  const double hour = static_cast<double>(local - day * kDayUs) / static_cast<double>(kHourUs);
  const bool weekend = ((day + 3) % 7 + 7) % 7 >= 5;  // day 0 was a Thursday
  // Some days are busier than others (month end, launches): +-20%.
  const double day_factor = 0.8 + 0.4 * Rng(Hash(seed_, 0xda7, static_cast<uint64_t>(day))).Uniform();
  const double interactive =
      peak_per_hour_ * (0.05 + 0.95 * Bump(hour, 13.5, 3.0)) * (weekend ? weekend_factor_ : 1.0) * day_factor;
  const double etl = peak_per_hour_ * 0.12 * (0.15 + 0.85 * Bump(hour, 2.5, 1.5));
  Load load{};
  load.per_hour[static_cast<int>(WorkKind::kShort)] = 0.35 * interactive;
  load.per_hour[static_cast<int>(WorkKind::kDashboard)] = 0.45 * interactive;
  load.per_hour[static_cast<int>(WorkKind::kAdhoc)] = 0.20 * interactive;
  load.per_hour[static_cast<int>(WorkKind::kEtl)] = etl;
  load.per_hour[static_cast<int>(WorkKind::kInternal)] = 12;
  load.utilization = std::min(1.2, (interactive + 6 * etl) / (1.1 * peak_per_hour_));
  return load;
}

int32_t Workload::SessionPid(int32_t userid, int64_t us) const {
  // Sessions of a user last about an hour; pids look like Redshift's (2^30 and up).
  const auto hour = static_cast<uint64_t>(FloorDiv(us, kHourUs));
  return 1073741824 + static_cast<int32_t>(Hash(seed_, static_cast<uint64_t>(userid), hour) % 900000);
}

SimQuery Workload::MakeQuery(WorkKind kind, int64_t start_us, bool long_running, const AnomalyEffects& fx,
                             double utilization, Rng& rng) const {
  const KindModel& m = kModels[static_cast<int>(kind)];
  const bool analytic = kind == WorkKind::kDashboard || kind == WorkKind::kAdhoc;
  SimQuery q;
  q.kind = kind;
  q.start_us = start_us;
  q.detail = static_cast<uint32_t>(rng.Next());
  q.plan_us = static_cast<int32_t>(500 + q.detail % 30000);
  q.return_us = static_cast<int32_t>(100 + (q.detail >> 16) % 5000);
  q.userid = kind == WorkKind::kInternal ? 1
             : kind == WorkKind::kEtl    ? 105
             : kind == WorkKind::kAdhoc  ? static_cast<int32_t>(110 + rng.Between(0, 30))
                                         : static_cast<int32_t>(100 + rng.Between(0, 5));
  q.pid = SessionPid(q.userid, start_us);
  q.template_id = catalog_.Pick(kind, analytic ? m.nested_loop + fx.nested_share : 0, m.giant_text, rng);
  if (catalog_.at(q.template_id).nested_loop) q.flags |= kNestedLoop;

  if (!long_running && rng.Chance(m.cache_hit)) {
    q.flags |= kCacheHit;
    q.exec_us = rng.Between(1000, 15000);
    return q;
  }
  const ServiceClass* sc = ServiceClassOf(kind);
  if (sc != nullptr && sc != &kShortQueue) {
    const bool waits = fx.queue_spike || rng.Chance(0.05 + 0.6 * utilization * utilization);
    const double median_s = fx.queue_spike ? 300.0 : 0.5 + 6.0 * utilization * utilization * utilization;
    if (waits) q.queue_us = Clamp(rng.LogNormal(median_s, fx.queue_spike ? 0.5 : 1.0) * 1e6, 1000, 14 * kMinuteUs);
    if (analytic && !fx.queue_spike && q.queue_us > 5000000 && rng.Chance(0.5)) {
      q.flags |= kConcurrencyScaled;  // a scaling cluster took it instead of the queue
      q.queue_us = rng.Between(1000, 200000);
    }
  } else if (sc != nullptr && rng.Chance(0.05)) {
    q.queue_us = rng.Between(1000, 300000);
  }
  const double slowdown = 1.0 + 0.5 * utilization;
  q.exec_us = long_running ? Clamp(rng.LogNormal(3000, 0.6) * 1e6, 16 * kMinuteUs, 340 * kMinuteUs)
                           : Clamp(rng.LogNormal(m.exec_median_s * slowdown, m.exec_sigma) * 1e6, 300, 15 * kMinuteUs);
  if (rng.Chance(m.aborted)) q.flags |= kAborted;
  if (kind != WorkKind::kShort && kind != WorkKind::kInternal && rng.Chance(m.disk_based + fx.disk_share))
    q.flags |= kDiskBased;
  if (kind == WorkKind::kEtl || kind == WorkKind::kAdhoc) {
    if (rng.Chance(0.03)) q.flags |= kMissingStats;
    if (rng.Chance(0.02)) q.flags |= kDeletedRows;
  }
  if (kind == WorkKind::kAdhoc && rng.Chance(0.05)) q.flags |= kDistributed;
  if ((kind == WorkKind::kDashboard || kind == WorkKind::kShort) && rng.Chance(0.04)) q.flags |= kSelectiveFilter;
  return q;
}

std::vector<SimQuery> Workload::LongQueries(int64_t hour) const {
  const int64_t t0 = hour * kHourUs;
  const auto week = AnomaliesOfWeekAt(seed_, t0);
  Rng rng(Hash(seed_, 0x10f, static_cast<uint64_t>(hour)));
  const Load load = LoadAt(t0);
  const double rate_factor = EffectsAt(week, t0).rate_factor;
  // Mostly nightly ETL; a little ad-hoc work that someone forgot a join condition in.
  const int n = rng.Poisson((0.25 + 0.6 * load.utilization) * rate_factor);
  std::vector<SimQuery> out;
  for (int i = 0; i < n; ++i) {
    const int64_t start = t0 + rng.Between(0, kHourUs);
    const WorkKind kind = rng.Chance(0.7) ? WorkKind::kEtl : WorkKind::kAdhoc;
    out.push_back(MakeQuery(kind, start, true, EffectsAt(week, start), load.utilization, rng));
  }
  return out;
}

SimMinute Workload::Minute(int64_t minute, uint64_t draw, bool anomalies) const {
  const int64_t t0 = minute * kMinuteUs;
  const auto week = AnomaliesOfWeekAt(seed_, t0);
  const AnomalyEffects fx = anomalies ? EffectsAt(week, t0) : AnomalyEffects{};
  const Load load = LoadAt(t0);
  const uint64_t seed = Hash(seed_, 0x3e9, static_cast<uint64_t>(minute));
  Rng rng(draw == 0 ? seed : Hash(seed, draw));
  SimMinute out;
  for (int k = 0; k < 5; ++k) {
    const auto kind = static_cast<WorkKind>(k);
    const double factor = kind == WorkKind::kInternal ? 1.0 : fx.rate_factor;
    for (int i = rng.Poisson(load.per_hour[k] / 60 * factor); i > 0; --i)
      out.queries.push_back(MakeQuery(kind, t0 + rng.Between(0, kMinuteUs), false, fx, load.utilization, rng));
  }
  for (const SimQuery& q : LongQueries(FloorDiv(minute, 60)))
    if (q.start_us >= t0 && q.start_us < t0 + kMinuteUs) out.queries.push_back(q);
  std::sort(out.queries.begin(), out.queries.end(),
            [](const SimQuery& a, const SimQuery& b) {
              return a.start_us != b.start_us ? a.start_us < b.start_us : a.detail < b.detail;
            });
  if (out.queries.size() > kQueriesPerMinute) out.queries.resize(kQueriesPerMinute);

  const int64_t id_base = (minute - kIdOriginMinute) * kIdsPerMinute + 1;
  for (size_t i = 0; i < out.queries.size(); ++i) {
    out.queries[i].query = static_cast<int32_t>(id_base + static_cast<int64_t>(i));
    out.queries[i].xid = id_base + static_cast<int64_t>(i) + 7000000;
  }

  // DDL and utility statements come with ETL, plus a steady trickle of session settings.
  const double etl = load.per_hour[static_cast<int>(WorkKind::kEtl)];
  const int ddl = rng.Poisson((0.3 * etl + 3) / 60 * fx.rate_factor);
  const int utility = rng.Poisson((0.5 * etl + 6) / 60 * fx.rate_factor);
  for (int i = 0; i < ddl + utility && i < kIdsPerMinute - kQueriesPerMinute; ++i) {
    SimStatement s;
    s.utility = i >= ddl;
    s.userid = rng.Chance(0.8) ? 105 : static_cast<int32_t>(110 + rng.Between(0, 30));
    s.label = s.userid == 105 ? "etl_nightly" : "default";
    s.pid = SessionPid(s.userid, t0);
    s.xid = id_base + kQueriesPerMinute + i + 7000000;
    s.start_us = t0 + rng.Between(0, kMinuteUs);
    bool slow = false;
    s.text = s.utility ? catalog_.UtilityText(rng, &slow) : catalog_.DdlText(rng);
    const double seconds = slow ? rng.LogNormal(20, 1.2) : rng.LogNormal(s.utility ? 0.003 : 0.04, 0.8);
    s.end_us = s.start_us + Clamp(seconds * 1e6, 200, 25 * kMinuteUs);
    out.statements.push_back(std::move(s));
  }
  return out;
}

}  // namespace fleetlog::sim
