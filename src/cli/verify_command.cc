#include <iostream>

#include "cli/command.h"
#include "lake/commit.h"
#include "upkeep/verify.h"

namespace fleetlog::cli {

CommandAction AddVerify(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    bool repair = false;
    bool quick = false;
  };
  auto opts = std::make_shared<Options>();
  app.add_flag("--repair", opts->repair,
               "Finish pending publishes and move damaged and orphan files to <lake>/_fleetlog/quarantine");
  app.add_flag("--quick", opts->quick, "Skip opening each file as Parquet (sizes and checksums only)");
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
