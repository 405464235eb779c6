#include <algorithm>
#include <csignal>
#include <thread>
#include <iostream>

#include <spdlog/spdlog.h>

#include "alert/alert_engine.h"
#include "cli/command.h"
#include "cli/systemd_notify.h"
#include "core/log_format.h"
#include "detect/fleet_detector.h"
#include "exporter/scheduler.h"
#include "server/server.h"
#include "upkeep/upkeep.h"

namespace fleetlog::cli {
namespace {

// SIGTERM/SIGINT set g_stop, SIGHUP sets g_reload; both set g_wake, which the scheduler polls:
// it finishes the window in progress and returns, and `run` then stops or reloads.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
std::atomic<bool> g_wake{false};
extern "C" void OnStopSignal(int) {
  g_stop.store(true);
  g_wake.store(true);
}
extern "C" void OnReloadSignal(int) {
  g_reload.store(true);
  g_wake.store(true);
}

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

// The writer session, its alerting and the HTTP server of one config; the server reads the
// session's state. Members are destroyed in reverse order: the server and the alert threads stop
// before the session they use.
struct Service {
  std::unique_ptr<LakeSession> session;
  std::unique_ptr<alert::Dispatcher> dispatcher;
  std::unique_ptr<alert::AlertEngine> alerts;
  std::unique_ptr<IntervalEvaluator> interval_rules;
  std::unique_ptr<Server> server;

  static Result<Service> Start(const Config& config) {
    Service service;
    ASSIGN_OR_RETURN(service.session, LakeSession::Open(config));
    LakeSession& session = *service.session;
    service.dispatcher = std::make_unique<alert::Dispatcher>(
        alert::ResolveReceivers(config.receivers, session.secrets()),
        alert::DispatcherOptions{.dashboard_url = config.alerting.dashboard_url, .state = &session.state()});
    service.alerts = std::make_unique<alert::AlertEngine>(session.config(), service.dispatcher.get());
    service.interval_rules = std::make_unique<IntervalEvaluator>(session, *service.alerts, g_stop);
    ASSIGN_OR_RETURN(service.server, StartServerIfConfigured(config, &session.state()));
    return service;
  }
  void Stop() {
    if (server) server->Stop();
    server.reset();
    interval_rules.reset();
    // Give notifications of the last cycle a moment to go out before stopping.
    if (dispatcher && !dispatcher->WaitIdle(Duration::Seconds(5))) spdlog::warn("some alert notifications are still being retried");
    alerts.reset();
    dispatcher.reset();
    session.reset();  // releases the writer lock
  }
};

std::string ReadyStatus(const Config& config) {
  return fmt::format("exporting {} clusters every {}", config.clusters.size(), FormatDuration(config.export_.interval));
}

// SIGHUP: a config that does not load, or whose lake or server does not start, is logged and
// the running one kept.
Status Reload(const GlobalOptions& global, Config* running, Service* service) {
  auto fresh = LoadConfigFor(global);
  if (!fresh.ok()) {
    spdlog::error("reload failed, keeping the running config: {}", fresh.status().message());
    return Status::Ok();
  }
  service->Stop();
  auto started = Service::Start(*fresh);
  if (started.ok()) {
    *running = std::move(fresh).value();
    *service = std::move(started).value();
    spdlog::info("reloaded {}: {}", running->file, ReadyStatus(*running));
    return Status::Ok();
  }
  spdlog::error("reload failed, keeping the running config: {}", started.status().message());
  ASSIGN_OR_RETURN(*service, Service::Start(*running));
  return Status::Ok();
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
    UseJsonLogs(config->log.json);
    // Signals first, so that none sent once the service says it is ready is lost.
    InstallStopHandlers();
    struct sigaction hup {};
    hup.sa_handler = OnReloadSignal;
    sigemptyset(&hup.sa_mask);
    sigaction(SIGHUP, &hup, nullptr);
    auto service = Service::Start(*config);
    if (!service.ok()) return Fail(service.status());
    SystemdNotifier notifier;
    spdlog::info("{}; stop with SIGTERM or Ctrl-C, reload the config with SIGHUP", ReadyStatus(*config));
    notifier.Ready(ReadyStatus(*config));
    int remaining = *cycles;
    while (!g_stop.load()) {
      const int ran = RunScheduler(*service->session, g_wake, AfterCycleTasks(service->alerts.get()), remaining);
      if (remaining > 0 && (remaining -= ran) <= 0) break;
      g_wake.store(false);
      if (g_stop.load()) break;
      if (!g_reload.exchange(false)) continue;
      notifier.Reloading();
      if (Status s = Reload(global, &*config, &*service); !s.ok()) return Fail(s);
      notifier.Ready(ReadyStatus(*config));
    }
    notifier.Stopping();
    service->Stop();
    spdlog::info("stopped");
    return static_cast<int>(kExitOk);
  };
}

}  // namespace fleetlog::cli
