// Cross-fleet views: one relation per question users ask (queries, their text, alerts, scans,
// loads) over clusters with the STL tables and clusters with the SYS views side by side, so
// a mixed fleet reads as one. Each view is a UNION ALL of one part per family, over those
// parts whose tables the lake has; `family` says which a row came from.
//
// Identity: a query is (cluster, family, query_id). SYS query_id is a different number space
// from STL `query` on the same cluster (a provisioned cluster exporting both families has
// each query twice, once per family, under two unrelated ids); never join the two on it.
// Text: STL keeps 200-character pieces, SYS 4000-character pieces; the views reassemble both.
// Thread-safety: pure functions over immutable tables.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace fleetlog {

struct FleetView {
  std::string name;
  std::string description;   // one line, for the README and `fleetlog query` users
  // Every table any part reads: a statement naming the view needs their views.
  std::vector<std::string> tables;
};

const std::vector<FleetView>& FleetViews();

// "CREATE VIEW ..." for `view` over the parts whose tables are all in `present` (the table
// and helper view names that exist), or empty when no part can be built.
std::string FleetViewSql(const FleetView& view, const std::set<std::string>& present);

}  // namespace fleetlog
