#include <algorithm>
#include <csignal>
#include <thread>
#include <iostream>

#include <spdlog/spdlog.h>

#include "alert/alert_engine.h"
#include "cli/command.h"
#include "core/log_format.h"
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
std::vector<AfterCycleTask> AfterCycleTasks(alert::AlertEngine* alerts) {
  return {
      {"lake upkeep",
       [](LakeSession& s, const CycleReport&) {
         return upkeep::RunScheduledUpkeep(s.state(), s.lake(), s.config(), s.clock().Now());
       }},
      {"anomaly detection",
       [](LakeSession& s, const CycleReport&) {
         return s.config().detect.enabled ? detect::RunFleetDetection({s.config(), s.state(), s.writer(), s.clock()}) : Status::Ok();
       }},
      {"alert evaluation",
       [alerts](LakeSession& s, const CycleReport&) { return alerts->Evaluate(s, s.clock().Now()).status(); }},
  };
}

// Evaluates the rules that have an `interval` when they are due, between cycles too.
class IntervalEvaluator {
 public:
  IntervalEvaluator(LakeSession& session, alert::AlertEngine& alerts, const std::atomic<bool>& stop) {
    const auto& rules = session.config().alerts;
    if (std::none_of(rules.begin(), rules.end(), [](const auto& r) { return r.interval.has_value(); })) return;
    thread_ = std::thread([&session, &alerts, &stop, this] {
      while (!stop.load() && !done_.load()) {
        const Timestamp now = session.clock().Now();
        if (auto due = alerts.DueRules(now); !due.empty())
          if (auto r = alerts.Evaluate(session, now, due); !r.ok()) spdlog::error("alert evaluation: {}", r.status().message());
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  ~IntervalEvaluator() {
    done_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

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
  auto server = std::make_unique<Server>(ServerOptionsFromConfig(config), state);
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
    UseJsonLogs(config->log.json);
    auto session = LakeSession::Open(*config);
    if (!session.ok()) return Fail(session.status());
    InstallStopHandlers();
    alert::Dispatcher dispatcher(alert::ResolveReceivers(config->receivers, (*session)->secrets()),
                                 {.dashboard_url = config->alerting.dashboard_url, .state = &(*session)->state()});
    alert::AlertEngine alerts((*session)->config(), &dispatcher);
    IntervalEvaluator interval_rules(**session, alerts, g_stop);
    auto server = StartServerIfConfigured(*config, &(*session)->state());
    if (!server.ok()) return Fail(server.status());
    spdlog::info("exporting {} clusters every {}; stop with SIGTERM or Ctrl-C", config->clusters.size(),
                 FormatDuration(config->export_.interval));
    RunScheduler(**session, g_stop, AfterCycleTasks(&alerts), *cycles);
    // Give notifications of the last cycle a moment to go out before stopping.
    if (!dispatcher.WaitIdle(Duration::Seconds(5))) spdlog::warn("some alert notifications are still being retried");
    if (*server) (*server)->Stop();
    spdlog::info("stopped");
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
