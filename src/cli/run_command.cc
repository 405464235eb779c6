#include <csignal>
#include <iostream>

#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "exporter/scheduler.h"

namespace fleetlog::cli {
namespace {

// Set by SIGTERM/SIGINT; the scheduler finishes the window in progress and returns.
std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop.store(true); }

// What runs after each export cycle, in order.
std::vector<AfterCycleTask> AfterCycleTasks() { return {}; }

}  // namespace

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

const std::atomic<bool>& StopRequested() { return g_stop; }

CommandAction AddRun(CLI::App& app, const GlobalOptions& global) {
  auto cycles = std::make_shared<int>(0);
  app.add_option("--cycles", *cycles, "Stop after this many cycles (default: run until SIGTERM)");
  return [&global, cycles] {
    auto config = LoadConfigFor(global);
    if (!config.ok()) return Fail(config.status());
    auto session = LakeSession::Open(*config);
    if (!session.ok()) return Fail(session.status());
    InstallStopHandlers();
    spdlog::info("exporting {} clusters every {}; stop with SIGTERM or Ctrl-C", config->clusters.size(),
                 FormatDuration(config->export_.interval));
    RunScheduler(**session, g_stop, AfterCycleTasks(), *cycles);
    spdlog::info("stopped");
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
