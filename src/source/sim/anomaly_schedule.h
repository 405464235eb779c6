// Where the simulated fleet's labelled anomalies fall, and how an active anomaly bends the
// workload. Placement is a pure function of (cluster seed, week), so the data and the
// labels agree whatever window anyone asks for. See AnomalyLabel in sim_source.h.
// Thread-safety: pure functions and immutable values.
#pragma once

#include <cstdint>
#include <vector>

namespace fleetlog::sim {

enum class AnomalyKind { kQueueSpike, kCountCollapse, kDiskSpillBurst, kNestedLoopAlerts };
inline constexpr int kAnomalyKinds = 4;
const char* AnomalyKindName(AnomalyKind kind);

struct AnomalyWindow {
  AnomalyKind kind;
  int64_t start_us;  // minute-aligned
  int64_t end_us;
};

// The anomalies of a cluster in its week that holds `us` (a cluster's weeks start at a minute
// of the calendar week drawn from its seed); at most one per kind, never overlapping.
std::vector<AnomalyWindow> AnomaliesOfWeekAt(uint64_t cluster_seed, int64_t us);
// The anomalies overlapping [from_us, to_us), ordered by start.
std::vector<AnomalyWindow> AnomaliesOverlapping(uint64_t cluster_seed, int64_t from_us, int64_t to_us);

// What the anomalies active at one instant do to the workload.
struct AnomalyEffects {
  double rate_factor = 1.0;   // count_collapse: a few per cent
  bool queue_spike = false;   // non-SQA queries wait minutes for a slot
  double disk_share = 0.0;    // extra share of queries that spill to disk
  double nested_share = 0.0;  // share of analytic queries that pick a nested-loop plan
};
AnomalyEffects EffectsAt(const std::vector<AnomalyWindow>& week, int64_t us);

}  // namespace fleetlog::sim
