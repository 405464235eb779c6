#include "cli/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <chrono>
#include <cstdint>

#include <spdlog/spdlog.h>

namespace fleetlog::cli {

SystemdNotifier::SystemdNotifier() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    spdlog::debug("systemd watchdog: a ping every {} ms", usec / 2000);
    watchdog_ = std::thread([this, usec] { PingUntilStopped(static_cast<long long>(usec / 2)); });
  }
}

SystemdNotifier::~SystemdNotifier() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  stop_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void SystemdNotifier::Send(const std::string& message) {
  // sd_notify returns 0 without $NOTIFY_SOCKET; a negative errno when the socket is gone,
  // which is worth a debug line and nothing more (the service keeps exporting).
  if (int r = sd_notify(0, message.c_str()); r < 0) spdlog::debug("sd_notify: error {}", -r);
}

void SystemdNotifier::Ready(const std::string& status) { Send("READY=1\nSTATUS=" + status); }
void SystemdNotifier::Reloading() { Send("RELOADING=1\nSTATUS=reloading the config"); }
void SystemdNotifier::Stopping() { Send("STOPPING=1\nSTATUS=stopping: finishing the window in progress"); }

void SystemdNotifier::PingUntilStopped(long long period_usec) {
  std::unique_lock lock(mu_);
  while (!stopped_) {
    lock.unlock();
    Send("WATCHDOG=1");
    lock.lock();
    stop_cv_.wait_for(lock, std::chrono::microseconds(period_usec), [this] { return stopped_; });
  }
}

}  // namespace fleetlog::cli
