// Anomalies are placed per (cluster, week) rather than per requested range: the data must not
// depend on how anyone looks at it. Each kind gets its own 42-hour section of the week
// (rotated per cluster and week), so one cluster's anomalies never overlap and a detector can
// be judged on each kind separately. A cluster's weeks start at a minute of the calendar week
// drawn from its seed, so the quiet hours between sections fall at different times on
// different clusters (the demo can always find a seed with an anomaly under way now). The public label functions (sim_source.h) live here too,
// so the labels and the data share one placement.
#include "source/sim/anomaly_schedule.h"

#include <algorithm>

#include "core/fs.h"
#include "core/time.h"
#include "source/sim/sim_random.h"
#include "source/sim/sim_source.h"

namespace fleetlog::sim {
namespace {

constexpr int64_t kMinute = 60LL * 1000000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;
constexpr int64_t kFirstMonday = 4 * kDay;  // 1970-01-05
constexpr int64_t kSection = kWeek / kAnomalyKinds;
constexpr double kOccurrence = 0.75;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// Where the cluster's weeks start: its first week begins this long after 1970-01-05 00:00 UTC.
int64_t WeekOrigin(uint64_t cluster_seed) {
  return kFirstMonday + static_cast<int64_t>(Hash(cluster_seed, 0xa10) % static_cast<uint64_t>(kWeek / kMinute)) * kMinute;
}

// Minutes an anomaly of `kind` lasts.
int64_t DurationMinutes(AnomalyKind kind, Rng& rng) {
  switch (kind) {
    case AnomalyKind::kQueueSpike: return 120;
    case AnomalyKind::kCountCollapse: return rng.Between(90, 181);
    case AnomalyKind::kDiskSpillBurst: return rng.Between(45, 91);
    case AnomalyKind::kNestedLoopAlerts: return rng.Between(60, 121);
  }
  return 60;
}

std::vector<AnomalyWindow> AnomaliesOfWeek(uint64_t cluster_seed, int64_t week) {
  std::vector<AnomalyWindow> out;
  const int64_t week_start = WeekOrigin(cluster_seed) + week * kWeek;
  const int rotation = static_cast<int>(Hash(cluster_seed, 0xa11, static_cast<uint64_t>(week)) % kAnomalyKinds);
  for (int k = 0; k < kAnomalyKinds; ++k) {
    Rng rng(Hash(cluster_seed, 0xa12, static_cast<uint64_t>(week), static_cast<uint64_t>(k)));
    if (!rng.Chance(kOccurrence)) continue;
    const auto kind = static_cast<AnomalyKind>(k);
    const int64_t minutes = DurationMinutes(kind, rng);
    // Keep an hour clear at both ends of the section, so neighbours never touch.
    const int64_t section_start = week_start + ((k + rotation) % kAnomalyKinds) * kSection;
    const int64_t room = (kSection - 2 * kHour) / kMinute - minutes;
    const int64_t start = section_start + kHour + rng.Between(0, room) * kMinute;
    out.push_back({kind, start, start + minutes * kMinute});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.start_us < b.start_us; });
  return out;
}

}  // namespace

const char* AnomalyKindName(AnomalyKind kind) {
  switch (kind) {
    case AnomalyKind::kQueueSpike: return "queue_spike";
    case AnomalyKind::kCountCollapse: return "count_collapse";
    case AnomalyKind::kDiskSpillBurst: return "disk_spill_burst";
    case AnomalyKind::kNestedLoopAlerts: return "nested_loop_alerts";
  }
  return "unknown";
}

std::vector<AnomalyWindow> AnomaliesOfWeekAt(uint64_t cluster_seed, int64_t us) {
  return AnomaliesOfWeek(cluster_seed, FloorDiv(us - WeekOrigin(cluster_seed), kWeek));
}

std::vector<AnomalyWindow> AnomaliesOverlapping(uint64_t cluster_seed, int64_t from_us, int64_t to_us) {
  std::vector<AnomalyWindow> out;
  if (from_us >= to_us) return out;
  const int64_t origin = WeekOrigin(cluster_seed);
  const int64_t first = FloorDiv(from_us - origin, kWeek);
  const int64_t last = FloorDiv(to_us - 1 - origin, kWeek);
  for (int64_t week = first; week <= last; ++week)
    for (const auto& a : AnomaliesOfWeek(cluster_seed, week))
      if (a.start_us < to_us && a.end_us > from_us) out.push_back(a);
  return out;
}

AnomalyEffects EffectsAt(const std::vector<AnomalyWindow>& week, int64_t us) {
  AnomalyEffects effects;
  for (const auto& a : week) {
    if (us < a.start_us || us >= a.end_us) continue;
    switch (a.kind) {
      case AnomalyKind::kQueueSpike: effects.queue_spike = true; break;
      case AnomalyKind::kCountCollapse: effects.rate_factor = 0.04; break;
      case AnomalyKind::kDiskSpillBurst: effects.disk_share = 0.45; break;
      case AnomalyKind::kNestedLoopAlerts: effects.nested_share = 0.35; break;
    }
  }
  return effects;
}

}  // namespace fleetlog::sim

namespace fleetlog {

std::vector<AnomalyLabel> SimAnomalyLabels(const SimOptions& options, Timestamp from, Timestamp to) {
  std::vector<AnomalyLabel> labels;
  const uint64_t cluster_seed = sim::ClusterSeed(options.seed, options.cluster);
  for (const auto& a : sim::AnomaliesOverlapping(cluster_seed, from.micros(), to.micros()))
    labels.push_back({options.cluster, sim::AnomalyKindName(a.kind), Timestamp::FromMicros(a.start_us),
                      Timestamp::FromMicros(a.end_us)});
  return labels;
}

std::string AnomalyLabelsCsv(const std::vector<AnomalyLabel>& labels) {
  std::string csv = "cluster,kind,start,end\n";
  for (const auto& l : labels)
    csv += fmt::format("{},{},{},{}\n", l.cluster, l.kind, FormatTimestampIso(l.start), FormatTimestampIso(l.end));
  return csv;
}

Status WriteAnomalyLabelsCsv(const std::vector<AnomalyLabel>& labels, const std::string& path) {
  return Env::Default()->WriteFile(path, AnomalyLabelsCsv(labels)).WithContext("writing anomaly labels to " + path);
}

}  // namespace fleetlog
