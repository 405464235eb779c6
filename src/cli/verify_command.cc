#include <iostream>

#include "cli/command.h"
#include "lake/commit.h"
#include "upkeep/verify.h"

namespace fleetlog::cli {

CommandAction AddVerify(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    bool repair = false;
    bool quick = false;
    OutputFlags output;
  };
  auto opts = std::make_shared<Options>();
  app.add_flag("--repair", opts->repair,
               "Finish pending publishes and move damaged and orphan files to <lake>/_fleetlog/quarantine");
  app.add_flag("--quick", opts->quick, "Skip opening each file as Parquet (sizes and checksums only)");
  AddOutputFlags(app, &opts->output);
  return [&global, opts] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    LakeLayout lake(config->lake_path);
    // Checking only reads, so it may run beside `fleetlog run`; repairing writes, so it
    // takes the writer lock like any writer.
    std::optional<WriterLock> lock;
    if (opts->repair) {
      auto acquired = WriterLock::Acquire(lake);
      if (!acquired.ok()) return Fail(acquired.status());
      lock.emplace(std::move(acquired).value());
    }
    auto state = OpenSqliteStateStore(config->state_path, opts->repair ? OpenMode::kReadWrite : OpenMode::kReadOnly);
    if (!state.ok()) return Fail(state.status());
    auto report = upkeep::VerifyLake(**state, lake, {.repair = opts->repair, .read_parquet = !opts->quick});
    if (!report.ok()) return Fail(report.status());
    if (opts->repair) {
      auto recovered = Recover(**state, lake);  // clears staging files no commit names
      if (!recovered.ok()) return Fail(recovered.status());
    }
    const int exit_code = report->clean() ? kExitOk : kExitFailed;
    const OutputFormat format = opts->output.Resolve(OutputFormat::kTable);
    if (format == OutputFormat::kJson) {
      nlohmann::ordered_json issues = nlohmann::ordered_json::array();
      for (const auto& i : report->issues)
        issues.push_back({{"kind", upkeep::IssueKindName(i.kind)}, {"path", i.path}, {"file_id", i.file_id},
                          {"detail", i.detail}, {"repair", i.repair.empty() ? nullptr : nlohmann::ordered_json(i.repair)}});
      PrintRecord({{"clean", report->clean()},
                   {"repair", opts->repair},
                   {"files_checked", report->files_checked},
                   {"bytes_checked", report->bytes_checked},
                   {"upkeep_leftovers_removed", report->upkeep_leftovers_removed},
                   {"in_progress", report->in_progress},
                   {"issues", issues}},
                  format, opts->output.format_options());
      return exit_code;
    }
    if (format == OutputFormat::kCsv) {  // one line per problem
      Grid grid{.columns = {{"kind"}, {"path"}, {"file_id", true}, {"detail"}, {"repair"}}};
      for (const auto& i : report->issues)
        grid.rows.push_back({upkeep::IssueKindName(i.kind), i.path, std::to_string(i.file_id), i.detail,
                             i.repair.empty() ? std::nullopt : std::optional<std::string>(i.repair)});
      WriteGrid(grid, format, std::cout, opts->output.format_options());
      return exit_code;
    }

    std::cout << "checked " << report->files_checked << " files, " << report->bytes_checked << " bytes\n";
    if (report->upkeep_leftovers_removed > 0)
      std::cout << "removed " << report->upkeep_leftovers_removed
                << " files an interrupted upkeep job had placed but not committed\n";
    for (const auto& path : report->in_progress) std::cout << "in progress  " << path << " (an upkeep job is placing it)\n";
    int repaired = 0;
    for (const auto& issue : report->issues) {
      std::cout << upkeep::IssueKindName(issue.kind) << "  " << issue.path << ": " << issue.detail;
      if (!issue.repair.empty()) {
        std::cout << " -> " << issue.repair;
        ++repaired;
      }
      std::cout << "\n";
    }
    if (report->clean()) {
      std::cout << "the lake matches the catalog\n";
      return static_cast<int>(kExitOk);
    }
    std::cout << report->issues.size() << " problems found";
    if (opts->repair) std::cout << ", " << repaired << " repaired";
    else std::cout << "; `fleetlog verify --repair` finishes or quarantines them";
    std::cout << "\n";
    return static_cast<int>(kExitFailed);
  };
}

}  // namespace fleetlog::cli
