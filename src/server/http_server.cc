// HttpServer over GNU libmicrohttpd (Debian's libmicrohttpd-dev): requests are read by
// epoll event loops, so a slow or idle client holds a connection slot, never a thread; the
// library bounds each connection's memory (headers beyond it get 431), the connections per
// client address and in total, and idle time. What it lacks is a deadline for a whole
// request: a reaper thread shuts down the socket of any connection whose request has not
// been answered within request_deadline_ms of its first byte. A handler may park a request
// (a long poll): its connection is suspended, holding no thread, until it is woken.
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "server/http.h"

namespace fleetlog {

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) < std::tolower(static_cast<unsigned char>(y));
  });
}

std::string HttpRequest::get_param_value(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? "" : it->second;
}

std::string HttpRequest::get_header_value(const std::string& key) const {
  auto it = headers.find(key);
  return it == headers.end() ? "" : it->second;
}

void HttpRoutes::Add(const std::string& method, const std::string& pattern, HttpHandler handler) {
  routes_.push_back({method, std::regex(pattern), std::move(handler)});
}

const HttpHandler* HttpRoutes::Find(HttpRequest* request) const {
  for (const auto& r : routes_) {
    std::smatch m;
    if (r.method != request->method || !std::regex_match(request->path, m, r.pattern)) continue;
    request->matches.assign(m.begin(), m.end());
    return &r.handler;
  }
  return nullptr;
}

bool HttpRoutes::PathKnown(const std::string& path) const {
  for (const auto& r : routes_)
    if (std::regex_match(path, r.pattern)) return true;
  return false;
}

namespace {

using SteadyClock = std::chrono::steady_clock;

// One client connection, from accept to close.
struct Connection {
  int fd = -1;
  SteadyClock::time_point request_start;  // of the request being read; max() while answering
  bool cut = false;                       // the reaper shut it down
};

// One request, from its first access-handler call to its completion.
struct Exchange {
  HttpRequest request;
  bool begun = false;      // Begin() ran
  bool answered = false;   // a response was queued
  bool too_large = false;  // the body passed max_body while arriving
};

// Requests parked by their handler (HttpResponse::park): their connections are suspended,
// each until its wake function or Stop() resumes it. Shared with the wake functions, which
// may be called after the server has gone.
struct Parking {
  std::mutex mu;
  bool closed = false;  // GUARDED_BY(mu): the server stops, nothing is parked any more
  uint64_t next_key = 0;                        // GUARDED_BY(mu)
  std::map<uint64_t, MHD_Connection*> parked;  // GUARDED_BY(mu)

  // Suspends `connection` (from its access handler) and returns its wake function; null
  // once the server stops. Under mu, so no wake can resume it before it is suspended.
  std::function<void()> Park(MHD_Connection* connection, const std::shared_ptr<Parking>& self) {
    std::lock_guard lock(mu);
    if (closed) return nullptr;
    const uint64_t key = next_key++;
    parked.emplace(key, connection);
    MHD_suspend_connection(connection);
    return [self, key] { self->Wake(key); };
  }
  // Resumes the connection parked as `key`, if it still is.
  void Wake(uint64_t key) {
    std::lock_guard lock(mu);
    const auto it = parked.find(key);
    if (it == parked.end()) return;
    MHD_resume_connection(it->second);
    parked.erase(it);
  }
  // Resumes every parked connection (the library may not stop with one suspended) and
  // parks no more.
  void Close() {
    std::lock_guard lock(mu);
    closed = true;
    for (const auto& [key, connection] : parked) MHD_resume_connection(connection);
    parked.clear();
  }
};

// A streamed body being sent.
struct Stream {
  std::function<Result<bool>(std::string*)> next;
  std::string pending;
  size_t offset = 0;
};

std::string JsonError(int status, std::string_view message) {
  std::string out = "{\"error\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\",\"code\":\"" + (status == 413 || status == 431 ? "kResourceExhausted" : status == 500 ? "kInternal"
                                   : status == 404 ? "kNotFound" : "kInvalidArgument") + "\"}";
}

class MhdServer final : public HttpServer {
 public:
  MhdServer(HttpServerOptions options, HttpRoutes routes) : options_(std::move(options)), routes_(std::move(routes)) {}
  ~MhdServer() override { Stop(); }

  Status Start();
  int port() const override { return port_; }
  void Stop() override;

 private:
  static void* LogUri(void* cls, const char* uri, MHD_Connection* connection);
  static MHD_Result Access(void* cls, MHD_Connection* connection, const char* url, const char* method,
                           const char* version, const char* upload_data, size_t* upload_data_size, void** con_cls);
  static void Completed(void* cls, MHD_Connection* connection, void** con_cls, MHD_RequestTerminationCode toe);
  static void Notify(void* cls, MHD_Connection* connection, void** socket_context, MHD_ConnectionNotificationCode toe);
  static ssize_t ReadStream(void* cls, uint64_t pos, char* buf, size_t max);
  static void FreeStream(void* cls) { delete static_cast<Stream*>(cls); }

  MHD_Result Begin(MHD_Connection* connection, const char* url, const char* method, Exchange* ex);
  std::string TooLarge() const {
    return "the request body is larger than max_body in [server] (" + std::to_string(options_.max_body_bytes) + " bytes)";
  }
  MHD_Result Finish(MHD_Connection* connection, Exchange* ex);
  MHD_Result Queue(MHD_Connection* connection, Exchange* ex, HttpResponse& response, bool close);
  // An answer the server makes itself: a JSON error, reshaped by options_.shape_error.
  MHD_Result Refuse(MHD_Connection* connection, Exchange* ex, int status, std::string_view message, bool close);
  void Answering(MHD_Connection* connection);
  void ReaperLoop();

  const HttpServerOptions options_;
  const HttpRoutes routes_;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<Connection*> connections_;  // GUARDED_BY(mu_)
  bool stopping_ = false;              // GUARDED_BY(mu_)
  const std::shared_ptr<Parking> parking_ = std::make_shared<Parking>();
  std::thread reaper_;
};

// Called with the request target as the client sent it, before the library decodes it and
// splits off the query string; the Exchange made here is the access handler's *con_cls.
void* MhdServer::LogUri(void*, const char* uri, MHD_Connection*) {
  auto* ex = new Exchange();
  ex->request.target = uri;
  return ex;
}

MHD_Result MhdServer::Access(void* cls, MHD_Connection* connection, const char* url, const char* method, const char*,
                             const char* upload_data, size_t* upload_data_size, void** con_cls) {
  auto* self = static_cast<MhdServer*>(cls);
  if (*con_cls == nullptr) *con_cls = new Exchange();  // LogUri always makes one; kept for safety
  auto* ex = static_cast<Exchange*>(*con_cls);
  if (!ex->begun) {
    ex->begun = true;
    return self->Begin(connection, url, method, ex);
  }
  if (*upload_data_size > 0) {
    // The body arrives in pieces; past max_body the rest is read and dropped (the deadline
    // bounds how long), then 413.
    if (!ex->answered && !ex->too_large) {
      if (static_cast<int64_t>(ex->request.body.size() + *upload_data_size) > self->options_.max_body_bytes) {
        ex->too_large = true;
        ex->request.body.clear();
        ex->request.body.shrink_to_fit();
      } else {
        ex->request.body.append(upload_data, *upload_data_size);
      }
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (ex->answered) return MHD_YES;
  return self->Finish(connection, ex);
}

MHD_Result MhdServer::Begin(MHD_Connection* connection, const char* url, const char* method, Exchange* ex) {
  HttpRequest& req = ex->request;
  req.method = method;
  req.path = url;
  req.received = SteadyClock::now();
  size_t count = 0;
  struct Collect {
    HttpRequest* req;
    size_t* count;
  } collect{&req, &count};
  MHD_get_connection_values(
      connection, MHD_HEADER_KIND,
      [](void* c, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
        auto* k = static_cast<Collect*>(c);
        ++*k->count;
        k->req->headers[key] = value ? value : "";
        k->req->header_fields.emplace_back(key, value ? value : "");
        return MHD_YES;
      },
      &collect);
  MHD_get_connection_values(
      connection, MHD_GET_ARGUMENT_KIND,
      [](void* c, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
        static_cast<Collect*>(c)->req->params.emplace(key, value ? value : "");
        return MHD_YES;
      },
      &collect);
  if (const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) {
    char text[INET6_ADDRSTRLEN] = "";
    const sockaddr* sa = info->client_addr;
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof text);
    else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text, sizeof text);
    req.remote_addr = text;
  }
  if (req.target.empty()) req.target = url;  // without LogUri: the decoded path
  if (count > options_.max_headers)
    return Refuse(connection, ex, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                  "too many header fields (at most " + std::to_string(options_.max_headers) + ")", true);
  HttpResponse refusal;
  if (options_.screen && options_.screen(req, refusal)) return Queue(connection, ex, refusal, true);
  const std::string length = req.get_header_value("Content-Length");
  if (!length.empty() && (length.size() > 18 || std::stoll("0" + length.substr(0, length.find_first_not_of("0123456789"))) >
                                                    options_.max_body_bytes))
    return Refuse(connection, ex, MHD_HTTP_CONTENT_TOO_LARGE, TooLarge(), true);
  return MHD_YES;
}

MHD_Result MhdServer::Refuse(MHD_Connection* connection, Exchange* ex, int status, std::string_view message, bool close) {
  HttpResponse response;
  response.status = status;
  response.set_content(JsonError(status, message), "application/json");
  if (options_.shape_error) {
    try {
      options_.shape_error(ex->request, response);
    } catch (const std::exception&) {  // the edge: keep the plain JSON answer
      response = HttpResponse{};
      response.status = status;
      response.set_content(JsonError(status, message), "application/json");
    }
  }
  return Queue(connection, ex, response, close);
}

MHD_Result MhdServer::Finish(MHD_Connection* connection, Exchange* ex) {
  if (ex->too_large) return Refuse(connection, ex, 413, TooLarge(), true);
  const HttpHandler* handler = routes_.Find(&ex->request);
  if (handler == nullptr)
    return Refuse(connection, ex, 404, "no such path (the README's section \"HTTP API\" lists them)", false);
  HttpResponse response;
  try {
    (*handler)(ex->request, response);
  } catch (const std::exception& e) {  // the edge: nothing thrown below may leave the server
    return Refuse(connection, ex, 500, std::string("internal error: ") + e.what(), false);
  }
  if (response.park && !ex->request.resumed) {
    if (auto wake = parking_->Park(connection, parking_)) {
      ex->request.resumed = true;  // the library calls Access again once woken: that call answers
      Answering(connection);       // the request deadline is for reading requests
      try {
        response.park(wake);
      } catch (const std::exception&) {  // the edge: answer now instead
        wake();
      }
      return MHD_YES;
    }
  }
  return Queue(connection, ex, response, false);
}

MHD_Result MhdServer::Queue(MHD_Connection* connection, Exchange* ex, HttpResponse& response, bool close) {
  ex->answered = true;
  MHD_Response* r;
  int64_t bytes = 0;
  if (response.stream) {
    auto* stream = new Stream{std::move(response.stream), {}, 0};
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 << 10, &MhdServer::ReadStream, stream,
                                          &MhdServer::FreeStream);
  } else {
    bytes = static_cast<int64_t>(response.body.size());
    r = MHD_create_response_from_buffer(response.body.size(), response.body.data(), MHD_RESPMEM_MUST_COPY);
  }
  if (r == nullptr) return MHD_NO;
  for (const auto& [name, value] : response.headers) MHD_add_response_header(r, name.c_str(), value.c_str());
  if (close) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  Answering(connection);
  const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(response.status), r);
  MHD_destroy_response(r);
  if (options_.log) options_.log(ex->request, response, bytes);
  return queued;
}

ssize_t MhdServer::ReadStream(void* cls, uint64_t, char* buf, size_t max) {
  auto* s = static_cast<Stream*>(cls);
  while (s->offset == s->pending.size()) {
    s->pending.clear();
    s->offset = 0;
    auto more = s->next(&s->pending);
    if (!more.ok()) return MHD_CONTENT_READER_END_WITH_ERROR;
    if (!*more && s->pending.empty()) return MHD_CONTENT_READER_END_OF_STREAM;
  }
  const size_t n = std::min(max, s->pending.size() - s->offset);
  std::memcpy(buf, s->pending.data() + s->offset, n);
  s->offset += n;
  return static_cast<ssize_t>(n);
}

// The deadline covers reading the request; sending the answer is bounded by idle time.
void MhdServer::Answering(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (info == nullptr || info->socket_context == nullptr) return;
  std::lock_guard lock(mu_);
  static_cast<Connection*>(info->socket_context)->request_start = SteadyClock::time_point::max();
}

void MhdServer::Completed(void* cls, MHD_Connection* connection, void** con_cls, MHD_RequestTerminationCode) {
  auto* self = static_cast<MhdServer*>(cls);
  delete static_cast<Exchange*>(*con_cls);
  *con_cls = nullptr;
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  if (info == nullptr || info->socket_context == nullptr) return;
  std::lock_guard lock(self->mu_);
  static_cast<Connection*>(info->socket_context)->request_start = SteadyClock::now();  // the next request's clock
}

void MhdServer::Notify(void* cls, MHD_Connection* connection, void** socket_context, MHD_ConnectionNotificationCode toe) {
  auto* self = static_cast<MhdServer*>(cls);
  std::lock_guard lock(self->mu_);
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* c = new Connection();
    if (const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD))
      c->fd = info->connect_fd;
    c->request_start = SteadyClock::now();
    self->connections_.insert(c);
    *socket_context = c;
  } else {
    // Called before the library closes the socket, so the reaper never touches a reused fd.
    auto* c = static_cast<Connection*>(*socket_context);
    self->connections_.erase(c);
    delete c;
    *socket_context = nullptr;
  }
}

void MhdServer::ReaperLoop() {
  std::unique_lock lock(mu_);
  const auto deadline = std::chrono::milliseconds(options_.request_deadline_ms);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    const auto now = SteadyClock::now();
    for (Connection* c : connections_) {
      if (c->cut || c->fd < 0 || c->request_start == SteadyClock::time_point::max()) continue;
      if (now - c->request_start < deadline) continue;
      // The event loop sees the socket end and closes the connection.
      ::shutdown(c->fd, SHUT_RDWR);
      c->cut = true;
    }
  }
}

Status MhdServer::Start() {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string host = options_.host == "localhost" ? "127.0.0.1" : options_.host;
  if (getaddrinfo(host.c_str(), std::to_string(options_.port).c_str(), &hints, &found) != 0 || found == nullptr)
    return InvalidArgument("cannot resolve the listen host \"{}\"", options_.host);
  sockaddr_storage addr{};
  std::memcpy(&addr, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
  if (addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  const bool tls = !options_.tls_cert_pem.empty();
  if (tls) flags |= MHD_USE_TLS;
  const auto memory = static_cast<size_t>(std::max<size_t>(options_.max_header_bytes, 4096) + (16 << 10));
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_SOCK_ADDR, 0, &addr},
      {MHD_OPTION_THREAD_POOL_SIZE, std::max(options_.threads, 1), nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, std::max(options_.idle_timeout_s, 1), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(options_.max_connections), nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<intptr_t>(options_.max_connections_per_client), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(memory), nullptr},
      {MHD_OPTION_LISTEN_BACKLOG_SIZE, SOMAXCONN, nullptr},
      {MHD_OPTION_STRICT_FOR_CLIENT, 1, nullptr},
      {MHD_OPTION_URI_LOG_CALLBACK, reinterpret_cast<intptr_t>(&MhdServer::LogUri), this},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&MhdServer::Completed), this},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&MhdServer::Notify), this},
  };
  if (tls) {
    items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(options_.tls_key_pem.c_str())});
    items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(options_.tls_cert_pem.c_str())});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &MhdServer::Access, this, MHD_OPTION_ARRAY, items.data(),
                             MHD_OPTION_END);
  if (daemon_ == nullptr) {
    if (tls) return InvalidArgument("cannot serve HTTPS with this certificate and key, or cannot bind the address");
    return IoError("cannot listen: the address is in use or not this machine's");
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info ? info->port : options_.port;
  reaper_ = std::thread([this] { ReaperLoop(); });
  return Status::Ok();
}

void MhdServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || daemon_ == nullptr) return;
    stopping_ = true;
  }
  cv_.notify_all();
  reaper_.join();
  parking_->Close();
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options, HttpRoutes routes) {
  auto server = std::make_unique<MhdServer>(std::move(options), std::move(routes));
  RETURN_IF_ERROR(server->Start());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace fleetlog
