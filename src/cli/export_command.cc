#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "exporter/writer.h"

namespace fleetlog::cli {

static nlohmann::json RunToJson(const RunRecord& r) {
  nlohmann::json j = {{"cluster", r.cluster},
                      {"table", r.table},
                      {"status", r.status == RunStatus::kOk ? "ok" : "failed"},
                      {"rows_read", r.rows_read},
                      {"rows_written", r.rows_written},
                      {"rows_duplicate", r.rows_duplicate},
                      {"bytes_written", r.bytes_written},
                      {"started_at", FormatTimestampIso(r.started_at)},
                      {"duration_ms", (r.finished_at - r.started_at).micros() / 1000},
                      {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)}};
  j["window_lower"] = r.window_lower ? nlohmann::json(FormatTimestampIso(*r.window_lower)) : nlohmann::json(nullptr);
  j["window_upper"] = r.window_upper ? nlohmann::json(FormatTimestampIso(*r.window_upper)) : nlohmann::json(nullptr);
  return j;
}

// Progress of windows read in parts (a first backfill, catching up): a bar on a terminal,
// one plain line per part otherwise.
static void ShowPart(const PartProgress& p, bool tty) {
  const double span = static_cast<double>((p.upper - p.lower).micros());
  const double done = span > 0 ? static_cast<double>((p.done - p.lower).micros()) / span : 1.0;
  const int width = 30, filled = static_cast<int>(done * width);
  if (tty) {
    std::cerr << fmt::format("\r{}/{} [{}{}] {:3.0f}% up to {}", p.cluster, p.table, std::string(static_cast<size_t>(filled), '#'),
                             std::string(static_cast<size_t>(width - filled), '.'), done * 100, FormatTimestamp(p.done))
              << (p.done >= p.upper ? "\n" : "") << std::flush;
  } else {
    std::cerr << fmt::format("cluster {}, table {}: committed up to {} ({:.0f}%), {} rows in this part\n", p.cluster,
                             p.table, FormatTimestamp(p.done), done * 100, p.rows);
  }
}

CommandAction AddExport(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    std::vector<std::string> clusters, tables;
    OutputFlags output;
  };
  auto opts = std::make_shared<Options>();
  app.add_option("--cluster", opts->clusters, "Only this cluster (repeatable)");
  app.add_option("--table", opts->tables, "Only this table (repeatable)");
  AddOutputFlags(app, &opts->output, /*json_alias=*/true);
  return [&global, opts] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    for (const auto& c : opts->clusters)
      if (!config->FindCluster(c)) return Fail(InvalidArgument("no [[cluster]] named \"{}\" in {}", c, config->file));
    for (const auto& t : opts->tables) {
      bool exported = false;
      for (const auto& c : config->clusters) {
        const auto tables = config->TablesOf(c);
        exported = exported || std::find(tables.begin(), tables.end(), t) != tables.end();
      }
      if (!exported)
        return Fail(InvalidArgument("no cluster in {} exports a table named \"{}\" (see [export] tables, a cluster's "
                                    "tables, and [[custom]])", config->file, t));
    }
    auto session = LakeSession::Open(*config);
    if (!session.ok()) return Fail(session.status());
    ExportContext ctx = (*session)->export_context();
    std::mutex progress_mu;
    const bool tty = isatty(STDERR_FILENO);
    ctx.on_part = [&](const PartProgress& p) {
      std::lock_guard lock(progress_mu);
      ShowPart(p, tty);
    };
    CycleReport report = RunCycle(ctx, (*session)->source_factory(), {.clusters = opts->clusters, .tables = opts->tables});
    const OutputFormat format = opts->output.Resolve(OutputFormat::kTable);
    if (format == OutputFormat::kJson) {
      nlohmann::json runs = nlohmann::json::array();
      for (const auto& r : report.runs) runs.push_back(RunToJson(r));
      std::cout << nlohmann::json{{"runs", runs}, {"failed", report.failed}}.dump(2) << "\n";
    } else if (format == OutputFormat::kCsv) {
      Grid grid;
      for (const char* c : {"cluster", "table", "status", "rows_read", "rows_written", "rows_duplicate", "bytes_written",
                            "started_at", "duration_ms", "error", "window_lower", "window_upper"})
        grid.columns.push_back({c, std::string_view(c).find("rows_") == 0 || std::string_view(c) == "bytes_written" ||
                                       std::string_view(c) == "duration_ms"});
      for (const auto& r : report.runs) {
        const nlohmann::json j = RunToJson(r);
        auto& row = grid.rows.emplace_back();
        for (const auto& c : grid.columns) {
          const auto& v = j.at(c.name);
          if (v.is_null()) row.emplace_back();
          else row.emplace_back(v.is_string() ? v.get<std::string>() : v.dump());
        }
      }
      WriteGrid(grid, format, std::cout, opts->output.format_options());
    } else {
      int64_t rows = 0;
      for (const auto& r : report.runs) rows += r.rows_written;
      std::cout << "exported " << rows << " rows in " << report.runs.size() << " table runs, " << report.failed
                << " failed\n";
    }
    return static_cast<int>(report.failed > 0 ? kExitFailed : kExitOk);
  };
}

}  // namespace fleetlog::cli
