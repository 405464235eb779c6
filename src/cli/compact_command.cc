#include <iostream>

#include "cli/command.h"
#include "exporter/writer.h"
#include "upkeep/upkeep.h"

namespace fleetlog::cli {

CommandAction AddCompact(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    std::vector<std::string> tables, clusters;
    bool dry_run = false;
    bool retention = false;
    std::string grace;
  };
  auto opts = std::make_shared<Options>();
  app.add_option("--table", opts->tables, "Only this table (repeatable)");
  app.add_option("--cluster", opts->clusters, "Only this cluster (repeatable)");
  app.add_flag("--dry-run", opts->dry_run, "Say what would be compacted; change nothing");
  app.add_flag("--retention", opts->retention,
               "Also build the hourly roll-ups and expire partitions older than their keep");
  app.add_option("--grace", opts->grace,
                 "Delete replaced files retired at least this long ago (default [upkeep].grace, 10m)");
  return [&global, opts] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    upkeep::UpkeepPlan plan = upkeep::PlanFromConfig(*config);
    plan.retention = opts->retention;
    plan.compaction.tables = opts->tables;
    plan.compaction.clusters = opts->clusters;
    plan.compaction.dry_run = opts->dry_run;
    if (!opts->grace.empty()) {
      auto grace = ParseDuration(opts->grace);
      if (!grace.ok()) return Fail(InvalidArgument("--grace: {}", grace.status().message()));
      plan.grace = *grace;
    }
    auto session = LakeSession::Open(*config);
    if (!session.ok()) return Fail(session.status());
    auto report = upkeep::RunUpkeep((*session)->state(), (*session)->lake(), *config, plan, (*session)->clock().Now());
    if (!report.ok()) return Fail(report.status());
    const auto& c = report->compacted;
    if (opts->dry_run) {
      std::cout << "would compact " << c.partitions << " partitions: " << c.files_in << " files, " << c.rows << " rows, "
                << c.bytes_in << " bytes\n";
      return static_cast<int>(kExitOk);
    }
    std::cout << report->Summary() << "\n";
    for (const auto& e : c.errors) std::cerr << "fleetlog: compaction failed: " << e << "\n";
    for (const auto& e : report->rollups.errors) std::cerr << "fleetlog: " << e << "\n";
    for (const auto& h : report->expired.held) std::cout << "kept past its keep (no roll-up yet or unpublished): " << h << "\n";
    return static_cast<int>(c.errors.empty() && report->rollups.errors.empty() ? kExitOk : kExitFailed);
  };
}

}  // namespace fleetlog::cli
