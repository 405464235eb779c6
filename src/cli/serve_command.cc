#include <csignal>
#include <cstdlib>
#include <filesystem>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "core/log_format.h"
#include "secrets/secret_store.h"
#include "server/server.h"
#include "state/state_store.h"

namespace fleetlog::cli {
namespace {

// Reads each configured key's secret: from `secrets` (secret_access_key_secret) or the
// environment (secret_access_key_env). `secrets` may be null when no key uses it. Fails with
// kInvalidArgument naming the key whose secret is missing.
Result<std::vector<AwsAccessKey>> ResolveAccessKeys(const std::vector<AccessKeyConfig>& keys, SecretStore* secrets) {
  std::vector<AwsAccessKey> out;
  for (const auto& k : keys) {
    AwsAccessKey key{.name = k.name, .access_key_id = k.access_key_id, .workgroup = k.workgroup};
    if (!k.secret_env.empty()) {
      const char* value = std::getenv(k.secret_env.c_str());
      if (value == nullptr || *value == '\0')
        return InvalidArgument("access key \"{}\": the environment variable {} (secret_access_key_env) is not set",
                               k.name, k.secret_env);
      key.secret_access_key = value;
    } else {
      if (secrets == nullptr)
        return InvalidArgument("access key \"{}\": its secret \"{}\" is in the secret store, which cannot be opened "
                               "(no master key or state store yet: run `fleetlog init` and `fleetlog secrets set {}`)",
                               k.name, k.secret_name, k.secret_name);
      auto value = secrets->Get(k.secret_name);
      if (!value.ok())
        return InvalidArgument("access key \"{}\": cannot read secret \"{}\" ({}); store it with `fleetlog secrets set "
                               "{}`", k.name, k.secret_name, value.status().message(), k.secret_name);
      key.secret_access_key = std::move(value).value();
    }
    out.push_back(std::move(key));
  }
  return out;
}

}  // namespace

Result<ServerOptions> ServerOptionsWithSecrets(const Config& config, StateStore* state) {
  ServerOptions options = ServerOptionsFromConfig(config);
  const auto& keys = config.server->access_keys;
  std::unique_ptr<SecretStore> secrets;
  const bool stored = std::any_of(keys.begin(), keys.end(), [](const auto& k) { return !k.secret_name.empty(); });
  if (stored && state != nullptr) {
    auto key = MasterKey::Load(config.key_file);
    if (key.ok()) secrets = std::make_unique<SecretStore>(*state, std::move(key).value());
  }
  ASSIGN_OR_RETURN(options.access_keys, ResolveAccessKeys(keys, secrets.get()));
  return options;
}

CommandAction AddServe(CLI::App& app, const GlobalOptions& global) {
  struct Options {
    std::string listen;
    std::string web_dir;
    bool no_access_log = false;
  };
  auto opts = std::make_shared<Options>();
  app.add_option("--listen", opts->listen, "HOST:PORT, overriding [server] listen");
  app.add_option("--web-dir", opts->web_dir, "Serve the dashboard from this folder (development) instead of the embedded copy");
  app.add_flag("--no-access-log", opts->no_access_log, "Do not write the JSON-lines access log to stdout");
  return [&global, opts] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    UseJsonLogs(config->log.json);
    if (!config->server) config->server = ServerConfig{};  // `serve` without [server]: loopback defaults
    if (config->server->results_dir.empty())
      config->server->results_dir = std::filesystem::path(config->state_path).parent_path() / "results";
    std::unique_ptr<StateStore> state;
    auto opened = OpenSqliteStateStore(config->state_path, OpenMode::kReadOnly);
    if (opened.ok()) state = std::move(opened).value();
    else if (opened.status().code() != StatusCode::kNotFound) return Fail(opened.status());
    else spdlog::warn("no state store at {} yet: the lake looks empty until an export runs", config->state_path);

    auto with_secrets = ServerOptionsWithSecrets(*config, state.get());
    if (!with_secrets.ok()) return Fail(with_secrets.status());
    ServerOptions options = std::move(with_secrets).value();
    if (!opts->listen.empty()) options.server.listen = opts->listen;
    options.web_dir = opts->web_dir;
    if (!opts->no_access_log) {
      options.access_log = spdlog::stdout_logger_mt("access");
      options.access_log->set_pattern("%v");
    }

    auto s3 = OpenS3Reader(*config, state.get());  // an S3 lake's files come through the local cache
    if (!s3.ok()) return Fail(s3.status());

    // Signals are taken by sigwait() on this thread, so every thread started below blocks them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    Server server(std::move(options), state.get());
    if (Status s = server.Start(); !s.ok()) return Fail(s);
    spdlog::info("serving the API and dashboard on {}:{}", config->server->listen.substr(0, config->server->listen.rfind(':')),
                 server.port());
    int signal = 0;
    sigwait(&signals, &signal);
    spdlog::info("stopping on signal {}", signal);
    server.Stop();
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
