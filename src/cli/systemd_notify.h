// The systemd notify protocol (sd_notify(3)) for `fleetlog run` under Type=notify: READY=1
// once exporting starts, RELOADING=1 then READY=1 around a reload, STOPPING=1, STATUS= text,
// and WATCHDOG=1 every half of the watchdog interval systemd sets (WatchdogSec=). Without
// $NOTIFY_SOCKET every call does nothing; without $WATCHDOG_USEC no watchdog thread starts.
// The pings come from their own thread, so they say the process is alive and schedulable; a
// window stuck on a source is bounded by statement_timeout, not by the watchdog.
// Thread-safety: the methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace fleetlog::cli {

class SystemdNotifier {
 public:
  SystemdNotifier();  // starts the watchdog thread when systemd asked for one
  ~SystemdNotifier();  // stops it
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  void Ready(const std::string& status);
  void Reloading();
  void Stopping();

 private:
  void Send(const std::string& message);
  void PingUntilStopped(long long period_usec);

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;  // guarded by mu_
  std::thread watchdog_;
};

}  // namespace fleetlog::cli
