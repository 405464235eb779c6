// `fleetlog run` end to end with alerting: a simulated cluster exports, a rule on fleetlog's
// own health fires after the cycle, the transition lands in alert_events and a webhook
// receiver run by the test gets it; with [log] format = "json" every log line is JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fleetlog {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(AlertRun, RunEvaluatesRulesAfterTheCycleAndNotifies) {
  httplib::Server hook;
  std::mutex mu;
  std::vector<json> got;
  hook.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    got.push_back(json::parse(req.body));
    res.status = 204;
  });
  const int port = hook.bind_to_any_port("127.0.0.1");
  std::thread listener([&] { hook.listen_after_bind(); });
  while (!hook.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  test::TempDir dir;
  const std::string config = test::WriteMinimalConfig(dir.path(), R"(
[log]
format = "json"

[export]
tables = ["stl_query"]
initial_backfill = "20m"

[detect]
enabled = false

[alerting]
dashboard_url = "http://fleetlog.test:8080"

[[cluster]]
name = "sim1"
kind = "sim"

[[receiver]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:)" + std::to_string(port) + R"(/hook"

[[alert]]
name = "lagging"
source = "export_lag"
threshold = 1
severity = "info"
receivers = ["hook"]

[[alert]]
name = "queries-seen"
source = "sql"
sql = "SELECT cluster, count(*) AS value FROM stl_query GROUP BY cluster"
condition = "above"
threshold = 0
for = "1h"
)");
  auto run = test::RunFleetlog({"--config", config, "run", "--cycles", "1"});
  hook.stop();
  listener.join();
  ASSERT_EQ(run.exit_code, 0) << run.err;

  // Every log line of `run` is a JSON object with ts, level and msg.
  std::istringstream lines(run.err);
  int parsed = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    json j;
    ASSERT_NO_THROW(j = json::parse(line)) << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
    ++parsed;
  }
  EXPECT_GT(parsed, 1);
  EXPECT_THAT(run.err, HasSubstr("alert lagging firing cluster=sim1,table=stl_query"));

  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["rule"], "lagging");
  EXPECT_EQ(got[0]["state"], "firing");
  EXPECT_EQ(got[0]["cluster"], "sim1");
  EXPECT_EQ(got[0]["link"], "http://fleetlog.test:8080/?view=alerts&rule=lagging&cluster=sim1");
  EXPECT_GT(got[0]["value"].get<double>(), 1.0);

  // The pending SQL alert (for = 1h) and the firing one are in the lake, and in `alerts`.
  auto events = test::RunFleetlog({"--config", config, "query", "--format", "csv",
                                   "SELECT rule, kind FROM alert_events ORDER BY rule, kind"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_THAT(events.out, HasSubstr("lagging,firing"));
  EXPECT_THAT(events.out, HasSubstr("lagging,pending"));
  EXPECT_THAT(events.out, HasSubstr("queries-seen,pending"));
  auto listed = test::RunFleetlog({"--config", config, "alerts", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const json state = json::parse(listed.out);
  ASSERT_EQ(state["alerts"].size(), 2u) << listed.out;
  bool delivered = false;
  for (const json& d : state["deliveries"]) delivered |= d["receiver"] == "hook" && d["sent"] == true;
  EXPECT_TRUE(delivered) << listed.out;
}

}  // namespace
}  // namespace fleetlog
