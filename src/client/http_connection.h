// How `query --server` talks to a fleetlog server: one keep-alive connection, for the
// requests of one statement. There are two kinds:
//   - ConnectPlain (http://): HTTP/1.1 over a socket, in http_connection.cc. The loopback and a
//     LAN are where the command is mostly used, and there its start is most of its time:
//     libcurl, with the TLS, Kerberos, LDAP and SSH libraries it links, costs a process about
//     8 ms to load, half of a whole `query --server` (measured in docs/benchmarks.md).
//   - ConnectCurl (https://, in curl_connection.h): libcurl, for TLS and its certificate
//     checks. libfleetlog-client.so never calls it, so the client library does not link
//     libcurl; the engine's library, which links it anyway, answers https:// URLs (src/main.cc).
// Thread-safety: a connection belongs to one thread. Ctrl-C (InterruptGuard) is per process.
#pragma once

#include <csignal>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "core/status.h"

namespace fleetlog::client {

// The server parks a long poll for at most 30 s: a request may take that and its answer.
inline constexpr int kRequestTimeoutSeconds = 90;
inline constexpr int kConnectTimeoutSeconds = 10;
// A streamed result fails only when nothing comes for this long.
inline constexpr int kStallTimeoutSeconds = 60;

struct HttpResponse {
  long status = 0;
  std::string body;  // kept unless a 200 went to a stream; an error's body is cut at 64 KiB
};

// Where a response's body goes: kept (JSON answers, errors), or written to `stream` when the
// status is 200 (CSV rows, whose line ends become `line_end`; those inside quotes stay).
class BodySink {
 public:
  explicit BodySink(std::ostream* stream = nullptr, const char* line_end = "\n")
      : stream_(stream), line_end_(line_end) {}
  // Takes the next bytes of a response with this status. False when the stream is closed
  // (the transfer must stop).
  bool Write(long status, const char* data, size_t size);
  bool streams() const { return stream_ != nullptr; }
  bool stream_failed() const { return stream_ != nullptr && !stream_->good(); }
  std::string TakeBody() { return std::move(body_); }

 private:
  std::ostream* stream_;
  const char* line_end_;
  bool in_quotes_ = false;
  std::string body_;
};

class HttpConnection {
 public:
  virtual ~HttpConnection() = default;
  // POST a JSON body to the server's base URL + `path`. `interruptible`: Ctrl-C stops it.
  // Fails with kUnavailable when the server cannot be reached or answers outside HTTP,
  // kCancelled after Ctrl-C, kIoError when `sink`'s stream is closed. Any status is a response.
  virtual Result<HttpResponse> Post(const std::string& path, const std::string& body, bool interruptible) = 0;
  // GET the base URL + `path` into `sink` (always interruptible). A request whose body goes
  // to a stream may last as long as rows come; it fails when none come for a minute.
  virtual Result<HttpResponse> Get(const std::string& path, BodySink& sink) = 0;
};

// A connection to the server at `base` (a URL without its trailing '/'), sending `token` as a
// bearer token when not empty. Connecting happens at the first request.
using HttpConnector =
    std::function<Result<std::unique_ptr<HttpConnection>>(const std::string& base, const std::string& token)>;

// An http:// URL only (kInvalidArgument otherwise): host (a name, IPv4, or [IPv6]), port
// (default 80) and an optional path prefix.
Result<std::unique_ptr<HttpConnection>> ConnectPlain(const std::string& base, const std::string& token);

// Ctrl-C while a statement runs: Interrupted() turns true, a request under way stops within a
// fraction of a second, and the caller cancels the statement on the server.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  static bool Interrupted();
  static void Clear();

 private:
  struct sigaction previous_ {};
};

}  // namespace fleetlog::client
