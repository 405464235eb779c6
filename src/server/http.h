// fleetlog's HTTP layer, independent of the library that speaks the protocol: a request and
// a response as plain data, a route table, and the server that runs them (http_server.cc,
// over libmicrohttpd). Handlers are functions of (HttpRequest) -> HttpResponse; a new
// endpoint is one HttpRoutes::Add() line.
//
// The server holds under hostile clients: it reads requests on an event loop (an idle or
// slow client holds no thread), with a whole-request deadline, a cap on header bytes and
// count (431), on connections per client address and in total, and on each connection's
// memory; a body larger than max_body is refused (413) as it arrives, and a request is
// screened (HttpServerOptions::screen: Host, Origin, authentication) before its body is read.
// Thread-safety: HttpRoutes is immutable once the server starts; handlers run on the
// server's threads, several at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace fleetlog {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string, percent-decoded
  // The request target exactly as on the request line: path and query string, still
  // percent-encoded (what a signature over the request, like SigV4's, covers).
  std::string target;
  std::multimap<std::string, std::string> params;  // the query string, decoded
  std::map<std::string, std::string, CaseInsensitiveLess> headers;  // a repeated name: its last value
  // Every header field as received: names as sent, in order, repeats kept.
  std::vector<std::pair<std::string, std::string>> header_fields;
  std::string body;
  std::string remote_addr;
  std::vector<std::string> matches;  // [0] the path, then the route's capture groups
  std::chrono::steady_clock::time_point received;  // when its headers were in
  // The handler parked this request (HttpResponse::park) and it was woken: answer now.
  bool resumed = false;

  bool has_param(const std::string& key) const { return params.count(key) != 0; }
  std::string get_param_value(const std::string& key) const;
  bool has_header(const std::string& key) const { return headers.count(key) != 0; }
  std::string get_header_value(const std::string& key) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed (chunked) instead: each call appends the next piece to
  // `*chunk` and returns true, or returns false at the end. An error cuts the stream
  // without its last chunk, so the client sees an incomplete transfer.
  std::function<Result<bool>(std::string* chunk)> stream;
  // When set, the answer may be better later (a long poll): the server parks the request,
  // holding no thread, and calls `park` with a `wake` that anyone may call, from any thread,
  // at any time, as often as they like; the first call runs the handler again with
  // HttpRequest::resumed set, and that answer is sent. The handler still fills the response
  // as if it would not park: it is sent as it is when the server cannot park (it is stopping,
  // or the request was resumed already). Stop() wakes every parked request.
  std::function<void(std::function<void()> wake)> park;

  void set_header(const std::string& name, const std::string& value) { headers.emplace_back(name, value); }
  void set_content(std::string content, const std::string& content_type) {
    body = std::move(content);
    set_header("Content-Type", content_type);
  }
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

class HttpRoutes {
 public:
  // `pattern` is a regular expression matched against the whole path; its groups become
  // HttpRequest::matches[1..].
  void Add(const std::string& method, const std::string& pattern, HttpHandler handler);
  // The handler for this method and path, filling request->matches; null when none.
  const HttpHandler* Find(HttpRequest* request) const;
  // True when some route has this path with another method (405 rather than 404).
  bool PathKnown(const std::string& path) const;

 private:
  struct Route {
    std::string method;
    std::regex pattern;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                 // 0: any free port
  std::string tls_cert_pem;     // both set: HTTPS
  std::string tls_key_pem;
  int threads = 4;              // event-loop threads; handlers run on them
  int64_t max_body_bytes = 1 << 20;
  int64_t request_deadline_ms = 30000;  // from a request's first byte to its response
  int idle_timeout_s = 30;              // a connection with no traffic this long is closed
  size_t max_header_bytes = 32 << 10;   // request line and headers together (431 beyond)
  size_t max_headers = 100;             // header fields (431 beyond)
  unsigned max_connections = 1024;      // in total
  unsigned max_connections_per_client = 64;  // per client address
  // Called once a request's headers are in, before its body is read: may answer it (return
  // true with `response` set) to refuse it, or return false to go on.
  std::function<bool(const HttpRequest& request, HttpResponse& response)> screen;
  // Called on each answer the server makes itself (404 for no route, 413, 431, 500), with
  // `response` holding its status and a JSON body: may rewrite it into the client's
  // protocol (the Redshift Data API's errors, for instance). Limits are enforced either way.
  std::function<void(const HttpRequest& request, HttpResponse& response)> shape_error;
  // Called after each response is queued, with the bytes of its body (0 for streams).
  std::function<void(const HttpRequest&, const HttpResponse&, int64_t bytes)> log;
};

class HttpServer {
 public:
  // Binds and serves on background threads. kInvalidArgument: bad host or TLS material;
  // kIoError: the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, HttpRoutes routes);
  virtual ~HttpServer() = default;
  virtual int port() const = 0;
  // Stops accepting, closes every connection and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace fleetlog
