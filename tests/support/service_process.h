// A server program that a test runs in the background (Prometheus, Alertmanager, an SMTP
// server): started with its output in a log file, dying with the test process if that is
// killed, stopped with SIGTERM (then SIGKILL) when the object goes away.
// Thread-safety: none; use from the test's main thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace fleetlog::test {

// A loopback TCP port that nobody listens on right now (a race remains; callers may retry).
Result<int> FreeLoopbackPort();

// True once something accepts TCP connections on 127.0.0.1:port.
bool PortAccepts(int port);

class ServiceProcess {
 public:
  ServiceProcess() = default;
  ~ServiceProcess() { Stop(); }
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Starts argv (argv[0] searched in PATH) with stdout and stderr appended to `log_path`,
  // and waits until 127.0.0.1:port accepts connections or the program exits (an error
  // with the log's tail) or 60 s pass.
  Status Start(const std::vector<std::string>& argv, const std::string& log_path, int port);
  void Stop();
  bool running() const { return pid_ > 0; }
  std::string LogTail() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

}  // namespace fleetlog::test
