// A TCP proxy in front of a test HTTP server that injects network faults into chosen requests:
// a reset (RST) after the request arrives, a canned HTTP 500 or 503 (S3's error XML), a stall
// that never answers, or a lost answer (the server does the work, the client sees a reset).
// Requests without a fault are relayed byte for byte, on kept-alive connections too.
//
// Faults are given per request, in order: Inject() queues faults for the next requests;
// InjectEvery() adds a standing rule (every n-th request that matches); Outage() plays the
// server going away in the middle of an upload and coming back after a number of refused
// attempts. A faulted request's connection is closed, so the client reconnects to retry.
// The proxy reads a request's body by its Content-Length (clients here never send chunked).
// Thread-safety: the methods are safe from any thread; the relay runs on its own threads.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace fleetlog::integration {

class FaultProxy {
 public:
  enum class Fault { kNone, kReset, kError500, kError503, kStall, kLoseAnswer };

  // Listens on a free loopback port and relays to 127.0.0.1:`upstream_port`.
  static Result<std::unique_ptr<FaultProxy>> Start(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  // The next `count` requests get `fault` (after those already queued).
  void Inject(Fault fault, int count);
  // From now on every `every`-th request whose request line ("PUT /bucket/key?q HTTP/1.1")
  // contains `match` gets `fault`, at most `limit` times (-1: no limit). Rules add up.
  void InjectEvery(Fault fault, int every, const std::string& match = "", int limit = -1);
  // Removes the standing rules (queued faults stay).
  void ClearRules();
  // The server goes away mid-upload: the first request that matches `match` is cut off with a
  // reset once part of its body has arrived, and the `refused` attempts after it (requests,
  // or connections the proxy accepts) are reset at once; then requests pass again.
  void Outage(const std::string& match, int refused);
  // True once an Outage's cut has happened and its refusals are used up.
  bool outage_over() const;

  // How many requests got a fault so far (an outage counts its cut and every refusal).
  int faults_injected() const { return injected_.load(); }
  // How many requests arrived so far, with or without a fault.
  int requests_seen() const { return seen_.load(); }

 private:
  struct Rule {
    Fault fault = Fault::kNone;
    int every = 1;
    std::string match;
    int limit = -1;
    int matched = 0;
    int fired = 0;
  };
  enum class Step { kRelay, kFault, kCut, kRefuse };
  struct Decision {
    Step step = Step::kRelay;
    Fault fault = Fault::kNone;
  };

  FaultProxy() = default;
  void AcceptLoop();
  void Serve(int client);
  // Ends a connection whose whole `request` arrived with `fault`; the caller closes `upstream`
  // (which a lost answer may open).
  void ApplyFault(int client, int& upstream, Fault fault, const std::string& request);
  // What to do with a request whose head (request line and headers) has arrived.
  Decision Decide(const std::string& request_line);
  // Takes one refusal of an outage in progress; false when there is none.
  bool TakeRefusal();

  int listener_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> injected_{0};
  std::atomic<int> seen_{0};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::deque<Fault> pending_;         // GUARDED_BY(mutex_)
  std::vector<Rule> rules_;           // GUARDED_BY(mutex_)
  std::string outage_match_;          // GUARDED_BY(mutex_): armed while not empty
  int outage_refusals_ = 0;           // GUARDED_BY(mutex_): left to give
  bool outage_cut_ = false;           // GUARDED_BY(mutex_)
  std::vector<std::thread> workers_;  // GUARDED_BY(mutex_)
};

}  // namespace fleetlog::integration
