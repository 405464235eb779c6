#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace fleetlog::integration {
namespace {

// Reads one HTTP request (headers, and a body of Content-Length bytes) from `fd`, waiting at
// most `stop` allows. False when the peer closed first.
bool ReadRequest(int fd, const std::atomic<bool>& stop) {
  std::string data;
  char buffer[65536];
  size_t need = std::string::npos;
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) return false;
    data.append(buffer, static_cast<size_t>(n));
    if (need == std::string::npos) {
      size_t end = data.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      size_t body = 0;
      std::string headers = data.substr(0, end);
      for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t at = headers.find("\r\ncontent-length:");
      if (at != std::string::npos) body = std::strtoull(headers.c_str() + at + 17, nullptr, 10);
      need = end + 4 + body;
    }
    if (data.size() >= need) return true;
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

// Copies bytes both ways until either side closes or `stop` is set.
void Relay(int a, int b, const std::atomic<bool>& stop) {
  char buffer[65536];
  while (!stop.load()) {
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (poll(p, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = read(p[i].fd, buffer, sizeof buffer);
      if (n <= 0) return;
      WriteAll(p[1 - i].fd, std::string(buffer, static_cast<size_t>(n)));
    }
  }
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

void FaultProxy::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    int client = accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    std::lock_guard lock(mutex_);
    Fault fault = Fault::kNone;
    if (!pending_.empty()) {
      fault = pending_.front();
      pending_.pop_front();
    }
    workers_.emplace_back([this, client, fault] { Serve(client, fault); });
  }
}

void FaultProxy::Serve(int client, Fault fault) {
  if (fault != Fault::kNone) {
    ++injected_;
    if (ReadRequest(client, stopping_)) {
      if (fault == Fault::kReset) {
        linger hard{1, 0};  // close with RST
        setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      } else if (fault == Fault::kError500 || fault == Fault::kError503) {
        WriteAll(client, CannedError(fault == Fault::kError503 ? 503 : 500));
      } else {  // kStall: answer nothing until the client gives up
        char buffer[4096];
        while (!stopping_.load()) {
          pollfd p{client, POLLIN, 0};
          if (poll(&p, 1, 100) > 0 && read(client, buffer, sizeof buffer) <= 0) break;
        }
      }
    }
    close(client);
    return;
  }
  int upstream = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
  if (upstream >= 0 && connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    Relay(client, upstream, stopping_);
  }
  if (upstream >= 0) close(upstream);
  close(client);
}

}  // namespace fleetlog::integration
