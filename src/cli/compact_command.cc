#include <algorithm>
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
    OutputFlags output;
  };
  auto opts = std::make_shared<Options>();
  app.add_option("--table", opts->tables, "Only this table (repeatable)");
  app.add_option("--cluster", opts->clusters, "Only this cluster (repeatable)");
  app.add_flag("--dry-run", opts->dry_run, "Say what would be compacted; change nothing");
  app.add_flag("--retention", opts->retention,
               "Also build the hourly roll-ups and expire partitions older than their keep");
  app.add_option("--grace", opts->grace,
                 "Delete replaced files retired at least this long ago (default [upkeep].grace, 10m)");
  AddOutputFlags(app, &opts->output);
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
    for (const auto& c : opts->clusters)
      if (!config->FindCluster(c)) return Fail(InvalidArgument("no [[cluster]] named \"{}\" in {}", c, config->file));
    auto session = LakeSession::Open(*config);
    if (!session.ok()) return Fail(session.status());
    if (!opts->tables.empty()) {
      // The lake's tables are those with a recorded schema.
      auto keys = (*session)->state().ListKeys("schema/");
      if (!keys.ok()) return Fail(keys.status());
      for (const auto& t : opts->tables)
        if (std::find(keys->begin(), keys->end(), "schema/" + t) == keys->end())
          return Fail(InvalidArgument("the lake has no table named \"{}\"", t));
    }
    auto report = upkeep::RunUpkeep((*session)->state(), (*session)->lake(), *config, plan, (*session)->clock().Now());
    if (!report.ok()) return Fail(report.status());
    const auto& c = report->compacted;
    const int exit_code = c.errors.empty() && report->rollups.errors.empty() ? kExitOk : kExitFailed;
    const OutputFormat format = opts->output.Resolve(OutputFormat::kTable);
    if (format != OutputFormat::kTable) {
      nlohmann::ordered_json record = {
          {"dry_run", opts->dry_run},          {"partitions", c.partitions},
          {"files_in", c.files_in},            {"files_out", c.files_out},
          {"rows", c.rows},                    {"bytes_in", c.bytes_in},
          {"bytes_out", c.bytes_out},          {"rollup_days", report->rollups.days},
          {"rollup_open_days", report->rollups.open_days},
          {"rollup_hours", report->rollups.hours}, {"expired_partitions", report->expired.partitions},
          {"expired_files", report->expired.files}, {"expired_rows", report->expired.rows},
          {"files_deleted", report->swept.files_deleted}, {"bytes_deleted", report->swept.bytes_deleted},
          {"leftovers_removed", report->leftovers_removed}};
      std::vector<std::string> errors = c.errors;
      errors.insert(errors.end(), report->rollups.errors.begin(), report->rollups.errors.end());
      if (format == OutputFormat::kJson) {
        record["errors"] = errors;
        record["held"] = report->expired.held;
      } else {
        record["errors"] = static_cast<int64_t>(errors.size());
        for (const auto& e : errors) std::cerr << "fleetlog: " << e << "\n";
      }
      PrintRecord(record, format, opts->output.format_options());
      return exit_code;
    }
    if (opts->dry_run) {
      std::cout << "would compact " << c.partitions << " partitions: " << c.files_in << " files, " << c.rows << " rows, "
                << c.bytes_in << " bytes\n";
      return static_cast<int>(kExitOk);
    }
    std::cout << report->Summary() << "\n";
    for (const auto& e : c.errors) std::cerr << "fleetlog: compaction failed: " << e << "\n";
    for (const auto& e : report->rollups.errors) std::cerr << "fleetlog: " << e << "\n";
    for (const auto& h : report->expired.held) std::cout << "kept past its keep (no roll-up yet or unpublished): " << h << "\n";
    return exit_code;
  };
}

}  // namespace fleetlog::cli
