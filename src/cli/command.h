// What every subcommand shares: the global options, config loading, and the mapping of a
// Status to an exit code and a message. Each command lives in its own *_command.cc and is a
// row of the table in cli.cc.
// Thread-safety: used from the main thread only.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/env.h"
#include "core/status.h"
#include "query/format.h"

#include "source/source.h"
#include "state/state_store.h"
#include "storage/s3_lake.h"

namespace fleetlog {
class Server;
class StateStore;
struct ServerOptions;
class SecretStore;
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
  const char* example = nullptr;  // one typical invocation, for --help and the man page (required)
};

// The one output flag of every command that prints data: --format table|json|csv, plus --json
// as an alias of --format json where scripts already use it, and --crlf for RFC 4180 line ends.
struct OutputFlags {
  std::string format;  // empty: the command's default
  bool json = false;
  bool crlf = false;

  OutputFormat Resolve(OutputFormat default_format) const;
  FormatOptions format_options() const { return FormatOptions::Crlf(crlf); }
};
void AddOutputFlags(CLI::App& app, OutputFlags* flags, bool json_alias = false);
// One record of named values (a command's summary): JSON prints an object, CSV a header line
// and one row. (The table form is each command's own sentence.)
void PrintRecord(const nlohmann::ordered_json& record, OutputFormat format, const FormatOptions& options);

// Loads the config named by the global options; on failure prints the problems.
Result<Config> LoadConfigFor(const GlobalOptions& global);
// For a lake in S3: the bucket and the local file cache, registered for this process's query
// engines while it lives (storage/s3_lake.h). Null for a local lake. `state` (may be null)
// gives stored credentials.
Result<std::unique_ptr<S3Lake>> OpenS3Reader(const Config& config, StateStore* state);
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

// True when `wanted` (a --cluster list) is empty or names `name`.
inline bool Chosen(const std::vector<std::string>& wanted, const std::string& name) {
  return wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end();
}

// Sources for commands that read clusters without writing the lake (check, running): the
// state store read-only (for cursors and secrets), when one exists.
class ClusterSources {
 public:
  static Result<ClusterSources> Open(const Config& config);
  ClusterSources(ClusterSources&&) = default;
  ~ClusterSources();
  Result<std::unique_ptr<Source>> Make(const ClusterConfig& cluster);
  StateStore* state() const { return state_.get(); }

 private:
  ClusterSources() = default;
  const Config* config_ = nullptr;
  std::unique_ptr<StateStore> state_;     // null before the first export
  std::unique_ptr<SecretStore> secrets_;  // null without a master key
};

CommandAction AddCheck(CLI::App& app, const GlobalOptions& global);
CommandAction AddRunning(CLI::App& app, const GlobalOptions& global);
CommandAction AddInit(CLI::App& app, const GlobalOptions& global);
CommandAction AddQuery(CLI::App& app, const GlobalOptions& global);
CommandAction AddSecrets(CLI::App& app, const GlobalOptions& global);
CommandAction AddExport(CLI::App& app, const GlobalOptions& global);
CommandAction AddStatus(CLI::App& app, const GlobalOptions& global);
CommandAction AddRun(CLI::App& app, const GlobalOptions& global);
CommandAction AddDemo(CLI::App& app, const GlobalOptions& global);
CommandAction AddRestore(CLI::App& app, const GlobalOptions& global);
CommandAction AddRcf(CLI::App& app, const GlobalOptions& global);
CommandAction AddServe(CLI::App& app, const GlobalOptions& global);
CommandAction AddCompact(CLI::App& app, const GlobalOptions& global);
CommandAction AddPurge(CLI::App& app, const GlobalOptions& global);
CommandAction AddVerify(CLI::App& app, const GlobalOptions& global);
CommandAction AddDdl(CLI::App& app, const GlobalOptions& global);
CommandAction AddCompletion(CLI::App& app, const GlobalOptions& global);
CommandAction AddManPage(CLI::App& app, const GlobalOptions& global);
CommandAction AddAlerts(CLI::App& app, const GlobalOptions& global);

}  // namespace fleetlog::cli
