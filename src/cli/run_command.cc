#include <csignal>
#include <iostream>

#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "detect/fleet_detector.h"
#include "exporter/scheduler.h"
#include "server/server.h"
#include "upkeep/upkeep.h"

namespace fleetlog::cli {
namespace {

// Set by SIGTERM/SIGINT; the scheduler finishes the window in progress and returns.
std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop.store(true); }

// What runs after each export cycle, in order.
std::vector<AfterCycleTask> AfterCycleTasks() {
  return {
      {"lake upkeep",
       [](LakeSession& s, const CycleReport&) {
         return upkeep::RunScheduledUpkeep(s.state(), s.lake(), s.config(), s.clock().Now());
       }},
      {"anomaly detection",
       [](LakeSession& s, const CycleReport&) {
         return s.config().detect.enabled ? detect::RunFleetDetection({s.config(), s.state(), s.writer(), s.clock()}) : Status::Ok();
       }},
  };
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

const std::atomic<bool>& StopRequested() { return g_stop; }

Result<std::unique_ptr<Server>> StartServerIfConfigured(const Config& config, StateStore* state) {
  if (!config.server) return std::unique_ptr<Server>();
  ASSIGN_OR_RETURN(ServerOptions options, ServerOptionsWithSecrets(config, state));
  auto server = std::make_unique<Server>(std::move(options), state);
  RETURN_IF_ERROR(server->Start());
  spdlog::info("serving the API and dashboard on {} (port {})", config.server->listen, server->port());
  return server;
}

CommandAction AddRun(CLI::App& app, const GlobalOptions& global) {
  auto cycles = std::make_shared<int>(0);
  app.add_option("--cycles", *cycles, "Stop after this many cycles (default: run until SIGTERM)");
  return [&global, cycles] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    auto session = LakeSession::Open(*config);
    if (!session.ok()) return Fail(session.status());
    InstallStopHandlers();
    auto server = StartServerIfConfigured(*config, &(*session)->state());
    if (!server.ok()) return Fail(server.status());
    spdlog::info("exporting {} clusters every {}; stop with SIGTERM or Ctrl-C", config->clusters.size(),
                 FormatDuration(config->export_.interval));
    RunScheduler(**session, g_stop, AfterCycleTasks(), *cycles);
    if (*server) (*server)->Stop();
    spdlog::info("stopped");
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
