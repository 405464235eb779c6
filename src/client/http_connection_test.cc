// ConnectPlain against a scripted server on the loopback: the framings a server may use, a
// kept connection the server closed, answers cut short or outside HTTP, and bad URLs. The
// real server (libmicrohttpd) is tested through `query --server` in
// tests/cli_remote_query_test.cc.
#include "client/http_connection.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <thread>
#include <vector>

namespace fleetlog::client {
namespace {

using ::testing::HasSubstr;

// Accepts connections one after another. For each request it reads (head and
// Content-Length body), it sends the next scripted answer in pieces of `piece` bytes, then
// closes the connection when the answer says so.
class ScriptedServer {
 public:
  struct Answer {
    std::string bytes;
    bool close_after = false;
    bool before_body = false;  // answer once the head is read, and close without the body
  };

  explicit ScriptedServer(std::vector<Answer> answers, size_t piece = 1 << 20) : answers_(std::move(answers)) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listener_, 4);
    thread_ = std::thread([this, piece] { Serve(piece); });
  }
  ~ScriptedServer() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  void Serve(size_t piece) {
    size_t next = 0;
    while (next < answers_.size()) {
      const int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      ++connections_;
      std::string in;
      while (next < answers_.size()) {
        const Answer& a = answers_[next++];
        if (a.before_body ? !ReadHead(fd, &in) : !ReadRequest(fd, &in)) break;
        for (size_t at = 0; at < a.bytes.size(); at += piece) {
          const std::string_view part = std::string_view(a.bytes).substr(at, piece);
          if (send(fd, part.data(), part.size(), MSG_NOSIGNAL) < 0) break;
          if (piece < a.bytes.size()) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        if (a.close_after) break;
      }
      close(fd);
    }
  }

  // A request's head from `fd`; false at its end.
  bool ReadHead(int fd, std::string* in) {
    char buffer[4096];
    while (in->find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      in->append(buffer, static_cast<size_t>(n));
    }
    requests_.push_back(in->substr(0, in->find("\r\n\r\n") + 4));
    return true;
  }

  // One request (head, and the body its Content-Length names) from `fd`; false at its end.
  bool ReadRequest(int fd, std::string* in) {
    char buffer[4096];
    for (;;) {
      const size_t head = in->find("\r\n\r\n");
      if (head != std::string::npos) {
        size_t length = 0;
        if (const size_t at = in->find("Content-Length: "); at != std::string::npos && at < head)
          length = std::stoul(in->substr(at + 16));
        if (in->size() >= head + 4 + length) {
          requests_.push_back(in->substr(0, head + 4 + length));
          in->erase(0, head + 4 + length);
          return true;
        }
      }
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      in->append(buffer, static_cast<size_t>(n));
    }
  }

  std::vector<Answer> answers_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  int connections_ = 0;
  std::vector<std::string> requests_;
};

std::unique_ptr<HttpConnection> Connect(const std::string& url, const std::string& token = "") {
  auto c = ConnectPlain(url, token);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

TEST(PlainHttpTest, ReadsEachFramingAndKeepsTheConnection) {
  ScriptedServer server({
      {"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\n{\"a\":1}"},
      {"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n4;ext=1\r\nq,r\n\r\n3\r\n1,2\r\n0\r\nX-T: 1\r\n\r\n"},
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 17\r\n\r\n{\"error\":\"gone\"}\n"},
      {"HTTP/1.1 204 No Content\r\n\r\n"},
      {"HTTP/1.0 200 OK\r\n\r\nto the end", /*close_after=*/true},
  });
  auto c = Connect(server.url() + "/prefix/", "secret");
  ASSERT_TRUE(c);
  auto json = c->Post("/v1/statements", R"({"sql":"select 1"})", true);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(json->status, 200);
  EXPECT_EQ(json->body, "{\"a\":1}");

  std::ostringstream rows;
  BodySink sink(&rows, "\r\n");
  auto csv = c->Get("/v1/statements/x/result?format=csv", sink);
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(csv->status, 200);
  EXPECT_EQ(rows.str(), "q,r\r\n1,2");  // line ends as asked, streamed
  EXPECT_EQ(csv->body, "");

  BodySink missing;
  auto error = c->Get("/v1/statements/y", missing);
  ASSERT_TRUE(error.ok()) << error.status().ToString();
  EXPECT_EQ(error->status, 404);
  EXPECT_EQ(error->body, "{\"error\":\"gone\"}\n");

  BodySink none;
  auto empty = c->Get("/v1/empty", none);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->status, 204);

  BodySink rest;
  auto to_end = c->Get("/v1/old", rest);
  ASSERT_TRUE(to_end.ok()) << to_end.status().ToString();
  EXPECT_EQ(to_end->body, "to the end");

  EXPECT_EQ(server.connections(), 1);
  ASSERT_EQ(server.requests().size(), 5u);
  EXPECT_THAT(server.requests()[0], HasSubstr("POST /prefix/v1/statements HTTP/1.1\r\n"));
  EXPECT_THAT(server.requests()[0], HasSubstr("Host: 127.0.0.1:"));
  EXPECT_THAT(server.requests()[0], HasSubstr("Authorization: Bearer secret\r\n"));
  EXPECT_THAT(server.requests()[0], HasSubstr("Content-Length: 18\r\n\r\n{\"sql\":\"select 1\"}"));
  EXPECT_THAT(server.requests()[1], HasSubstr("GET /prefix/v1/statements/x/result?format=csv HTTP/1.1\r\n"));
}

TEST(PlainHttpTest, AnswersThatComeAByteAtATimeReadTheSame) {
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\"a\nb\"\r\n2\r\n\n1\r\n0\r\n\r\n";
  ScriptedServer server({{chunked}, {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}}, /*piece=*/1);
  auto c = Connect(server.url());
  ASSERT_TRUE(c);
  std::ostringstream rows;
  BodySink sink(&rows, "\r\n");
  auto csv = c->Get("/r", sink);
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(rows.str(), "\"a\nb\"\r\n1");  // a line end inside quotes stays
  auto json = c->Post("/s", "{}", true);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(json->body, "ok");
  EXPECT_EQ(server.connections(), 1);
}

// A kept connection that the server closed after its last answer: the next request is sent
// again on a new connection, once.
TEST(PlainHttpTest, AKeptConnectionTheServerClosedIsOpenedAgain) {
  ScriptedServer server({{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", /*close_after=*/true},
                         {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"}});
  auto c = Connect(server.url());
  ASSERT_TRUE(c);
  auto first = c->Post("/one", "{}", true);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the server's close arrives
  auto second = c->Post("/two", "{}", true);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "b");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(PlainHttpTest, AnswersCutShortOrOutsideHttpAreUnavailable) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SSH-2.0-OpenSSH_9.2\r\n", "not HTTP"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "in the middle of an answer"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk"},
      {"HTTP/1.1 200 OK\r\nContent-Len", "closed the connection"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"},
  };
  for (const auto& [answer, says] : cases) {
    ScriptedServer server({{answer, /*close_after=*/true}});
    auto c = Connect(server.url());
    ASSERT_TRUE(c);
    BodySink sink;
    auto r = c->Get("/v1/statements/x?next_token=secret", sink);
    ASSERT_FALSE(r.ok()) << answer;
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << answer;
    EXPECT_THAT(r.status().message(), HasSubstr(says)) << answer;
    EXPECT_THAT(r.status().message(), HasSubstr("GET " + server.url() + "/v1/statements/x:"));
    EXPECT_THAT(r.status().message(), ::testing::Not(HasSubstr("secret")));  // a result token stays out
  }
}

// A server that refuses a body by its Content-Length answers at once and closes: its answer
// is the result, not the broken pipe of the rest of the body.
TEST(PlainHttpTest, AnAnswerBeforeTheWholeBodyIsTheAnswer) {
  const std::string refusal = "{\"error\":\"the request body is larger than max_body\"}";
  ScriptedServer server(
      {{fmt::format("HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
                    refusal.size(), refusal),
        /*close_after=*/true, /*before_body=*/true},
       {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}});
  auto c = Connect(server.url());
  ASSERT_TRUE(c);
  auto r = c->Post("/v1/statements", std::string(32 << 20, 'x'), true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, refusal);
  auto next = c->Post("/v1/statements", "{}", true);  // on a new connection
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->body, "ok");
  EXPECT_EQ(server.connections(), 2);
}

TEST(PlainHttpTest, NobodyListeningSaysSo) {
  int port = 0;
  {
    ScriptedServer gone({});
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  auto c = Connect("http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(c);
  auto r = c->Post("/v1/statements", "{}", true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot connect to 127.0.0.1:" + std::to_string(port)));
}

TEST(PlainHttpTest, UrlsOtherThanPlainHttpAreRefused) {
  for (const char* url :
       {"https://h:1", "http://", "http://h:x", "http://h:123456", "http://[::1", "http://u:p@h:1", "http://[::1]x"}) {
    auto c = ConnectPlain(url, "");
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << url;
  }
  for (const char* url : {"http://h", "http://h:1/p", "http://[::1]:8080", "http://[::1]", "http://localhost:1?x#y"}) {
    EXPECT_TRUE(ConnectPlain(url, "").ok()) << url;
  }
}

TEST(BodySinkTest, KeepsAtMost64KiBOfAnError) {
  BodySink sink;
  const std::string big(100 << 10, 'x');
  EXPECT_TRUE(sink.Write(500, big.data(), big.size()));
  EXPECT_TRUE(sink.Write(500, big.data(), big.size()));
  EXPECT_EQ(sink.TakeBody().size(), 64u << 10);
}

TEST(BodySinkTest, AClosedStreamStopsTheTransfer) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  BodySink sink(&out, "\n");
  EXPECT_FALSE(sink.Write(200, "a\n", 2));
  EXPECT_TRUE(sink.stream_failed());
  EXPECT_TRUE(sink.Write(400, "e", 1));  // an error's body is kept, whatever the stream
}

}  // namespace
}  // namespace fleetlog::client
