#include <iostream>

#include "cli/command.h"
#include "exporter/writer.h"
#include "upkeep/purge.h"
#include "lake/replace.h"

namespace fleetlog::cli {

CommandAction AddPurge(CLI::App& app, const GlobalOptions& global) {
  auto request = std::make_shared<upkeep::PurgeRequest>();
  app.add_option("--table", request->table, "The lake table to purge rows from")->required();
  app.add_option("--where", request->predicate,
                 "SQL expression over the table's columns (and cluster, dt) selecting the rows to remove")->required();
  app.add_flag("--dry-run", request->dry_run, "Count the rows and files that would change; change nothing");
  auto output = std::make_shared<OutputFlags>();
  AddOutputFlags(app, output.get());
  return [&global, request, output] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    if (Status shape = upkeep::CheckPredicateShape(request->predicate); !shape.ok()) return Fail(shape);
    auto session = LakeSession::Open(*config);
    if (!session.ok()) return Fail(session.status());
    auto& state = (*session)->state();
    if (auto leftovers = upkeep::RecoverUpkeep(state, (*session)->lake()); !leftovers.ok()) return Fail(leftovers.status());
    auto report = upkeep::PurgeRows(state, (*session)->lake(), *config, *request);
    if (!report.ok()) return Fail(report.status());
    for (const auto& w : report->warnings) std::cerr << "fleetlog: warning: " << w << "\n";
    if (const OutputFormat format = output->Resolve(OutputFormat::kTable); format != OutputFormat::kTable) {
      nlohmann::ordered_json record = {{"table", request->table},
                                       {"dry_run", request->dry_run},
                                       {"rows_matched", report->rows_matched},
                                       {"rows_kept", report->rows_kept},
                                       {"files_total", report->files_total},
                                       {"files_affected", report->files_affected},
                                       {"files_written", report->files_written},
                                       {"rollup_days_rebuilt", report->rollup_days_rebuilt},
                                       {"commit_id", report->commit_id ? nlohmann::ordered_json(*report->commit_id) : nullptr},
                                       {"audit_key", report->audit_key.empty() ? nullptr : nlohmann::ordered_json(report->audit_key)}};
      if (format == OutputFormat::kJson) record["affected_paths"] = report->affected_paths;
      PrintRecord(record, format, output->format_options());
      return static_cast<int>(kExitOk);
    }
    if (request->dry_run) {
      std::cout << "would remove " << report->rows_matched << " rows of " << request->table << ", rewriting "
                << report->files_affected << " of " << report->files_total << " files\n";
      for (const auto& p : report->affected_paths) std::cout << "  " << p << "\n";
      return static_cast<int>(kExitOk);
    }
    std::cout << "removed " << report->rows_matched << " rows of " << request->table << ": " << report->files_affected
              << " of " << report->files_total << " files replaced by " << report->files_written << " ("
              << report->rows_kept << " rows kept)";
    if (report->commit_id) std::cout << ", commit " << *report->commit_id;
    if (!report->audit_key.empty()) std::cout << ", audit record " << report->audit_key;
    std::cout << "\n";
    if (report->rollup_days_rebuilt > 0) std::cout << "rebuilt " << report->rollup_days_rebuilt << " roll-up days\n";
    if (report->files_affected > 0)
      std::cout << "the replaced files are deleted from disk after the grace period ("
                << FormatDuration(config->upkeep.grace) << ") by `fleetlog run` or `fleetlog compact`\n";
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
