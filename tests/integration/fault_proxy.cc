#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace fleetlog::integration {
namespace {

// The Content-Length of a request head (0 without one).
size_t ContentLength(std::string head) {
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t at = head.find("\r\ncontent-length:");
  return at == std::string::npos ? 0 : std::strtoull(head.c_str() + at + 17, nullptr, 10);
}

// Closes `fd` with a reset (RST) rather than an orderly FIN.
void Reset(int fd) {
  linger hard{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close(fd);
}

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Waits until `fd` is readable or closed; false when `stop` came first.
bool WaitReadable(int fd, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) return true;
  }
  return false;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

std::string CannedError(int status) {
  const char* code = status == 503 ? "SlowDown" : "InternalError";
  std::string body = fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code>"
                                 "<Message>injected by the test</Message></Error>", code);
  return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n"
                     "Connection: close\r\n\r\n{}",
                     status, status == 503 ? "Service Unavailable" : "Internal Server Error", body.size(), body);
}

}  // namespace

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(int upstream_port) {
  std::unique_ptr<FaultProxy> proxy(new FaultProxy());
  proxy->upstream_port_ = upstream_port;
  proxy->listener_ = socket(AF_INET, SOCK_STREAM, 0);
  if (proxy->listener_ < 0) return IoError("socket: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(proxy->listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(proxy->listener_, 64) != 0 ||
      getsockname(proxy->listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return IoError("fault proxy: cannot listen: {}", std::strerror(errno));
  }
  proxy->port_ = ntohs(addr.sin_port);
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    workers.swap(workers_);
  }
  for (std::thread& worker : workers) worker.join();
  if (listener_ >= 0) close(listener_);
}

void FaultProxy::Inject(Fault fault, int count) {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < count; ++i) pending_.push_back(fault);
}

void FaultProxy::InjectEvery(Fault fault, int every, const std::string& match, int limit) {
  std::lock_guard lock(mutex_);
  rules_.push_back({.fault = fault, .every = std::max(1, every), .match = match, .limit = limit});
}

void FaultProxy::ClearRules() {
  std::lock_guard lock(mutex_);
  rules_.clear();
}

void FaultProxy::Outage(const std::string& match, int refused) {
  std::lock_guard lock(mutex_);
  outage_match_ = match.empty() ? " " : match;
  outage_refusals_ = refused;
  outage_cut_ = false;
}

bool FaultProxy::outage_over() const {
  std::lock_guard lock(mutex_);
  return outage_cut_ && outage_refusals_ == 0;
}

bool FaultProxy::TakeRefusal() {
  std::lock_guard lock(mutex_);
  if (!outage_cut_ || outage_refusals_ == 0) return false;
  --outage_refusals_;
  ++injected_;
  return true;
}

FaultProxy::Decision FaultProxy::Decide(const std::string& request_line) {
  ++seen_;
  std::lock_guard lock(mutex_);
  if (!outage_match_.empty() && !outage_cut_ && request_line.find(outage_match_) != std::string::npos) {
    outage_cut_ = true;
    ++injected_;
    return {.step = Step::kCut, .fault = Fault::kReset};
  }
  if (outage_cut_ && outage_refusals_ > 0) {
    --outage_refusals_;
    ++injected_;
    return {.step = Step::kRefuse, .fault = Fault::kReset};
  }
  if (!pending_.empty()) {
    const Fault fault = pending_.front();
    pending_.pop_front();
    ++injected_;
    return {.step = Step::kFault, .fault = fault};
  }
  for (Rule& rule : rules_) {
    if (request_line.find(rule.match) == std::string::npos) continue;
    if (++rule.matched % rule.every != 0 || (rule.limit >= 0 && rule.fired >= rule.limit)) continue;
    ++rule.fired;
    ++injected_;
    return {.step = Step::kFault, .fault = rule.fault};
  }
  return {};
}

void FaultProxy::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int client = accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    if (TakeRefusal()) {  // the server is down: nobody answers
      Reset(client);
      continue;
    }
    std::lock_guard lock(mutex_);
    workers_.emplace_back([this, client] { Serve(client); });
  }
}

// One client connection: a request's head is read and decided on, then the request is relayed
// (streamed to an upstream connection kept alive across requests) or faulted, which ends the
// connection. Answers flow back byte for byte.
void FaultProxy::Serve(int client) {
  int upstream = -1;
  std::string in;            // client bytes not yet relayed
  bool in_request = false;   // the current request's head has arrived and was decided on
  size_t head_size = 0;      // of the current request
  size_t request_size = 0;   // its head and body
  size_t request_left = 0;   // bytes of it not yet relayed
  Decision decision;
  char buffer[65536];
  // Handles the bytes in `in`: false once the connection must end (a fault is due, in
  // `decision`, or the upstream cannot be reached).
  auto handle = [&]() -> bool {
    while (true) {
      if (!in_request) {
        const size_t end = in.find("\r\n\r\n");
        if (end == std::string::npos) return true;
        head_size = end + 4;
        request_size = request_left = head_size + ContentLength(in.substr(0, end));
        decision = Decide(in.substr(0, in.find("\r\n")));
        in_request = true;
      }
      switch (decision.step) {
        case Step::kRefuse: return false;
        case Step::kCut: return in.size() <= head_size && request_size > head_size;  // cut within the body
        case Step::kFault: return in.size() < request_size;                          // act on a whole request
        case Step::kRelay: break;
      }
      if (upstream < 0 && (upstream = ConnectLoopback(upstream_port_)) < 0) {
        decision = {.step = Step::kRefuse, .fault = Fault::kReset};
        return false;
      }
      const size_t take = std::min(in.size(), request_left);
      WriteAll(upstream, in.substr(0, take));
      in.erase(0, take);
      request_left -= take;
      if (request_left > 0) return true;
      in_request = false;
    }
  };
  bool going = true;
  while (going && !stopping_.load()) {
    pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};  // poll skips a negative fd
    if (poll(p, 2, 100) <= 0) continue;
    if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(upstream, buffer, sizeof buffer);
      if (n <= 0) break;
      WriteAll(client, std::string(buffer, static_cast<size_t>(n)));
    }
    if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    ssize_t n = read(client, buffer, sizeof buffer);
    if (n <= 0) break;
    in.append(buffer, static_cast<size_t>(n));
    going = handle();
  }
  if (!going) {
    if (decision.step == Step::kFault) {
      ApplyFault(client, upstream, decision.fault, in.substr(0, request_size));
    } else {
      Reset(client);
    }
  } else {
    close(client);
  }
  if (upstream >= 0) close(upstream);
}

void FaultProxy::ApplyFault(int client, int& upstream, Fault fault, const std::string& request) {
  switch (fault) {
    case Fault::kError500:
    case Fault::kError503:
      WriteAll(client, CannedError(fault == Fault::kError503 ? 503 : 500));
      close(client);
      return;
    case Fault::kStall: {  // answer nothing until the client gives up
      char buffer[4096];
      while (WaitReadable(client, stopping_) && read(client, buffer, sizeof buffer) > 0) {
      }
      close(client);
      return;
    }
    case Fault::kLoseAnswer:  // the server does the work; its answer never reaches the client
      if (upstream < 0) upstream = ConnectLoopback(upstream_port_);
      if (upstream >= 0) {
        WriteAll(upstream, request);
        char buffer[4096];
        if (WaitReadable(upstream, stopping_)) (void)!read(upstream, buffer, sizeof buffer);
      }
      Reset(client);
      return;
    case Fault::kReset:
    case Fault::kNone:
      Reset(client);
      return;
  }
}

}  // namespace fleetlog::integration
