#include "server/server.h"

#include <chrono>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "server/api_json.h"
#include "server/assets.h"
#include "server/fleet.h"
#include "server/observability.h"
#include "server/request_guard.h"
#include "source/table_spec.h"

namespace fleetlog {
namespace {

using nlohmann::json;

void SendJson(HttpResponse& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// The principal a Data API request authenticated as, for its access-log line: the HTTP
// server runs a request's handler and then its log callback on one thread, one call after
// the other (http.h), so the handler leaves it here and LogAccess takes it.
thread_local Principal t_principal;

// A regular expression that matches exactly `path` (HttpRoutes route by regex).
std::string ExactPathRegex(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace


Server::Reply Server::Reply::Of(const Status& s) { return {HttpStatusFor(s), ErrorJson(s)}; }

ServerOptions ServerOptionsFromConfig(const Config& config) {
  ServerOptions o{.server = *config.server, .workgroups = config.workgroups, .lake_root = config.lake_path,
                  .engine_threads = config.query.threads, .cursor_columns = FileRangeColumns(config)};
  for (const auto& c : config.clusters) o.clusters.push_back({.name = c.name, .kind = SourceKindName(c.kind), .tags = c.tags});
  o.tables = ExportedTables(config);
  for (const auto& a : config.alerts) o.alert_rules[a.name] = a.severity;
  return o;
}

Result<std::pair<std::string, int>> ParseListenAddress(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return InvalidArgument("[server] listen \"{}\" must be HOST:PORT", listen);
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  const std::string p = listen.substr(colon + 1);
  if (!p.empty() && p.size() <= 5 && std::all_of(p.begin(), p.end(), ::isdigit)) port = std::stoi(p);
  if (port < 0 || port > 65535) return InvalidArgument("[server] listen \"{}\": the port must be 0 to 65535", listen);
  return std::make_pair(host, port);
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Server::Server(ServerOptions options, StateStore* state)
    : options_(std::move(options)),
      state_(state),
      clock_(options_.clock ? options_.clock : &system_clock_),
      auth_(options_.server.tokens),
      guard_(ParseListenAddress(options_.server.listen).ok() ? ParseListenAddress(options_.server.listen)->first : "",
             options_.server.hosts, options_.server.origins) {
  StatementServiceOptions s{.lake_root = options_.lake_root,
                            .results_dir = options_.server.results_dir,
                            .workgroups = options_.workgroups,
                            .result_ttl = options_.server.result_ttl,
                            .limits = {.page_rows = options_.page_rows, .cap_bytes = options_.server.result_cap_bytes},
                            .engine_threads = options_.engine_threads,
                            .cursor_columns = options_.cursor_columns,
                            .query_worker = options_.query_worker,
                            .memory_budget = options_.server.memory_budget_bytes,
                            .list_page_size = options_.list_page_size,
                            .clock = clock_,
                            .on_picked = options_.on_picked};
  statements_ = std::make_unique<StatementService>(std::move(s), state);
  if (options_.server.data_api.enabled) {
    DataApiOptions d{.config = options_.server.data_api,
                     .access_keys = options_.access_keys,
                     .anonymous = !auth_.enabled() && options_.access_keys.empty(),
                     .clock = clock_};
    data_api_ = std::make_unique<DataApi>(std::move(d), *statements_);
  }
}

Server::~Server() { Stop(); }

Status Server::Start() {
  ASSIGN_OR_RETURN(auto address, ParseListenAddress(options_.server.listen));
  const auto& [host, port] = address;
  if (!IsLoopbackHost(host) && !auth_.enabled())
    return InvalidArgument("refusing to listen on {} without API tokens: add [[server.token]] entries, or listen on "
                           "127.0.0.1", options_.server.listen);
  HttpServerOptions http{.host = host,
                         .port = port,
                         .threads = std::max(options_.http_threads / 4, 2),
                         .max_body_bytes = options_.server.max_body_bytes,
                         .request_deadline_ms = options_.server.request_timeout.micros() / 1000,
                         .idle_timeout_s = static_cast<int>(std::max<int64_t>(options_.server.request_timeout.micros() / 1000000, 1)),
                         .screen = [this](const HttpRequest& req, HttpResponse& res) { return Screen(req, res); },
                         .shape_error = [this](const HttpRequest& req, HttpResponse& res) { ShapeError(req, res); },
                         .log = [this](const HttpRequest& req, const HttpResponse& res, int64_t bytes) {
                           LogAccess(req, res, bytes);
                         }};
  if (!options_.server.tls_cert.empty()) {
    const auto slurp = [](const std::string& path) {
      std::ifstream in(path, std::ios::binary);  // outside the Env: TLS files named in the config
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    http.tls_cert_pem = slurp(options_.server.tls_cert);
    http.tls_key_pem = slurp(options_.server.tls_key);
    if (http.tls_cert_pem.find("-----BEGIN") == std::string::npos || http.tls_key_pem.find("-----BEGIN") == std::string::npos)
      return InvalidArgument("cannot use the TLS certificate {} with key {}: check that both files exist, are PEM "
                             "and match", options_.server.tls_cert, options_.server.tls_key);
  }
  RETURN_IF_ERROR(statements_->Start());
  auto started = HttpServer::Start(std::move(http), Routes());
  if (!started.ok()) {
    statements_->Stop();
    if (started.status().code() == StatusCode::kInvalidArgument && !options_.server.tls_cert.empty())
      return InvalidArgument("cannot use the TLS certificate {} with key {}: check that both files exist, are PEM "
                             "and match", options_.server.tls_cert, options_.server.tls_key);
    return IoError("cannot listen on {}: {}", options_.server.listen, started.status().message());
  }
  http_ = std::move(started).value();
  port_ = http_->port();
  running_ = true;
  return Status::Ok();
}

void Server::Stop() {
  if (!running_) return;
  running_ = false;
  http_->Stop();
  statements_->Stop();
}

bool Server::IsDataApi(const HttpRequest& req) const {
  return data_api_ != nullptr && req.method == "POST" && req.path == data_api_->path();
}

bool Server::Screen(const HttpRequest& req, HttpResponse& res) {
  const std::string host = req.get_header_value("Host"), origin = req.get_header_value("Origin"),
                    type = req.get_header_value("Content-Type"), site = req.get_header_value("Sec-Fetch-Site");
  const std::string length = req.get_header_value("Content-Length");
  const bool data_api = IsDataApi(req);
  const GuardVerdict verdict =
      guard_.Check({.method = req.method,
                    .host = host,
                    .origin = origin,
                    .content_type = type,
                    .sec_fetch_site = site,
                    .has_origin = req.has_header("Origin"),
                    .has_body = (!length.empty() && length.find_first_not_of('0') != std::string::npos) ||
                                req.has_header("Transfer-Encoding"),
                    .body_type = data_api ? kAwsJsonContentType : "application/json"});
  if (data_api) {
    // Host and Origin as for every request, in the AWS error shape; then what the Data API
    // checks before the body: target, content type, the signature's form and access key,
    // and the body's declared size (the HTTP server enforces max_body either way).
    if (!verdict.ok() && verdict.status != 415) {
      res = AwsErrorResponse({verdict.status, verdict.status == 421 ? "MisdirectedRequestException" : "AccessDeniedException",
                              verdict.message});
      return true;
    }
    if (auto refused = data_api_->CheckHead(req)) {
      res = std::move(*refused);
      return true;
    }
    return false;
  }
  if (!verdict.ok()) {
    SendJson(res, verdict.status,
             {{"error", verdict.message}, {"code", verdict.status == 415 ? "kInvalidArgument" : "kPermissionDenied"}});
    return true;
  }
  if (req.path.rfind("/v1/", 0) != 0) return false;
  // The token, before the body is read, so an unknown client cannot make us read it.
  auto who = auth_.Authenticate(req.get_header_value("Authorization"));
  if (!who.ok()) {
    res.set_header("WWW-Authenticate", "Bearer");
    SendJson(res, 401, ErrorJson(who.status()));
    return true;
  }
  return false;
}

HttpRoutes Server::Routes() {
  HttpRoutes h;
  using Handler = Reply (Server::*)(const Principal&, const HttpRequest&, HttpResponse&);
  const auto api = [this](Handler handler) {
    return [this, handler](const HttpRequest& req, HttpResponse& res) { HandleApi(req, res, handler); };
  };
  h.Add("POST", "/v1/statements", api(&Server::PostStatement));
  h.Add("POST", "/v1/statements/batch", api(&Server::PostBatch));
  h.Add("GET", "/v1/statements", api(&Server::ListStatements));
  h.Add("GET", R"(/v1/statements/([^/]+))", api(&Server::GetStatement));
  h.Add("GET", R"(/v1/statements/([^/]+)/result)", api(&Server::GetResult));
  h.Add("POST", R"(/v1/statements/([^/]+)/cancel)", api(&Server::PostCancel));
  h.Add("GET", "/v1/tables", api(&Server::GetTables));
  h.Add("GET", R"(/v1/tables/([^/]+))", api(&Server::GetTable));
  h.Add("GET", "/v1/workgroups", api(&Server::GetWorkgroups));
  h.Add("GET", "/v1/fleet", api(&Server::GetFleet));
  h.Add("GET", "/v1/runs", api(&Server::GetRuns));
  // Handlers over plain data (observability.h). Screen() has already checked the token for
  // /v1/alerts; /metrics, /healthz and /readyz need none.
  const auto plain = [](std::function<HttpResponse(const HttpRequest&)> handler) {
    return [handler = std::move(handler)](const HttpRequest& req, HttpResponse& res) {
      try {
        res = handler(req);
      } catch (const std::exception& e) {  // the edge: nothing thrown below may leave the server
        res = HttpResponse{};
        SendJson(res, 500, ErrorJson(Internal("internal error: {}", e.what())));
      }
      res.set_header("Cache-Control", "no-store");
    };
  };
  h.Add("GET", "/metrics", plain([this](const HttpRequest&) {
    MetricsSnapshot snapshot = CollectMetrics(state_, options_.tables, options_.alert_rules, clock_->Now());
    snapshot.workgroups = statements_->WorkgroupStats();
    snapshot.http = http_counters_.Snapshot();
    return MetricsAnswer(snapshot);
  }));
  h.Add("GET", "/healthz", plain([](const HttpRequest&) { return HealthzAnswer(); }));
  h.Add("GET", "/readyz", plain([this](const HttpRequest&) {
    return ReadyzAnswer(state_, options_.tables, options_.server.ready_max_lag, clock_->Now());
  }));
  h.Add("GET", "/v1/alerts", plain([this](const HttpRequest& req) { return AlertsAnswer(state_, options_.lake_root, req); }));
  if (data_api_)
    h.Add("POST", ExactPathRegex(data_api_->path()),
          [this](const HttpRequest& req, HttpResponse& res) { HandleDataApi(req, res); });
  h.Add("GET", AssetPathPattern(),
        [this](const HttpRequest& req, HttpResponse& res) { ServeAsset(req, res); });
  return h;
}

void Server::HandleApi(const HttpRequest& req, HttpResponse& res,
                       Reply (Server::*handler)(const Principal&, const HttpRequest&, HttpResponse&)) {
  Reply reply;
  try {
    auto who = auth_.Authenticate(req.get_header_value("Authorization"));  // Screen() let it in
    reply = who.ok() ? (this->*handler)(*who, req, res) : Reply::Of(who.status());
  } catch (const std::exception& e) {  // the edge: nothing thrown below may leave the server
    reply = Reply::Of(Internal("internal error: {}", e.what()));
  }
  if (!reply.written) SendJson(res, reply.status, reply.body);
  res.set_header("Cache-Control", "no-store");
}

void Server::HandleDataApi(const HttpRequest& req, HttpResponse& res) {
  res = data_api_->Handle(req, &t_principal);
  res.set_header("Cache-Control", "no-store");
}

void Server::ShapeError(const HttpRequest& req, HttpResponse& res) const {
  if (!IsDataApi(req)) return;
  const json plain = json::parse(res.body, nullptr, false);
  const std::string message = plain.is_object() && plain.contains("error") && plain["error"].is_string()
                                  ? plain["error"].get<std::string>()
                                  : "the request could not be read";
  const char* code = res.status == 413   ? "RequestEntityTooLargeException"
                     : res.status == 431 ? "RequestHeaderFieldsTooLargeException"
                     : res.status >= 500 ? "InternalServerException"
                                         : "SerializationException";
  res = AwsErrorResponse({res.status, code, message});
}

void Server::ServeAsset(const HttpRequest& req, HttpResponse& res) {
  auto asset = FindAsset(req.path, options_.web_dir, AcceptsGzip(req.get_header_value("Accept-Encoding")));
  if (!asset.ok()) return SendJson(res, 404, ErrorJson(asset.status()));
  res.set_header("Cache-Control", "no-cache");
  res.set_header("Vary", "Accept-Encoding");
  if (!asset->content_encoding.empty()) res.set_header("Content-Encoding", asset->content_encoding);
  res.set_content(std::move(asset->body), asset->content_type);
}

void Server::LogAccess(const HttpRequest& req, const HttpResponse& res, int64_t bytes) {
  http_counters_.Add(RouteTemplate(req.path), req.method, res.status,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - req.received).count());
  std::string principal = std::move(t_principal.name);
  t_principal = {};
  if (!options_.access_log) return;
  if (req.path.rfind("/v1/", 0) == 0 && res.status != 401) {
    if (auto who = auth_.Authenticate(req.get_header_value("Authorization")); who.ok()) principal = who->name;
  }
  json line = {{"ts", FormatTimestampIso(clock_->Now())},
               {"remote", req.remote_addr},
               {"method", req.method},
               {"path", req.path},
               {"status", res.status},
               {"bytes", bytes},
               {"principal", principal},
               {"ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - req.received).count()}};
  options_.access_log->info(line.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace fleetlog
