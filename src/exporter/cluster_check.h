// `fleetlog check`: what to know before trusting a cluster's export. Per cluster: can it
// connect (TLS as its dsn says), which STL and SYS tables exist and are readable with the
// columns fleetlog needs, does the login see every user's rows, how far the source's clock
// is from ours, and the oldest row each table still holds against the cursor and lookback.
// Each finding is an item; a problem says what to do about it.
// Thread-safety: CheckCluster uses `source` from the calling thread only.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "source/source.h"
#include "state/state_store.h"

namespace fleetlog {

struct CheckItem {
  std::string check;   // "connect", "tls", "visibility", "clock", or a table's name
  bool problem = false;
  std::string detail;  // what was found; for a problem, also the fix
};

struct ClusterCheck {
  std::string cluster;
  std::vector<CheckItem> items;
  bool ok() const;
};

// Clocks further apart than this are a problem.
inline constexpr Duration kMaxClockSkew = Duration::Minutes(1);

// Probes `cluster` through `source`. `state` may be null (nothing exported yet). Never
// fails: a failure is an item.
ClusterCheck CheckCluster(const Config& config, const ClusterConfig& cluster, Source& source, StateStore* state,
                          Timestamp local_now);

}  // namespace fleetlog
