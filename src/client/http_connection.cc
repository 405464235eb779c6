#include "client/http_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "core/text.h"

namespace fleetlog::client {
namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t interrupted = 0;
extern "C" void OnInterrupt(int) { interrupted = 1; }

constexpr size_t kErrorBodyBytes = 64 << 10;
constexpr size_t kMaxHeadBytes = 64 << 10;
constexpr int kSliceMs = 200;  // how soon a wait sees Ctrl-C, should the signal come just before it

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The parts of an http:// URL that a request needs.
struct HttpUrl {
  std::string host;       // a name or an address, IPv6 without its brackets
  std::string port;       // digits
  std::string authority;  // as written, for the Host header
  std::string prefix;     // the path before /v1/..., without a trailing '/'
};

Result<HttpUrl> ParseHttpUrl(std::string_view base) {
  constexpr std::string_view kScheme = "http://";
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("server \"{}\": {}; give a URL such as http://localhost:8080", base, why);
  };
  if (!base.starts_with(kScheme)) return bad("not an http:// URL");
  std::string_view rest = base.substr(kScheme.size());
  rest = rest.substr(0, rest.find_first_of("?#"));
  const size_t slash = rest.find('/');
  HttpUrl url;
  url.authority = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) url.prefix = std::string(rest.substr(slash));
  while (url.prefix.ends_with('/')) url.prefix.pop_back();
  std::string_view authority = url.authority;
  if (authority.find('@') != std::string_view::npos)
    return bad("a user name in the URL is not used (the token comes from $FLEETLOG_TOKEN)");
  std::string_view host = authority, port = "80";
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address without its ']'");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && (after[0] != ':' || after.size() == 1)) return bad("a bad port");
    if (!after.empty()) port = after.substr(1);
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("no host");
  if (port.empty() || port.size() > 5 || !AllDigits(port)) return bad("a bad port");
  url.host = std::string(host);
  url.port = std::string(port);
  return url;
}

// HTTP/1.1 over one socket, kept open between requests. Requests are sent whole and answers
// read as they come: a status line, headers, and a body delimited by Content-Length, chunked
// transfer coding, or the end of the connection.
class PlainConnection final : public HttpConnection {
 public:
  PlainConnection(HttpUrl url, std::string base, const std::string& token)
      : url_(std::move(url)), base_(std::move(base)) {
    headers_ = "Host: " + url_.authority + "\r\nUser-Agent: fleetlog-query\r\nAccept: application/json, text/csv\r\n";
    if (!token.empty()) headers_ += "Authorization: Bearer " + token + "\r\n";
  }
  ~PlainConnection() override { Close(); }

  Result<HttpResponse> Post(const std::string& path, const std::string& body, bool interruptible) override {
    BodySink sink;
    return Exchange("POST", path, &body, sink, interruptible);
  }
  Result<HttpResponse> Get(const std::string& path, BodySink& sink) override {
    return Exchange("GET", path, nullptr, sink, true);
  }

 private:
  Result<HttpResponse> Exchange(const char* method, const std::string& path, const std::string* body, BodySink& sink,
                                bool interruptible) {
    std::string request = fmt::format("{} {}{} HTTP/1.1\r\n{}", method, url_.prefix, path, headers_);
    if (body) request += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body->size());
    request += "\r\n";
    if (body) request += *body;
    interruptible_ = interruptible;
    // A kept connection that the server closed since its last answer fails before a byte of
    // the next one comes: such a request is sent once more on a new connection, as libcurl
    // does (the server saw none of it).
    for (int attempt = 0;; ++attempt) {
      const bool reused = fd_ >= 0;
      received_ = false;
      deadline_ = Clock::now() + std::chrono::seconds(kRequestTimeoutSeconds);
      Result<HttpResponse> r = [&]() -> Result<HttpResponse> {
        if (!reused) RETURN_IF_ERROR(Connect());
        if (Status sent = SendAll(request); !sent.ok()) {
          // A server may answer before it has the whole request, and close (a body over its
          // limit, by Content-Length): its answer says more than the broken pipe.
          if (sent.code() != StatusCode::kUnavailable) return sent;
          Result<HttpResponse> early = ReadResponse(sink);
          if (!early.ok()) return sent;
          Close();  // the rest of the request was not sent
          return early;
        }
        return ReadResponse(sink);
      }();
      if (r.ok()) return r;
      Close();
      if (reused && attempt == 0 && !received_ && r.status().code() == StatusCode::kUnavailable) continue;
      if (r.status().code() != StatusCode::kUnavailable) return r.status();
      // The URL without its query string (result tokens), for the message.
      return Error(StatusCode::kUnavailable, "{} {}{}: {}", method, base_, path.substr(0, path.find('?')),
                   r.status().message());
    }
  }

  Status Connect() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(url_.host.c_str(), url_.port.c_str(), &hints, &found); rc != 0)
      return Error(StatusCode::kUnavailable, "cannot resolve {}: {}", url_.host, gai_strerror(rc));
    std::string last = "no address";
    const auto when = Clock::now() + std::chrono::seconds(kConnectTimeoutSeconds);
    for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
      const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) {
        last = std::strerror(errno);
        continue;
      }
      int error = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
      if (error == EINPROGRESS) {
        Status ready = Wait(fd, POLLOUT, when, "connecting");
        socklen_t len = sizeof error;
        if (!ready.ok()) {
          close(fd);
          freeaddrinfo(found);
          return ready;
        }
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      }
      if (error != 0) {
        last = std::strerror(error);
        close(fd);
        continue;
      }
      const int one = 1;  // each request is one write; without this, Nagle's wait meets delayed ACKs
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
    }
    freeaddrinfo(found);
    if (fd_ < 0) return Error(StatusCode::kUnavailable, "cannot connect to {}: {}", url_.authority, last);
    return Status::Ok();
  }

  // Waits until `fd` is ready for `events`, or fails at `when`, or on Ctrl-C when the request
  // is interruptible.
  Status Wait(int fd, short events, Clock::time_point when, const char* doing) const {
    for (;;) {
      if (interruptible_ && interrupted) return Error(StatusCode::kCancelled, "interrupted");
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(when - Clock::now()).count();
      if (left <= 0) return Error(StatusCode::kUnavailable, "timed out {}", doing);
      pollfd p{.fd = fd, .events = events, .revents = 0};
      const int n = poll(&p, 1, static_cast<int>(std::min<long long>(left, kSliceMs)));
      if (n > 0) return Status::Ok();
      if (n < 0 && errno != EINTR) return Error(StatusCode::kUnavailable, "poll: {}", std::strerror(errno));
    }
  }

  Status SendAll(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        RETURN_IF_ERROR(Wait(fd_, POLLOUT, deadline_, "sending the request"));
      } else {
        return Error(StatusCode::kUnavailable, "sending the request: {}", std::strerror(errno));
      }
    }
    return Status::Ok();
  }

  // Reads more of the answer into in_. False at the end of the connection.
  Result<bool> Fill(const BodySink& sink) {
    char buffer[64 << 10];
    for (;;) {
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n > 0) {
        in_.append(buffer, static_cast<size_t>(n));
        received_ = true;
        return true;
      }
      if (n == 0) return false;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return Error(StatusCode::kUnavailable, "reading the answer: {}", std::strerror(errno));
      // A streamed result may be long: it fails only when nothing comes for a while.
      const auto when = sink.streams() ? Clock::now() + std::chrono::seconds(kStallTimeoutSeconds) : deadline_;
      RETURN_IF_ERROR(Wait(fd_, POLLIN, when, "waiting for the answer"));
    }
  }

  // The next line of the answer (without its CRLF), reading as needed; nullopt at the end of
  // the connection.
  Result<std::optional<std::string>> Line(const BodySink& sink) {
    for (;;) {
      if (const size_t end = in_.find('\n'); end != std::string::npos) {
        std::string line = in_.substr(0, end);
        in_.erase(0, end + 1);
        if (line.ends_with('\r')) line.pop_back();
        return std::optional<std::string>(std::move(line));
      }
      if (in_.size() > kMaxHeadBytes) return Error(StatusCode::kUnavailable, "the server's answer is not HTTP");
      ASSIGN_OR_RETURN(bool more, Fill(sink));
      if (!more) return std::optional<std::string>();
    }
  }

  // Hands `n` bytes of body to the sink (all that is left of it when n is nullopt).
  Status Body(std::optional<size_t> n, long status, BodySink& sink) {
    for (;;) {
      const size_t take = n ? std::min(*n, in_.size()) : in_.size();
      if (take > 0 && !sink.Write(status, in_.data(), take))
        return IoError("cannot write the result (is the output closed?)");
      in_.erase(0, take);
      if (n) {
        *n -= take;
        if (*n == 0) return Status::Ok();
      }
      ASSIGN_OR_RETURN(bool more, Fill(sink));
      if (!more) {
        if (!n) return Status::Ok();
        return Error(StatusCode::kUnavailable, "the server closed the connection in the middle of an answer");
      }
    }
  }

  Result<HttpResponse> ReadResponse(BodySink& sink) {
    const auto truncated = [] { return Error(StatusCode::kUnavailable, "the server closed the connection"); };
    HttpResponse r;
    std::optional<size_t> length;
    bool chunked = false, keep = true;
    do {  // an interim 1xx answer is followed by the real one
      ASSIGN_OR_RETURN(std::optional<std::string> status_line, Line(sink));
      if (!status_line) return truncated();
      // "HTTP/1.1 200 OK"
      if (!status_line->starts_with("HTTP/1.") || status_line->size() < 12 || (*status_line)[8] != ' ' ||
          !std::isdigit(static_cast<unsigned char>((*status_line)[9])))
        return Error(StatusCode::kUnavailable, "the server's answer is not HTTP");
      r.status = std::strtol(status_line->c_str() + 9, nullptr, 10);
      keep = status_line->starts_with("HTTP/1.1");
      for (;;) {
        ASSIGN_OR_RETURN(std::optional<std::string> header, Line(sink));
        if (!header) return truncated();
        if (header->empty()) break;
        const size_t colon = header->find(':');
        if (colon == std::string::npos) return Error(StatusCode::kUnavailable, "the server's answer is not HTTP");
        const std::string name = LowerAscii(Trim(std::string_view(*header).substr(0, colon)));
        const std::string value = LowerAscii(Trim(std::string_view(*header).substr(colon + 1)));
        if (name == "content-length") {
          if (value.empty() || value.size() > 18 || !AllDigits(value))
            return Error(StatusCode::kUnavailable, "a bad Content-Length in the server's answer");
          length = static_cast<size_t>(std::stoull(value));
        } else if (name == "transfer-encoding") {
          chunked = value.find("chunked") != std::string::npos;
        } else if (name == "connection") {
          keep = keep ? value.find("close") == std::string::npos : value.find("keep-alive") != std::string::npos;
        }
      }
    } while (r.status >= 100 && r.status < 200);

    if (r.status == 204 || r.status == 304) {
      length = 0;
      chunked = false;
    }
    if (chunked) {
      for (;;) {
        ASSIGN_OR_RETURN(std::optional<std::string> size_line, Line(sink));
        if (!size_line) return truncated();
        char* end = nullptr;
        const unsigned long long size = std::strtoull(size_line->c_str(), &end, 16);
        if (end == size_line->c_str()) return Error(StatusCode::kUnavailable, "a bad chunk in the server's answer");
        if (size == 0) break;
        RETURN_IF_ERROR(Body(static_cast<size_t>(size), r.status, sink));
        ASSIGN_OR_RETURN(std::optional<std::string> crlf, Line(sink));
        if (!crlf || !crlf->empty()) return Error(StatusCode::kUnavailable, "a bad chunk in the server's answer");
      }
      for (;;) {  // trailers, up to an empty line
        ASSIGN_OR_RETURN(std::optional<std::string> trailer, Line(sink));
        if (!trailer) return truncated();
        if (trailer->empty()) break;
      }
    } else if (length) {
      if (*length > 0) RETURN_IF_ERROR(Body(*length, r.status, sink));
    } else {
      RETURN_IF_ERROR(Body(std::nullopt, r.status, sink));  // to the end of the connection
      keep = false;
    }
    if (!keep || !in_.empty()) Close();  // bytes past the answer: the connection is not HTTP any more
    r.body = sink.TakeBody();
    return r;
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    in_.clear();
  }

  HttpUrl url_;
  std::string base_;
  std::string headers_;  // those of every request
  int fd_ = -1;
  std::string in_;  // read and not yet used
  bool received_ = false;
  bool interruptible_ = true;
  Clock::time_point deadline_;
};

}  // namespace

bool BodySink::Write(long status, const char* data, size_t size) {
  if (status != 200) {
    // An error's message: the first 64 KiB is plenty, whatever a broken server sends.
    body_.append(data, std::min(size, kErrorBodyBytes > body_.size() ? kErrorBodyBytes - body_.size() : 0));
    return true;
  }
  if (!stream_) {
    body_.append(data, size);  // a JSON page: at most the server's page of rows
    return true;
  }
  // RFC 4180: a quote toggles quoting (a doubled quote toggles twice). Outside quotes a \r
  // is only ever part of a row's end: a field with one is quoted.
  std::string rows;
  rows.reserve(size + size / 8);
  for (size_t i = 0; i < size; ++i) {
    const char c = data[i];
    if (c == '"') in_quotes_ = !in_quotes_;
    if (in_quotes_)
      rows += c;
    else if (c == '\n')
      rows += line_end_;
    else if (c != '\r')
      rows += c;
  }
  stream_->write(rows.data(), static_cast<std::streamsize>(rows.size()));
  return stream_->good();
}

Result<std::unique_ptr<HttpConnection>> ConnectPlain(const std::string& base, const std::string& token) {
  ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl(base));
  return std::unique_ptr<HttpConnection>(std::make_unique<PlainConnection>(std::move(url), base, token));
}

InterruptGuard::InterruptGuard() {
  interrupted = 0;
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;  // no SA_RESTART: a wait returns at once with EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &previous_);
}

InterruptGuard::~InterruptGuard() { sigaction(SIGINT, &previous_, nullptr); }

bool InterruptGuard::Interrupted() { return interrupted != 0; }

void InterruptGuard::Clear() { interrupted = 0; }

}  // namespace fleetlog::client
