// Issue 11: the HTTP front under hostile clients (slow headers on more connections than
// threads, header floods, bodies without a length), and the checks against web pages in
// the operator's browser (Host, Origin, Content-Type). Raw sockets play the attackers;
// normal requests must still be answered while they run, and memory must stay bounded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "api_test_fixture.h"

namespace fleetlog::testing {
namespace {

// A raw TCP connection to the server under test.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    const timeval five{.tv_sec = 5, .tv_usec = 0};  // a server that stops reading fails a send, never hangs it
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  // False when the server closed the connection.
  bool Send(std::string_view data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Everything the server sends until it closes the connection or `wait_ms` of silence.
  std::string ReadAll(int wait_ms = 30000) {
    std::string out;
    char buf[4096];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, wait_ms) <= 0) {
        timed_out_ = true;
        return out;
      }
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  bool timed_out() const { return timed_out_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool timed_out_ = false;
};

int StatusOf(const std::string& response) {
  return response.rfind("HTTP/1.", 0) == 0 && response.size() > 12 ? std::stoi(response.substr(9, 3)) : -1;
}

int64_t RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

class HostileClientTest : public ApiTest {
 protected:
  ServerOptions Options() {
    ServerOptions o = DefaultOptions();
    o.http_threads = 8;  // 2 event-loop threads: far fewer than the attackers
    o.server.request_timeout = Duration::Seconds(2);
    return o;
  }
  std::string Host() const { return "Host: 127.0.0.1:" + std::to_string(server_->port()) + "\r\n"; }
};

TEST_F(HostileClientTest, SlowHeadersOnManyConnectionsDoNotStopNormalRequests) {
  StartServer(Options());
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 40; ++i) {
    slow.push_back(std::make_unique<RawClient>(server_->port()));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->Send("GET /v1/workgroups HTTP/1.1\r\n" + Host());
  }
  // While they trickle header bytes, normal requests are answered.
  for (int round = 0; round < 10; ++round) {
    for (auto& c : slow) c->Send("X-Slow: a\r\n");
    auto [status, body] = Get("/v1/workgroups");
    EXPECT_EQ(status, 200) << "round " << round;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Past request_timeout (2 s) from its first byte, a request still not whole is cut off,
  // however regularly it trickles.
  RawClient trickler(server_->port());
  ASSERT_TRUE(trickler.Send("GET /v1/workgroups HTTP/1.1\r\n" + Host()));
  bool cut = false;
  for (int i = 0; i < 300 && !cut; ++i) {  // up to 30 s: generous, not a timing assertion
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cut = !trickler.Send("X-Slow: a\r\n");
  }
  EXPECT_TRUE(cut) << "the server kept a never-ending request open";
  EXPECT_EQ(Get("/v1/workgroups").first, 200);
}

TEST_F(HostileClientTest, HeaderFloodsGet431AndMemoryStaysBounded) {
  StartServer(Options());
  const int64_t rss_before = RssKb();
  // Many small headers, then one huge one, on several connections at once.
  std::vector<std::unique_ptr<RawClient>> flood;
  std::string many_headers = "GET /v1/workgroups HTTP/1.1\r\n" + Host();
  for (int i = 0; i < 500; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  many_headers += "\r\n";
  RawClient counted(server_->port());
  counted.Send(many_headers);
  EXPECT_EQ(StatusOf(counted.ReadAll()), 431);
  const std::string kilobyte(1024, 'a');
  for (int c = 0; c < 20; ++c) {
    flood.push_back(std::make_unique<RawClient>(server_->port()));
    flood.back()->Send("GET /v1/workgroups HTTP/1.1\r\n" + Host());
    // Up to 2 MB each (40 MB in all); the server stops reading long before.
    for (int i = 0; i < 2000 && flood.back()->Send("X-Flood: " + kilobyte + "\r\n"); ++i) {
    }
  }
  int refused = 0;
  for (auto& c : flood) {
    const std::string answer = c->ReadAll(5000);
    refused += StatusOf(answer) == 431 || answer.empty();
  }
  EXPECT_EQ(refused, 20);
  EXPECT_EQ(Get("/v1/workgroups").first, 200);
  const int64_t rss_after = RssKb();
  EXPECT_LT(rss_after - rss_before, 64 << 10) << "RSS grew from " << rss_before << " KiB to " << rss_after << " KiB";
}

TEST_F(HostileClientTest, BodiesWithoutLengthAndOversizedBodies) {
  StartServer(Options());
  // A POST without Content-Length has no body: answered at once, not held.
  RawClient no_length(server_->port());
  no_length.Send("POST /v1/statements HTTP/1.1\r\n" + Host() + "Content-Type: application/json\r\n\r\n");
  const std::string answer = no_length.ReadAll(20000);
  EXPECT_EQ(StatusOf(answer), 400) << answer;
  EXPECT_FALSE(no_length.timed_out());
  // A declared length over max_body is refused before the body is read.
  RawClient declared(server_->port());
  declared.Send("POST /v1/statements HTTP/1.1\r\n" + Host() + "Content-Type: application/json\r\nContent-Length: 99999999\r\n\r\n");
  const std::string big = declared.ReadAll(20000);
  EXPECT_EQ(StatusOf(big), 413) << big;
  EXPECT_NE(big.find("max_body"), std::string::npos);
  // A chunked body past max_body gets 413 too.
  RawClient chunked(server_->port());
  std::string request = "POST /v1/statements HTTP/1.1\r\n" + Host() +
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string piece(64 << 10, ' ');
  for (int i = 0; i < 20; ++i) request += "10000\r\n" + piece + "\r\n";
  request += "0\r\n\r\n";
  chunked.Send(request);
  EXPECT_EQ(StatusOf(chunked.ReadAll(20000)), 413);
  // A JSON body far above 8 KiB (a long statement, as curl -d sends it with the JSON
  // header) is fine.
  const std::string sql = "SELECT '" + std::string(100 << 10, 'x') + "' AS long_text";
  auto [status, body] = Post("/v1/statements", json{{"sql", sql}}.dump());
  EXPECT_EQ(status, 200) << body.dump();
}

TEST_F(HostileClientTest, WebPagesCannotSubmitOrReadThroughRebinding) {
  StartServer(Options());
  const std::string body = R"({"sql": "select 1"})";
  const auto post = [&](const httplib::Headers& headers, const std::string& type) {
    auto res = client_->Post("/v1/statements", headers, body, type.c_str());
    return res ? res->status : -1;
  };
  EXPECT_EQ(post({}, "application/json"), 200);
  EXPECT_EQ(post({}, "application/json; charset=utf-8"), 200);
  EXPECT_EQ(post({}, "text/plain"), 415);
  EXPECT_EQ(post({}, "application/x-www-form-urlencoded"), 415);
  EXPECT_EQ(post({}, "multipart/form-data; boundary=x"), 415);
  EXPECT_EQ(post({{"Origin", "http://evil.example"}}, "application/json"), 403);
  EXPECT_EQ(post({{"Origin", "null"}}, "application/json"), 403);
  EXPECT_EQ(post({{"Sec-Fetch-Site", "cross-site"}}, "application/json"), 403);
  EXPECT_EQ(post({{"Origin", "http://127.0.0.1:" + std::to_string(server_->port())}}, "application/json"), 200);
  // A rebound name: refused for reads too.
  auto rebound = client_->Get("/v1/workgroups", {{"Host", "evil.example:" + std::to_string(server_->port())}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 421);
  auto page = client_->Get("/", {{"Host", "evil.example"}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 421);
  auto local = client_->Get("/v1/workgroups", {{"Host", "localhost:" + std::to_string(server_->port())}});
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200);
}

TEST_F(HostileClientTest, ConfiguredHostsAndOriginsAreAccepted) {
  ServerOptions o = Options();
  o.server.hosts = {"fleetlog.example"};
  o.server.origins = {"https://dash.example"};
  StartServer(std::move(o));
  auto named = client_->Get("/v1/workgroups", {{"Host", "fleetlog.example"}});
  ASSERT_TRUE(named);
  EXPECT_EQ(named->status, 200);
  auto res = client_->Post("/v1/statements", {{"Origin", "https://dash.example"}}, R"({"sql": "select 1"})",
                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HostileClientTest, FailedCsvDownloadDoesNotLookComplete) {
  StartServer(Options());
  const std::string id = Submit({{"sql", "SELECT i, repeat('x', 100) AS pad FROM range(5000) t(i)"}});
  ASSERT_EQ(WaitFor(id)["status"], "FINISHED");
  RawClient whole(server_->port());
  whole.Send("GET /v1/statements/" + id + "/result?format=csv HTTP/1.1\r\n" + Host() + "Connection: close\r\n\r\n");
  const std::string complete = whole.ReadAll();
  EXPECT_EQ(StatusOf(complete), 200);
  EXPECT_TRUE(complete.ends_with("0\r\n\r\n")) << "a whole download ends with the last chunk";
  // Damage the stored rows half-way: the stream must end without its last chunk.
  const std::string rows = dir_ + "/results/" + id + "/1/rows.jsonl";
  std::string text;
  {
    std::ifstream in(rows, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  text.insert(text.size() / 2, "\n{damaged\n");
  {
    std::ofstream out(rows, std::ios::binary | std::ios::trunc);
    out << text;
  }
  RawClient broken(server_->port());
  broken.Send("GET /v1/statements/" + id + "/result?format=csv HTTP/1.1\r\n" + Host() + "Connection: close\r\n\r\n");
  const std::string cut = broken.ReadAll();
  EXPECT_EQ(StatusOf(cut), 200);
  EXPECT_FALSE(cut.ends_with("0\r\n\r\n")) << "the download looks complete";
  // An HTTP client library reports the cut transfer as an error, not a result.
  auto res = client_->Get(("/v1/statements/" + id + "/result?format=csv").c_str());
  EXPECT_FALSE(res) << "status " << (res ? res->status : 0);
}

}  // namespace
}  // namespace fleetlog::testing
