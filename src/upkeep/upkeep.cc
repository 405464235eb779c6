#include "upkeep/upkeep.h"

#include <spdlog/spdlog.h>

namespace fleetlog::upkeep {
namespace {
constexpr const char* kLastRunKey = "upkeep/last_run";
}  // namespace

UpkeepPlan PlanFromConfig(const Config& config) {
  UpkeepPlan plan;
  plan.compaction.target_file_bytes = config.upkeep.target_file_bytes;
  plan.compaction.max_files_per_partition = config.upkeep.max_files_per_partition;
  plan.grace = config.upkeep.grace;
  return plan;
}

std::string UpkeepReport::Summary() const {
  std::string out = fmt::format("compacted {} partitions ({} files into {}, {} rows)", compacted.partitions,
                                compacted.files_in, compacted.files_out, compacted.rows);
  out += fmt::format("; rolled up {} days and {} open days part-way ({} hours); expired {} partitions ({} files, {} rows)",
                     rollups.days, rollups.open_days, rollups.hours, expired.partitions, expired.files, expired.rows);
  out += fmt::format("; deleted {} replaced files ({} bytes)", swept.files_deleted, swept.bytes_deleted);
  if (leftovers_removed > 0) out += fmt::format("; removed {} files of an interrupted upkeep job", leftovers_removed);
  return out;
}

Result<UpkeepReport> RunUpkeep(StateStore& state, const LakeLayout& lake, const Config& config, const UpkeepPlan& plan,
                               Timestamp now) {
  UpkeepReport report;
  ASSIGN_OR_RETURN(report.leftovers_removed, RecoverUpkeep(state, lake));
  if (plan.retention && !plan.compaction.dry_run) {
    ASSIGN_OR_RETURN(report.rollups, BuildRollups(state, lake, config, now));
    ASSIGN_OR_RETURN(report.expired, ExpirePartitions(state, lake, config, now));
  }
  ASSIGN_OR_RETURN(report.compacted, CompactLake(state, lake, config, plan.compaction, now));
  if (!plan.compaction.dry_run) {
    ASSIGN_OR_RETURN(report.swept, SweepRetired(state, lake, lake.env().Now(), plan.grace));
  }
  return report;
}

Status RunScheduledUpkeep(StateStore& state, const LakeLayout& lake, const Config& config, Timestamp now) {
  if (!config.upkeep.enabled) return Status::Ok();
  ASSIGN_OR_RETURN(auto last, state.GetValue(kLastRunKey));
  if (last) {
    auto at = ParseTimestamp(*last);
    if (at.ok() && now - *at < config.upkeep.every && *at <= now) return Status::Ok();
  }
  ASSIGN_OR_RETURN(UpkeepReport report, RunUpkeep(state, lake, config, PlanFromConfig(config), now));
  for (const auto& e : report.compacted.errors) spdlog::warn("compaction: {}", e);
  for (const auto& e : report.rollups.errors) spdlog::warn("roll-up: {}", e);
  if (report.compacted.partitions + report.rollups.days + report.rollups.open_days + report.expired.partitions + report.swept.files_deleted > 0)
    spdlog::info("upkeep: {}", report.Summary());
  return state.PutValue(kLastRunKey, FormatTimestampIso(now));
}

}  // namespace fleetlog::upkeep
