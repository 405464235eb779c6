// Delivering notifications: HTTP POSTs and SMTP through libcurl, and the Dispatcher that
// sends each transition to its receivers in the background.
//
// libcurl is used for every receiver because it is the one well-kept Debian library that
// speaks both HTTP(S) and SMTP with STARTTLS or implicit TLS, certificate checks included.
//
// The Dispatcher runs one worker thread per receiver with its own FIFO queue, so a receiver
// that is down, slow or answering 500 delays only its own queue: never the export cycle
// (Enqueue only appends) and never another receiver. The head of a queue is retried with
// exponential back-off (first_retry, doubling, at most 10 minutes apart) up to max_attempts,
// in order, so a receiver never sees an alert's resolution before its firing. Every attempt
// is recorded (alert_store.h, "alert/deliveries"): sent, or failed and why.
// Notifications still queued when the process stops are not sent; the transitions
// themselves are in the lake table alert_events already.
// Thread-safety: Dispatcher is safe for concurrent use.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alert/alert_model.h"
#include "core/config.h"
#include "core/status.h"
#include "secrets/secret_store.h"
#include "state/state_store.h"

namespace fleetlog::alert {

// POSTs `body` as application/json; fails unless the answer is 2xx, with the status and the
// start of the answer's body.
Status HttpPost(const std::string& url, const std::string& body, Duration timeout, const std::string& ca_file);

struct SmtpMessage {
  std::string url;  // smtp://host:port (STARTTLS when required) or smtps://host:port
  std::string username, password;
  bool require_starttls = true;
  std::string ca_file;
  Duration timeout = Duration::Seconds(10);
  std::string from;
  std::vector<std::string> to;
  std::string message;  // headers and body, CRLF line ends
};
Status SendMail(const SmtpMessage& m);

// A receiver with its secrets read: the URL and the SMTP password. `problem` is set when a
// secret could not be read; every delivery to it then fails with that reason.
struct ResolvedReceiver {
  ReceiverConfig config;
  std::string url;
  std::string password;
  std::string problem;
};
std::vector<ResolvedReceiver> ResolveReceivers(const std::vector<ReceiverConfig>& receivers, SecretStore* secrets);

// Sends one notification to one receiver: the seam where tests inject faults.
using SendFn = std::function<Status(const ResolvedReceiver&, const Transition&, const std::string& link)>;
// The real one: the format of the receiver's kind, over HTTP or SMTP.
Status SendNotification(const ResolvedReceiver& r, const Transition& t, const std::string& link, Duration repeat);

struct DispatcherOptions {
  std::string dashboard_url;
  StateStore* state = nullptr;  // where attempts are recorded; null: not recorded
  SendFn send;                  // null: SendNotification
  Duration max_backoff = Duration::Minutes(10);
};

class Dispatcher {
 public:
  Dispatcher(std::vector<ResolvedReceiver> receivers, DispatcherOptions options);
  ~Dispatcher();  // Stop()
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues `t` for each named receiver; unknown names are ignored (the config checks them).
  // `repeat` is the rule's repeat interval (Alertmanager's endsAt). Never blocks on I/O.
  void Enqueue(const Transition& t, const std::vector<std::string>& receivers, Duration repeat);
  // Waits until every queue is empty (sent or given up), or `timeout` passes; true if empty.
  bool WaitIdle(Duration timeout);
  // Stops the workers; what is still queued is dropped (and logged).
  void Stop();

  // Attempts made so far in this process, oldest first (also in the state store).
  std::vector<Delivery> Attempts() const;

 private:
  struct Job {
    Transition transition;
    Duration repeat;
    int attempt = 0;
  };
  struct Worker {
    ResolvedReceiver receiver;
    std::deque<Job> queue;  // GUARDED_BY(mu_)
    bool busy = false;      // GUARDED_BY(mu_)
    std::thread thread;
  };
  void Work(Worker* w);
  void Record(const Delivery& d);

  const DispatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool stopping_ = false;                        // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Delivery> attempts_;               // GUARDED_BY(mu_)
  std::mutex record_mu_;                         // serializes AppendDelivery
};

}  // namespace fleetlog::alert
