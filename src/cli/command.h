// What every subcommand shares: the global options, config loading, and the mapping of a
// Status to an exit code and a message. Each command lives in its own *_command.cc and is a
// row of the table in cli.cc.
// Thread-safety: used from the main thread only.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/env.h"
#include "core/status.h"

namespace fleetlog {
class Server;
class StateStore;
struct ServerOptions;
}  // namespace fleetlog

namespace fleetlog::cli {

enum ExitCode { kExitOk = 0, kExitFailed = 1, kExitUsage = 2 };

struct GlobalOptions {
  std::string config_path;  // --config, else $FLEETLOG_CONFIG, else ./fleetlog.toml
  bool verbose = false;
};

// Set up by a command's registration; run after parsing when that command was chosen.
using CommandAction = std::function<int()>;
using RegisterFn = CommandAction (*)(CLI::App& app, const GlobalOptions& global);

struct CommandRow {
  const char* name;
  const char* help;
  RegisterFn add;
};

// Loads the config named by the global options; on failure prints the problems.
Result<Config> LoadConfigFor(const GlobalOptions& global);
// Prints "fleetlog: <message>" to stderr and returns the exit code for `status`:
// 2 for bad input (kInvalidArgument), 1 otherwise.
int Fail(const Status& status);

// SIGTERM and SIGINT set StopRequested(); long-running commands poll it.
void InstallStopHandlers();
const std::atomic<bool>& StopRequested();

// The server's options from `config`, with the Data API's access keys and their secrets
// (read through the secret store of `state`, which may be null).
Result<ServerOptions> ServerOptionsWithSecrets(const Config& config, StateStore* state);

// Starts the HTTP server inside a writer process when the config has [server]; null otherwise.
Result<std::unique_ptr<Server>> StartServerIfConfigured(const Config& config, StateStore* state);

CommandAction AddInit(CLI::App& app, const GlobalOptions& global);
CommandAction AddQuery(CLI::App& app, const GlobalOptions& global);
CommandAction AddSecrets(CLI::App& app, const GlobalOptions& global);
CommandAction AddExport(CLI::App& app, const GlobalOptions& global);
CommandAction AddStatus(CLI::App& app, const GlobalOptions& global);
CommandAction AddRun(CLI::App& app, const GlobalOptions& global);
CommandAction AddDemo(CLI::App& app, const GlobalOptions& global);
CommandAction AddRcf(CLI::App& app, const GlobalOptions& global);
CommandAction AddServe(CLI::App& app, const GlobalOptions& global);
CommandAction AddCompact(CLI::App& app, const GlobalOptions& global);
CommandAction AddPurge(CLI::App& app, const GlobalOptions& global);
CommandAction AddVerify(CLI::App& app, const GlobalOptions& global);
CommandAction AddDdl(CLI::App& app, const GlobalOptions& global);

}  // namespace fleetlog::cli
