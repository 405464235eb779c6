// The HTTP server: the JSON API of DESIGN.md ("HTTP API contract") and the dashboard, on
// one listening socket, over HTTP/1.1 (optionally TLS).
//
//   POST /v1/statements, /v1/statements/batch      queue SQL (statements.h)
//   GET  /v1/statements[/{id}[/result]]             list, describe, fetch results
//   POST /v1/statements/{id}/cancel
//   GET  /v1/tables[/{name}], /v1/workgroups, /v1/fleet
//   GET  /, /app.js, /style.css, /chart.umd.js      the dashboard (assets.h)
//   POST [server.data_api] path (default /)          the Redshift Data API's own protocol
//                                                    (aws/data_api.h), over the same statements
//
// Results: JSON pages of ServerOptions::page_rows records with an opaque next_token, or
// format=csv, which streams the whole result as one download (next_token does not apply).
// Safety: refuses to listen on a non-loopback address without tokens; bodies over
// max_body_bytes get 413, header lines over 8 KiB 400 (cpp-httplib's build limit), and
// reads and writes time out after request_timeout. Every request is logged as one JSON line
// on the access log: time, client address, method, path (no query string), status, bytes,
// milliseconds and the token's name, never a token or header value.
// Thread-safety: Start() and Stop() from one thread; requests are served on a bounded pool.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "core/config.h"
#include "core/status.h"
#include "server/auth.h"
#include "server/aws/data_api.h"
#include "server/statements.h"
#include "state/state_store.h"

namespace httplib {
class Server;
class Request;
class Response;
}  // namespace httplib

namespace fleetlog {

struct ServerOptions {
  ServerConfig server;                      // listen, TLS, tokens, result_ttl/cap, limits
  std::vector<WorkgroupConfig> workgroups;  // must hold "default"
  std::vector<AwsAccessKey> access_keys;    // server.access_keys with their secrets (ResolveAccessKeys)
  std::string lake_root;
  int engine_threads = 2;
  std::vector<std::string> clusters;  // configured cluster names, for the fleet overview
  std::string web_dir;                // serve the dashboard from here instead of the embedded copy
  int page_rows = 1000;               // records per result page
  int list_page_size = 100;           // statements per page of GET /v1/statements
  int http_threads = 16;              // connections served at once
  std::shared_ptr<spdlog::logger> access_log;  // null: no access log
  const Clock* clock = nullptr;                // null: the system clock
  std::function<void(const std::string& id)> on_picked;  // test seam, see StatementServiceOptions
};

// The options for `serve` and `run` from a loaded config. REQUIRES: config.server is set.
ServerOptions ServerOptionsFromConfig(const Config& config);

// "127.0.0.1:8080" -> ("127.0.0.1", 8080); "[::1]:8080" and "localhost:8080" work too.
Result<std::pair<std::string, int>> ParseListenAddress(const std::string& listen);
bool IsLoopbackHost(const std::string& host);

class Server {
 public:
  // `state` may be null (an empty lake) and must outlive the server.
  Server(ServerOptions options, StateStore* state);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (port 0 picks a free port) and serves on background threads. Fails with
  // kInvalidArgument for a bad or unsafe listen address or unreadable TLS files, kIoError
  // when the address cannot be bound.
  Status Start();
  // Stops accepting, aborts running statements and joins every thread. Idempotent.
  void Stop();

  int port() const { return port_; }
  StatementService& statements() { return *statements_; }

 private:
  // What an API handler answers: a status and a JSON body, unless it wrote the response.
  struct Reply {
    int status = 200;
    nlohmann::json body;
    bool written = false;
    static Reply Of(const Status& s);
  };
  void Route();
  void HandleApi(const httplib::Request& req, httplib::Response& res,
                 Reply (Server::*handler)(const Principal&, const httplib::Request&, httplib::Response&));
  Reply PostStatement(const Principal& who, const httplib::Request& req, httplib::Response& res);
  Reply PostBatch(const Principal& who, const httplib::Request& req, httplib::Response& res);
  Reply GetStatement(const Principal& who, const httplib::Request& req, httplib::Response& res);
  Reply GetResult(const Principal& who, const httplib::Request& req, httplib::Response& res);
  Reply PostCancel(const Principal& who, const httplib::Request& req, httplib::Response& res);
  Reply ListStatements(const Principal& who, const httplib::Request& req, httplib::Response& res);
  Reply GetTables(const Principal& who, const httplib::Request& req, httplib::Response& res);
  Reply GetTable(const Principal& who, const httplib::Request& req, httplib::Response& res);
  Reply GetWorkgroups(const Principal& who, const httplib::Request& req, httplib::Response& res);
  Reply GetFleet(const Principal& who, const httplib::Request& req, httplib::Response& res);
  void ServeAsset(const httplib::Request& req, httplib::Response& res);
  void HandleDataApi(const httplib::Request& req, httplib::Response& res);
  void LogAccess(const httplib::Request& req, const httplib::Response& res);

  const ServerOptions options_;
  StateStore* const state_;
  SystemClock system_clock_;
  const Clock* const clock_;
  Authenticator auth_;
  std::unique_ptr<StatementService> statements_;
  std::unique_ptr<DataApi> data_api_;  // null when [server.data_api] enabled = false
  std::unique_ptr<httplib::Server> http_;
  std::thread listener_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace fleetlog
