// [[alert]], [[receiver]], [alerting] and [log] in the config: what loads, and the errors
// that name the file and the line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config.h"

namespace fleetlog {
namespace {

using ::testing::HasSubstr;

const std::map<std::string, std::string> kNoEnv;
constexpr const char* kFile = "/etc/fleetlog/fleetlog.toml";

Result<Config> Parse(const std::string& text) { return ParseConfig(text, kFile, &kNoEnv); }

TEST(AlertConfig, ReadsRulesReceiversAndLog) {
  auto c = Parse(R"(
[[cluster]]
name = "a"
kind = "sim"

[log]
format = "json"

[alerting]
dashboard_url = "http://fleetlog.example:8080"

[[receiver]]
name = "ops"
kind = "slack"
url_secret = "slack-webhook"

[[receiver]]
name = "mail"
kind = "email"
url = "smtp://mail.example:587"
from = "fleetlog@example.com"
to = ["dba@example.com"]
username = "fleetlog"
password_secret = "smtp"

[[alert]]
name = "slow-queries"
source = "sql"
sql = "select cluster, count(*) as value from stl_query group by cluster"
condition = "above"
threshold = 100
for = "10m"
repeat = "1h"
severity = "critical"
labels = { team = "dba" }
receivers = ["ops", "mail"]

[[alert]]
name = "anomaly-a"
source = "anomaly"
cluster = "a"
interval = "1m"

[[alert]]
name = "export-lag"
source = "export_lag"
threshold = 3600
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->log.json);
  EXPECT_EQ(c->alerting.dashboard_url, "http://fleetlog.example:8080");
  ASSERT_EQ(c->receivers.size(), 2u);
  EXPECT_EQ(c->receivers[0].kind, ReceiverKind::kSlack);
  EXPECT_EQ(c->receivers[1].to, std::vector<std::string>{"dba@example.com"});
  ASSERT_EQ(c->alerts.size(), 3u);
  const AlertRuleConfig& a = c->alerts[0];
  EXPECT_EQ(a.source, AlertSource::kSql);
  EXPECT_EQ(a.threshold, 100);
  EXPECT_EQ(a.for_, Duration::Minutes(10));
  EXPECT_EQ(a.repeat, Duration::Hours(1));
  EXPECT_EQ(a.labels.at("team"), "dba");
  EXPECT_EQ(a.receivers.size(), 2u);
  EXPECT_EQ(c->alerts[1].source, AlertSource::kAnomaly);
  EXPECT_EQ(c->alerts[1].threshold, 0);  // any anomaly grade above 0
  EXPECT_EQ(*c->alerts[1].interval, Duration::Minutes(1));
  EXPECT_EQ(c->alerts[2].source, AlertSource::kExportLag);
}

TEST(AlertConfig, ErrorsNameTheLine) {
  auto c = Parse(R"([[alert]]
name = "x"
source = "sqll"

[[alert]]
name = "y"
source = "sql"
condition = "above"

[[alert]]
name = "z"
source = "export_lag"
threshold = 1
receivers = ["nobody"]
fro = "5m"
)");
  ASSERT_FALSE(c.ok());
  const std::string m = c.status().message();
  EXPECT_THAT(m, HasSubstr(std::string(kFile) + ":3: unknown source \"sqll\" (use sql, anomaly, export_lag, failing_tables)"));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("\"x\" has source")));  // a misspelt source is one error, not three
  EXPECT_THAT(m, HasSubstr(std::string(kFile) + ":5: [[alert]] \"y\" has source = \"sql\" but no sql"));
  EXPECT_THAT(m, HasSubstr(":5: [[alert]] \"y\" needs a threshold"));
  EXPECT_THAT(m, HasSubstr(":10: [[alert]] \"z\" names receiver \"nobody\""));
  EXPECT_THAT(m, HasSubstr(":15: unknown key \"fro\" in [[alert]] (known keys: name source sql"));
}

TEST(AlertConfig, ReceiverNeedsExactlyOneUrlAndEmailNeedsAddresses) {
  auto c = Parse(R"([[receiver]]
name = "w"
kind = "webhook"

[[receiver]]
name = "m"
kind = "email"
url = "smtp://localhost:25"
)");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(":1: [[receiver]] \"w\" needs exactly one of url and url_secret"));
  EXPECT_THAT(c.status().message(), HasSubstr(":5: [[receiver]] \"m\" of kind email needs from and to"));
}

TEST(AlertConfig, LogFormatAndReadyBound) {
  auto c = Parse("[log]\nformat = \"xml\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(":2: unknown log format \"xml\" (use text or json)"));
  auto s = Parse("[server]\nready_max_lag = \"20m\"\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->server->ready_max_lag, Duration::Minutes(20));
}

}  // namespace
}  // namespace fleetlog
