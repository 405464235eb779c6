// Notifications reaching real receivers: Debian's Alertmanager shows fleetlog's alert
// through its own API, Debian's aiosmtpd receives the e-mail over STARTTLS with AUTH, and
// webhook receivers that are down, blocked or answering 500 delay nothing else and lose no
// transition.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "alert/delivery.h"
#include "alert/notification.h"
#include "support/service_process.h"
#include "test_util.h"

namespace fleetlog::alert {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

Transition Firing(const std::string& cluster, TransitionKind kind = TransitionKind::kFiring) {
  const Timestamp now = Timestamp::Now();
  return {.kind = kind, .rule = "queue-wait", .severity = "critical",
          .labels = {{"cluster", cluster}, {"team", "dba"}}, .value = 83.5, .at = now,
          .active_since = now - Duration::Minutes(10),
          .annotations = {{"attribution", "queue_wait_s high (83%)"}},
          .summary = "queue wait 83.5 s on " + cluster, .query = "SELECT cluster, sum(total_queue_time) AS value FROM stl_wlm_query GROUP BY cluster"};
}

ResolvedReceiver Receiver(const std::string& name, ReceiverKind kind, const std::string& url) {
  return {.config = {.name = name, .kind = kind, .url = url, .timeout = Duration::Seconds(30), .max_attempts = 3,
                     .first_retry = Duration::Millis(20)},
          .url = url};
}

TEST(AlertReceivers, AlertmanagerShowsTheAlertThroughItsOwnApi) {
  if (!test::HaveProgram("prometheus-alertmanager"))
    GTEST_SKIP() << "prometheus-alertmanager (Debian package) is not installed";
  test::TempDir dir;
  auto port = test::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  ASSERT_TRUE(test::WriteFile(dir.Sub("am.yml"), "route:\n  receiver: nobody\n  group_wait: 1s\nreceivers:\n  - name: nobody\n"));
  test::ServiceProcess am;
  Status started = am.Start({"prometheus-alertmanager", "--config.file=" + dir.Sub("am.yml"), "--storage.path=" + dir.Sub("data"),
                             "--web.listen-address=127.0.0.1:" + std::to_string(*port), "--cluster.listen-address="},
                            dir.Sub("am.log"), *port);
  ASSERT_TRUE(started.ok()) << started.ToString();

  const std::string base = "http://127.0.0.1:" + std::to_string(*port);
  Dispatcher dispatcher({Receiver("am", ReceiverKind::kAlertmanager, base)}, {.dashboard_url = "http://fleetlog.test:8080"});
  dispatcher.Enqueue(Firing("c7"), {"am"}, Duration::Hours(4));
  ASSERT_TRUE(dispatcher.WaitIdle(Duration::Seconds(60)));
  ASSERT_EQ(dispatcher.Attempts().size(), 1u);
  EXPECT_TRUE(dispatcher.Attempts()[0].sent) << dispatcher.Attempts()[0].error;

  // Alertmanager's own API, polled (bounded) until it has processed the alert.
  httplib::Client api("127.0.0.1", *port);
  json alerts = json::array();
  for (int i = 0; i < 300; ++i) {
    auto res = api.Get("/api/v2/alerts");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    alerts = json::parse(res->body);
    if (alerts.size() == 1 && alerts[0]["status"]["state"] == "active") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(alerts.size(), 1u) << alerts.dump(2);
  const json& a = alerts[0];
  EXPECT_EQ(a["labels"]["alertname"], "queue-wait");
  EXPECT_EQ(a["labels"]["cluster"], "c7");
  EXPECT_EQ(a["labels"]["severity"], "critical");
  EXPECT_EQ(a["annotations"]["value"], "83.5");
  EXPECT_EQ(a["annotations"]["attribution"], "queue_wait_s high (83%)");
  EXPECT_THAT(a["annotations"]["query"].get<std::string>(), HasSubstr("stl_wlm_query"));
  EXPECT_EQ(a["generatorURL"], "http://fleetlog.test:8080/?p=alerts&rule=queue-wait&cluster=c7");
  EXPECT_EQ(a["status"]["state"], "active");

  // The resolution ends it: Alertmanager lists it no more among the active alerts.
  dispatcher.Enqueue(Firing("c7", TransitionKind::kResolved), {"am"}, Duration::Hours(4));
  ASSERT_TRUE(dispatcher.WaitIdle(Duration::Seconds(60)));
  auto after = api.Get("/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true");
  ASSERT_TRUE(after);
  json still = json::array();
  for (const json& x : json::parse(after->body))
    if (x["labels"]["alertname"] == "queue-wait" && x["status"]["state"] == "active") still.push_back(x);
  EXPECT_TRUE(still.empty()) << after->body;
}

TEST(AlertReceivers, EmailArrivesOverStartTlsWithAuth) {
  if (!test::HaveProgram("/usr/bin/python3") ||
      test::RunProcess({"/usr/bin/python3", "-c", "import aiosmtpd"}).exit_code != 0)
    GTEST_SKIP() << "python3-aiosmtpd (Debian package) is not installed";
  test::TempDir dir;
  const std::string cert = dir.Sub("cert.pem"), key = dir.Sub("key.pem");
  auto made = test::RunProcess({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                "-keyout", key, "-out", cert});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::filesystem::create_directories(dir.Sub("mail"));
  auto port = test::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  test::ServiceProcess smtp;
  Status started = smtp.Start({"/usr/bin/python3", test::SourceDir() + "/tests/support/smtp_server.py", std::to_string(*port),
                               cert, key, "fleetlog", "s3cret pass", dir.Sub("mail")},
                              dir.Sub("smtp.log"), *port);
  ASSERT_TRUE(started.ok()) << started.ToString();

  ResolvedReceiver r{.config = {.name = "mail", .kind = ReceiverKind::kEmail, .url = "smtp://127.0.0.1:" + std::to_string(*port),
                                .from = "fleetlog@example.com", .to = {"dba@example.com", "oncall@example.com"},
                                .username = "fleetlog", .ca_file = cert, .max_attempts = 1},
                     .url = "smtp://127.0.0.1:" + std::to_string(*port), .password = "s3cret pass"};
  Status sent = SendNotification(r, Firing("c3"), "http://fleetlog.test/?p=alerts&rule=queue-wait&cluster=c3", Duration::Hours(4));
  ASSERT_TRUE(sent.ok()) << sent.ToString() << smtp.LogTail();
  auto mail = test::ReadWholeFile(dir.Sub("mail/1.eml"));
  ASSERT_TRUE(mail.has_value()) << smtp.LogTail();
  EXPECT_THAT(*mail, HasSubstr("X-Envelope-To: dba@example.com,oncall@example.com"));
  EXPECT_THAT(*mail, HasSubstr("X-TLS: True"));
  EXPECT_THAT(*mail, HasSubstr("Subject: [FIRING] queue-wait: queue wait 83.5 s on c3"));
  EXPECT_THAT(*mail, HasSubstr("cluster:   c3"));
  EXPECT_THAT(*mail, HasSubstr("value:     83.5"));
  EXPECT_THAT(*mail, HasSubstr("FROM stl_wlm_query"));
  EXPECT_THAT(*mail, HasSubstr("http://fleetlog.test/?p=alerts&rule=queue-wait&cluster=c3"));

  // A wrong password is refused and says so; it is not reported as sent.
  r.password = "wrong";
  Status refused = SendNotification(r, Firing("c3"), "", Duration::Hours(4));
  EXPECT_FALSE(refused.ok());
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("mail/2.eml")));
}

// A webhook receiver run by the test: records what arrives; /blocked holds each request
// until released; /flaky answers 500 to its first two requests.
class Receivers {
 public:
  Receivers() {
    server_.Post("/ok", [this](const httplib::Request& req, httplib::Response& res) { Keep("ok", req.body, res); });
    server_.Post("/fail", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("database is on fire", "text/plain");
    });
    server_.Post("/flaky", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (++flaky_calls_ <= 2) {
        res.status = 500;
        return;
      }
      got_["flaky"].push_back(json::parse(req.body));
      changed_.notify_all();
    });
    server_.Post("/blocked", [this](const httplib::Request& req, httplib::Response& res) {
      std::unique_lock lock(mu_);
      ++blocked_waiting_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return released_; });
      got_["blocked"].push_back(json::parse(req.body));
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Receivers() {
    Release();
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::vector<json> Got(const std::string& name) {
    std::lock_guard lock(mu_);
    return got_[name];
  }
  // Waits (bounded) until `name` has `n` requests; returns what it has.
  std::vector<json> WaitFor(const std::string& name, size_t n) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, std::chrono::seconds(60), [&] { return got_[name].size() >= n; });
    return got_[name];
  }
  // Waits (bounded) until the blocked receiver holds a request; returns how many it holds.
  int WaitBlocked() {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, std::chrono::seconds(60), [&] { return blocked_waiting_ >= 1; });
    return blocked_waiting_;
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  void Keep(const std::string& name, const std::string& body, httplib::Response& res) {
    std::lock_guard lock(mu_);
    got_[name].push_back(json::parse(body));
    changed_.notify_all();
    res.status = 200;
  }
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, std::vector<json>> got_;
  int flaky_calls_ = 0, blocked_waiting_ = 0;
  bool released_ = false;
};

TEST(AlertReceivers, BrokenWebhooksDelayNothingElseAndLoseNoTransition) {
  Receivers web;
  auto down_port = test::FreeLoopbackPort();
  ASSERT_TRUE(down_port.ok());
  std::vector<ResolvedReceiver> receivers = {
      Receiver("down", ReceiverKind::kWebhook, "http://127.0.0.1:" + std::to_string(*down_port) + "/hook"),
      Receiver("blocked", ReceiverKind::kWebhook, web.Url("/blocked")),
      Receiver("fail", ReceiverKind::kWebhook, web.Url("/fail")),
      Receiver("flaky", ReceiverKind::kWebhook, web.Url("/flaky")),
      Receiver("ok", ReceiverKind::kSlack, web.Url("/ok")),
  };
  receivers[3].config.max_attempts = 5;
  Dispatcher dispatcher(std::move(receivers), {});
  const std::vector<std::string> all = {"down", "blocked", "fail", "flaky", "ok"};
  dispatcher.Enqueue(Firing("a"), all, Duration::Hours(4));
  dispatcher.Enqueue(Firing("b"), all, Duration::Hours(4));
  dispatcher.Enqueue(Firing("a", TransitionKind::kResolved), all, Duration::Hours(4));

  // While the blocked receiver holds its first request, the healthy one gets all three.
  // (Under load the healthy one may get them before the blocked one's request arrives.)
  const auto ok = web.WaitFor("ok", 3);
  ASSERT_EQ(ok.size(), 3u);
  EXPECT_EQ(web.WaitBlocked(), 1);
  EXPECT_TRUE(web.Got("blocked").empty());
  EXPECT_THAT(ok[0]["text"].get<std::string>(), HasSubstr("FIRING"));
  EXPECT_THAT(ok[2]["text"].get<std::string>(), HasSubstr("RESOLVED"));
  // The flaky receiver gets every transition, in order, after its 500s.
  const auto flaky = web.WaitFor("flaky", 3);
  ASSERT_EQ(flaky.size(), 3u);
  EXPECT_EQ(flaky[0]["cluster"], "a");
  EXPECT_EQ(flaky[0]["state"], "firing");
  EXPECT_EQ(flaky[1]["cluster"], "b");
  EXPECT_EQ(flaky[2]["state"], "resolved");
  EXPECT_EQ(flaky[2]["value"], 83.5);
  EXPECT_THAT(flaky[2]["query"].get<std::string>(), HasSubstr("stl_wlm_query"));

  web.Release();
  ASSERT_TRUE(dispatcher.WaitIdle(Duration::Seconds(120)));
  EXPECT_EQ(web.Got("blocked").size(), 3u);
  // Every failure is recorded with its reason; each transition ends in one final attempt.
  int fail_final = 0, down_final = 0;
  for (const Delivery& d : dispatcher.Attempts()) {
    if (d.receiver == "fail") {
      EXPECT_FALSE(d.sent);
      EXPECT_THAT(d.error, HasSubstr("HTTP 500: database is on fire"));
      fail_final += d.final;
    }
    if (d.receiver == "down") {
      EXPECT_FALSE(d.sent);
      EXPECT_FALSE(d.error.empty());
      down_final += d.final;
    }
  }
  EXPECT_EQ(fail_final, 3);
  EXPECT_EQ(down_final, 3);
}

}  // namespace
}  // namespace fleetlog::alert
