// The HTTP server: the JSON API of DESIGN.md ("HTTP API contract") and the dashboard, on
// one listening socket, over HTTP/1.1 (optionally TLS).
//
//   POST /v1/statements, /v1/statements/batch      queue SQL (statements.h)
//   GET  /v1/statements[/{id}[/result]]             list, describe, fetch results
//   POST /v1/statements/{id}/cancel
//   GET  /v1/tables[/{name}], /v1/workgroups, /v1/fleet, /v1/runs (fleet.h)
//   GET  /v1/alerts                                 alert states, history, anomalies (observability.h)
//   GET  /metrics, /healthz, /readyz                 watching fleetlog; no token needed
//   GET  /, /app.js, /editor.js, /style.css         the dashboard (assets.h)
//   POST [server.data_api] path (default /)          the Redshift Data API's own protocol
//                                                    (aws/data_api.h), over the same statements
//
// Results: JSON pages of ServerOptions::page_rows records with an opaque next_token, or
// format=csv, which streams the whole result as one download (next_token does not apply).
// Safety: refuses to listen on a non-loopback address without tokens; screens every request
// before its body is read (request_guard.h, then the token); bodies over max_body_bytes get
// 413; a request must arrive whole within request_timeout; headers are capped in bytes and
// count (431), connections per client and in total (http.h). Every request is logged as one JSON line
// on the access log: time, client address, method, path (no query string), status, bytes,
// milliseconds and the token's name, never a token or header value.
// Thread-safety: Start() and Stop() from one thread; requests are served on a bounded pool.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "core/config.h"
#include "core/status.h"
#include "exporter/table_health.h"
#include "server/auth.h"
#include "server/aws/data_api.h"
#include "server/fleet.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/request_guard.h"
#include "server/statements.h"
#include "state/state_store.h"

namespace fleetlog {

struct ServerOptions {
  ServerConfig server;                      // listen, TLS, tokens, result_ttl/cap, limits
  std::vector<WorkgroupConfig> workgroups;  // must hold "default"
  std::vector<AwsAccessKey> access_keys;    // server.access_keys with their secrets (ResolveAccessKeys)
  std::string lake_root;
  int engine_threads = 2;
  std::map<std::string, std::string> cursor_columns;  // FileRangeColumns: query workers skip files (query/prune.h)
  std::string query_worker;            // the fleetlog binary for query workers; empty: this one
  std::vector<FleetCluster> clusters;  // configured clusters, for the fleet overview
  std::vector<TableRef> tables;       // exported (cluster, table)s, for /metrics and /readyz
  std::map<std::string, std::string> alert_rules;  // rule -> severity, for /metrics
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
  HttpRoutes Routes();
  // Host, Origin and content type (request_guard.h), then the token for /v1/: answers and
  // returns true when the request is refused. Runs before the body is read.
  bool Screen(const HttpRequest& req, HttpResponse& res);
  void HandleApi(const HttpRequest& req, HttpResponse& res,
                 Reply (Server::*handler)(const Principal&, const HttpRequest&, HttpResponse&));
  Reply PostStatement(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Reply PostBatch(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Reply GetStatement(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Reply GetResult(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Status WaitForEndOf(const Principal& who, const std::string& id, const HttpRequest& req, HttpResponse& res);
  Reply PostCancel(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Reply ListStatements(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Reply GetTables(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Reply GetTable(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Reply GetWorkgroups(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Reply GetFleet(const Principal& who, const HttpRequest& req, HttpResponse& res);
  Reply GetRuns(const Principal& who, const HttpRequest& req, HttpResponse& res);
  void HandleDataApi(const HttpRequest& req, HttpResponse& res);
  // The Data API's answers the HTTP server makes itself (413, ...), in the AWS error shape.
  void ShapeError(const HttpRequest& req, HttpResponse& res) const;
  bool IsDataApi(const HttpRequest& req) const;
  void ServeAsset(const HttpRequest& req, HttpResponse& res);
  void LogAccess(const HttpRequest& req, const HttpResponse& res, int64_t bytes);

  const ServerOptions options_;
  StateStore* const state_;
  SystemClock system_clock_;
  const Clock* const clock_;
  Authenticator auth_;
  RequestGuard guard_;
  std::unique_ptr<StatementService> statements_;
  HttpRequestCounters http_counters_;
  std::unique_ptr<DataApi> data_api_;  // null when [server.data_api] enabled = false
  std::unique_ptr<HttpServer> http_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace fleetlog
