#include "upkeep/retention.h"

#include <map>
#include <set>

#include "upkeep/policy.h"
#include "lake/replace.h"
#include "upkeep/rollup.h"

namespace fleetlog::upkeep {
namespace {

// Retires the partitions of `table` that ended before `cutoff`, one commit per cluster.
Status ExpireTable(StateStore& state, const LakeLayout& lake, const std::string& table, Timestamp cutoff,
                   ExpiryReport& report) {
  ASSIGN_OR_RETURN(auto files, state.ListFiles({.table = table, .states = {FileState::kCommitted, FileState::kPublished}}));
  std::set<std::pair<std::string, std::string>> held;
  for (const auto& f : files) {
    if (!DayEndsBy(f.dt, cutoff)) continue;
    if (f.state == FileState::kCommitted) held.insert({f.cluster, f.dt});
  }
  std::map<std::string, std::vector<const CommittedFile*>> by_cluster;
  for (const auto& f : files) {
    if (!DayEndsBy(f.dt, cutoff) || held.count({f.cluster, f.dt})) continue;
    if (IsRollupInput(table)) {
      ASSIGN_OR_RETURN(bool rolled_up, HasRollup(state, f.cluster, f.dt));
      if (!rolled_up) {
        held.insert({f.cluster, f.dt});
        continue;
      }
    }
    by_cluster[f.cluster].push_back(&f);
  }
  for (const auto& [cluster, dt] : held)
    report.held.push_back(fmt::format("{}/cluster={}/dt={}", table, cluster, dt));
  for (const auto& [cluster, expired] : by_cluster) {
    Replacement r;
    r.crash_prefix = "expire";
    r.run = {.cluster = cluster, .table = table, .started_at = lake.env().Now(), .kind = "expire"};
    std::set<std::string> days;
    for (const auto* f : expired) {
      r.retire.push_back(f->id);
      r.run.rows_read += f->rows;
      days.insert(f->dt);
      report.rows += f->rows;
      report.bytes += f->bytes;
    }
    r.run.finished_at = lake.env().Now();
    RETURN_IF_ERROR(CommitReplacement(state, lake, std::move(r)).status().WithContext(
        fmt::format("expiring {} of cluster {}", table, cluster)));
    report.partitions += static_cast<int>(days.size());
    report.files += static_cast<int>(expired.size());
  }
  return Status::Ok();
}

}  // namespace

Result<ExpiryReport> ExpirePartitions(StateStore& state, const LakeLayout& lake, const Config& config, Timestamp now) {
  ExpiryReport report;
  for (const auto& [table, overrides] : config.table_overrides) {
    if (!overrides.keep) continue;
    RETURN_IF_ERROR(ExpireTable(state, lake, table, now - *overrides.keep, report));
  }
  RETURN_IF_ERROR(ExpireTable(state, lake, kRollupTable, now - config.upkeep.rollup_keep, report));
  return report;
}

}  // namespace fleetlog::upkeep
