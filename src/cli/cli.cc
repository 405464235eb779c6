#include "cli/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <vector>

#include "cli/command.h"

namespace fleetlog::cli {
namespace {

// Every command is a row here.
const CommandRow kCommands[] = {
    {"init", "Write a commented fleetlog.toml and a master key", AddInit},
    {"export", "Run one export cycle over the fleet", AddExport},
    {"run", "Export at the configured interval (and serve, when [server] is set)", AddRun},
    {"status", "Cursor, lag, last run and last error per cluster and table", AddStatus},
    {"query", "Run SQL over the lake; tables carry `cluster` and `dt`", AddQuery},
    {"demo", "Export a simulated fleet into a fresh workspace and print a report", AddDemo},
    {"serve", "Serve the HTTP API and the dashboard", AddServe},
    {"rcf", "Anomaly scores for a CSV series (Random Cut Forest)", AddRcf},
    {"compact", "Compact small files, build roll-ups, expire old partitions (lake upkeep)", AddCompact},
    {"purge", "Remove rows matching a predicate from a table, through a commit, audited", AddPurge},
    {"verify", "Check the lake against the catalog; --repair quarantines what is damaged", AddVerify},
    {"secrets", "Store, list and delete encrypted secrets", AddSecrets},
    {"ddl", "Print the statements that register the lake's tables in Athena, Glue, Trino, Spark or DuckDB", AddDdl},
};

}  // namespace

Result<Config> LoadConfigFor(const GlobalOptions& global) { return LoadConfig(global.config_path); }

int Fail(const Status& status) {
  std::cerr << "fleetlog: " << status.message() << "\n";
  return status.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
}

int Main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("fleetlog");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  CLI::App app{"fleetlog: keeps the query logs of a warehouse fleet in an open data lake"};
  app.require_subcommand(1);
  GlobalOptions global;
  const char* env_config = std::getenv("FLEETLOG_CONFIG");
  global.config_path = env_config && *env_config ? env_config : "fleetlog.toml";
  app.add_option("--config", global.config_path, "Config file (default ./fleetlog.toml or $FLEETLOG_CONFIG)");
  app.add_flag("-v,--verbose", global.verbose, "Log more");
  std::vector<std::pair<CLI::App*, CommandAction>> actions;
  for (const auto& row : kCommands) {
    CLI::App* sub = app.add_subcommand(row.name, row.help);
    actions.emplace_back(sub, row.add(*sub, global));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  spdlog::set_level(global.verbose ? spdlog::level::debug : spdlog::level::info);
  for (auto& [sub, action] : actions)
    if (sub->parsed()) return action();
  return kExitUsage;
}

}  // namespace fleetlog::cli
