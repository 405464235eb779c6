// The command line: one table of subcommands over the core library (see command.h). The same
// table yields --help, the man page and the shell completions, so a new row needs no edit there.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.h"

namespace fleetlog::cli {

// Parses argv, runs the command, returns the process exit code:
// 0 success, 1 a run or query failed, 2 bad usage or bad configuration.
int Main(int argc, char** argv);

// The parser built from the command table, and the action of each command once parsed.
// Actions refer to `global`, so a CommandLine stays where it was made (it is not movable).
struct CommandLine {
  CommandLine() = default;
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  CLI::App app{"fleetlog: keeps the query logs of a warehouse fleet in an open data lake", "fleetlog"};
  GlobalOptions global;
  std::vector<std::pair<CLI::App*, CommandAction>> actions;
};
std::unique_ptr<CommandLine> BuildCommandLine();

// The rows of the command table, in order.
const std::vector<CommandRow>& CommandTable();

// "fleetlog 0.1.0 (commit 1a2b3c4d5e6f)\nDuckDB v1.4.4"
std::string VersionText();

}  // namespace fleetlog::cli
