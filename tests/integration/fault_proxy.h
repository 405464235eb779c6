// A TCP proxy in front of a test server that injects network faults into chosen connections:
// a reset (RST) after the request arrives, a canned HTTP 500 or 503 (S3's error XML), or a
// stall that never answers. Connections without a fault are relayed byte for byte.
// Faults are given per connection, in order: clients reconnect after each fault, so "the next
// n connections" is "the next n attempts".
// Thread-safety: the methods are safe from any thread; the relay runs on its own threads.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"

namespace fleetlog::integration {

class FaultProxy {
 public:
  enum class Fault { kNone, kReset, kError500, kError503, kStall };

  // Listens on a free loopback port and relays to 127.0.0.1:`upstream_port`.
  static Result<std::unique_ptr<FaultProxy>> Start(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  // The next `count` connections get `fault` (after those already queued).
  void Inject(Fault fault, int count);
  // How many connections got a fault so far.
  int faults_injected() const { return injected_.load(); }

 private:
  FaultProxy() = default;
  void AcceptLoop();
  void Serve(int client, Fault fault);

  int listener_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> injected_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::deque<Fault> pending_;         // GUARDED_BY(mutex_)
  std::vector<std::thread> workers_;  // GUARDED_BY(mutex_)
};

}  // namespace fleetlog::integration
