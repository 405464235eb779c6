#include "exporter/table_health.h"

#include "source/table_spec.h"

namespace fleetlog {

std::vector<TableRef> ExportedTables(const Config& config) {
  std::vector<TableRef> out;
  for (const auto& cluster : config.clusters)
    for (const auto& spec : TableSpecsFor(config, cluster)) out.push_back({cluster.name, spec.name});
  return out;
}

Result<std::vector<TableHealth>> ReadTableHealth(StateStore* state, const std::vector<TableRef>& tables, Timestamp now) {
  std::vector<CursorRecord> cursors;
  std::vector<RunRecord> runs;
  if (state) {
    ASSIGN_OR_RETURN(cursors, state->ListCursors());
    ASSIGN_OR_RETURN(runs, state->LatestRuns());
  }
  std::vector<TableHealth> out;
  out.reserve(tables.size());
  for (const TableRef& t : tables) {
    TableHealth h{.cluster = t.cluster, .table = t.table};
    for (const auto& c : cursors)
      if (c.cluster == t.cluster && c.table == t.table) h.cursor = c.position;
    for (const auto& r : runs)
      if (r.cluster == t.cluster && r.table == t.table && r.kind == "export") h.last_run = r;
    if (h.cursor) {
      Duration offset;
      if (h.last_run && h.last_run->source_now) offset = *h.last_run->source_now - h.last_run->started_at;
      h.lag = (now + offset) - *h.cursor;
    }
    if (state && h.last_run && h.last_run->status == RunStatus::kFailed) {
      ASSIGN_OR_RETURN(h.failure_streak, state->FailureStreak(t.cluster, t.table));
    }
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<const TableHealth*> TablesLaggingBeyond(const std::vector<TableHealth>& health, Duration bound) {
  std::vector<const TableHealth*> out;
  for (const TableHealth& h : health)
    if (h.lag && *h.lag > bound) out.push_back(&h);
  return out;
}

}  // namespace fleetlog
