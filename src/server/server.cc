#include "server/server.h"

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "server/api_json.h"
#include "server/assets.h"
#include "server/fleet.h"

namespace fleetlog {
namespace {

using nlohmann::json;

// What the access log needs to know about the request this thread serves. cpp-httplib runs
// pre-routing, the handler and the logger of one request on one thread, in that order.
struct RequestContext {
  std::chrono::steady_clock::time_point start;
  Principal principal;
  bool started = false;
};
thread_local RequestContext t_request;

// cpp-httplib 0.11 is built with a listen backlog of 5: under a burst of connections the
// kernel's accept queue overflows and clients see reset connections instead of answers.
// listen() on a listening socket only changes its backlog, so find ours and raise it.
void RaiseListenBacklog(int port) {
  for (int fd = 0; fd < 1024; ++fd) {
    int accepting = 0;
    socklen_t len = sizeof accepting;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) continue;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) continue;
    const int bound = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                                 : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (bound == port) listen(fd, SOMAXCONN);
  }
}

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

PlainRequest ToPlain(const httplib::Request& req) {
  PlainRequest plain{.method = req.method, .target = req.target, .body = req.body, .remote = req.remote_addr};
  for (const auto& [name, value] : req.headers) plain.headers.emplace_back(name, value);
  return plain;
}

void SendPlain(httplib::Response& res, PlainResponse plain) {
  res.status = plain.status;
  for (const auto& [name, value] : plain.headers) res.set_header(name, value);
  res.set_content(std::move(plain.body), plain.content_type.c_str());
}

// A regular expression that matches exactly `path` (cpp-httplib routes by regex).
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
                  .engine_threads = config.query.threads};
  for (const auto& c : config.clusters) o.clusters.push_back(c.name);
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
      auth_(options_.server.tokens) {
  StatementServiceOptions s{.lake_root = options_.lake_root,
                            .results_dir = options_.server.results_dir,
                            .workgroups = options_.workgroups,
                            .result_ttl = options_.server.result_ttl,
                            .limits = {.page_rows = options_.page_rows, .cap_bytes = options_.server.result_cap_bytes},
                            .engine_threads = options_.engine_threads,
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
  if (!options_.server.tls_cert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(options_.server.tls_cert.c_str(), options_.server.tls_key.c_str());
    if (!tls->is_valid())
      return InvalidArgument("cannot use the TLS certificate {} with key {}: check that both files exist, are PEM "
                             "and match", options_.server.tls_cert, options_.server.tls_key);
    http_ = std::move(tls);
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  const auto timeout = options_.server.request_timeout.chrono();
  const size_t threads = static_cast<size_t>(std::max(options_.http_threads, 2));
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(static_cast<size_t>(options_.server.max_body_bytes));
  http_->set_read_timeout(timeout);
  http_->set_write_timeout(timeout);
  http_->set_keep_alive_timeout(2);
  http_->set_keep_alive_max_count(1000);
  // Answers are small and come in several writes: without TCP_NODELAY a keep-alive client
  // waits for Nagle's algorithm against its delayed ACK (~40 ms) on many of them.
  http_->set_tcp_nodelay(true);
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) { LogAccess(req, res); });
  Route();
  RETURN_IF_ERROR(statements_->Start());
  port_ = port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    statements_->Stop();
    return IoError("cannot listen on {}: the address is in use or not this machine's", options_.server.listen);
  }
  RaiseListenBacklog(port_);
  listener_ = std::thread([this] { http_->listen_after_bind(); });
  // Until the listener runs, httplib's stop() would not stop it and Stop() would hang.
  for (int waited_ms = 0; !http_->is_running() && waited_ms < 5000; ++waited_ms)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  running_ = true;
  return Status::Ok();
}

void Server::Stop() {
  if (!running_) return;
  running_ = false;
  http_->stop();
  listener_.join();
  statements_->Stop();
}

void Server::Route() {
  auto& h = *http_;
  h.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request = {.start = std::chrono::steady_clock::now(), .principal = {}, .started = true};
    if (data_api_ && req.method == "POST" && req.path == data_api_->path()) {
      // The Data API signs the body, so only the header checks can come before reading it.
      if (auto refused = data_api_->CheckHead(ToPlain(req))) {
        SendPlain(res, std::move(*refused));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    // Authenticate before the body is read, so an unknown client cannot make us read it.
    auto who = auth_.Authenticate(req.get_header_value("Authorization"));
    if (!who.ok()) {
      res.set_header("WWW-Authenticate", "Bearer");
      SendJson(res, 401, ErrorJson(who.status()));
      return httplib::Server::HandlerResponse::Handled;
    }
    t_request.principal = std::move(who).value();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  h.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (data_api_ && req.method == "POST" && req.path == data_api_->path()) {
      const bool too_large = res.status == 413;
      return SendPlain(res, AwsErrorResponse({res.status, too_large ? "RequestEntityTooLargeException" : "SerializationException",
                                              too_large ? "the request body is larger than max_body in [server]"
                                                        : "the request could not be read"}));
    }
    const char* what = res.status == 413   ? "the request body is larger than max_body in [server]"
                       : res.status == 404 ? "no such path (see DESIGN.md, HTTP API contract)"
                                           : "bad request";
    SendJson(res, res.status, {{"error", what}, {"code", res.status == 413 ? "kResourceExhausted" : "kInvalidArgument"}});
  });
  h.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    SendJson(res, 500, {{"error", "internal error"}, {"code", "kInternal"}});
  });

  using Handler = Reply (Server::*)(const Principal&, const httplib::Request&, httplib::Response&);
  const auto api = [this](Handler handler) {
    return [this, handler](const httplib::Request& req, httplib::Response& res) { HandleApi(req, res, handler); };
  };
  h.Post("/v1/statements", api(&Server::PostStatement));
  h.Post("/v1/statements/batch", api(&Server::PostBatch));
  h.Get("/v1/statements", api(&Server::ListStatements));
  h.Get(R"(/v1/statements/([^/]+))", api(&Server::GetStatement));
  h.Get(R"(/v1/statements/([^/]+)/result)", api(&Server::GetResult));
  h.Post(R"(/v1/statements/([^/]+)/cancel)", api(&Server::PostCancel));
  h.Get("/v1/tables", api(&Server::GetTables));
  h.Get(R"(/v1/tables/([^/]+))", api(&Server::GetTable));
  h.Get("/v1/workgroups", api(&Server::GetWorkgroups));
  h.Get("/v1/fleet", api(&Server::GetFleet));
  if (data_api_)
    h.Post(ExactPathRegex(data_api_->path()), [this](const httplib::Request& req, httplib::Response& res) {
      HandleDataApi(req, res);
    });
  h.Get(R"(/|/index\.html|/app\.js|/style\.css|/chart\.umd\.js)",
        [this](const httplib::Request& req, httplib::Response& res) { ServeAsset(req, res); });
}

void Server::HandleApi(const httplib::Request& req, httplib::Response& res, Reply (Server::*handler)(const Principal&, const httplib::Request&, httplib::Response&)) {
  Reply reply;
  try {
    reply = (this->*handler)(t_request.principal, req, res);
  } catch (const std::exception& e) {  // the edge: nothing thrown below may leave the server
    reply = Reply::Of(Internal("internal error: {}", e.what()));
  }
  if (!reply.written) SendJson(res, reply.status, reply.body);
  res.set_header("Cache-Control", "no-store");
}

void Server::HandleDataApi(const httplib::Request& req, httplib::Response& res) {
  SendPlain(res, data_api_->Handle(ToPlain(req), &t_request.principal));
  res.set_header("Cache-Control", "no-store");
}

void Server::ServeAsset(const httplib::Request& req, httplib::Response& res) {
  auto asset = FindAsset(req.path, options_.web_dir);
  if (!asset.ok()) return SendJson(res, 404, ErrorJson(asset.status()));
  res.set_header("Cache-Control", "no-cache");
  res.set_content(std::move(asset->body), asset->content_type.c_str());
}

void Server::LogAccess(const httplib::Request& req, const httplib::Response& res) {
  if (!options_.access_log) return;
  json line = {{"ts", FormatTimestampIso(clock_->Now())},
               {"remote", req.remote_addr},
               {"method", req.method},
               {"path", req.path},
               {"status", res.status},
               {"bytes", res.body.size()},
               {"principal", t_request.principal.name}};
  if (t_request.started)
    line["ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_request.start).count();
  t_request = {};
  options_.access_log->info(line.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace fleetlog
