#include "server/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetlog {
namespace {

using ::testing::HasSubstr;

TEST(Metrics, RouteTemplatesKeepLabelValuesFew) {
  EXPECT_EQ(RouteTemplate("/v1/statements"), "/v1/statements");
  EXPECT_EQ(RouteTemplate("/v1/statements/abc-123"), "/v1/statements/{id}");
  EXPECT_EQ(RouteTemplate("/v1/statements/abc-123/result"), "/v1/statements/{id}/result");
  EXPECT_EQ(RouteTemplate("/v1/statements/abc:2/cancel"), "/v1/statements/{id}/cancel");
  EXPECT_EQ(RouteTemplate("/v1/tables/stl_query"), "/v1/tables/{name}");
  EXPECT_EQ(RouteTemplate("/metrics"), "/metrics");
  EXPECT_EQ(RouteTemplate("/etc/passwd"), "other");
}

TEST(Metrics, LabelValuesAreEscapedAndFamiliesDeclaredOnce) {
  PromText m;
  m.Family("x_total", "counter", "Things.");
  m.Sample({{"a", "q\"uo\\te\nnl"}}, 1.5);
  m.Sample({}, 3);
  EXPECT_EQ(m.text(), "# HELP x_total Things.\n# TYPE x_total counter\nx_total{a=\"q\\\"uo\\\\te\\nnl\"} 1.5\nx_total 3\n");
}

TEST(Metrics, ProcessStatsAreRead) {
  const ProcessStats p = ReadProcessStats(Env::Default());
  EXPECT_GT(p.resident_bytes, 0);
  EXPECT_GT(p.open_fds, 2);
  EXPECT_GT(p.max_fds, p.open_fds);
  EXPECT_GT(p.start_time_seconds, 1.6e9);
}

TEST(Metrics, RenderCountsFailuresAndAlertStates) {
  MetricsSnapshot s;
  s.tables.push_back({.cluster = "c1", .table = "stl_query", .lag = Duration::Seconds(90), .failure_streak = 3});
  s.run_totals.push_back({.cluster = "c1", .table = "stl_query", .kind = "export", .status = RunStatus::kFailed, .runs = 3});
  s.alerts.push_back({"slow", "critical", "firing", 2});
  s.rules = {"slow", "typo"};
  s.broken_rules = {"typo"};
  WorkgroupConfig wg;
  wg.name = "default";
  s.workgroups.push_back({wg, WorkgroupCounters{.finished = 4, .keep_failures = 2, .warm_ups = 3}});
  const std::string text = RenderMetrics(s);
  EXPECT_THAT(text, HasSubstr("fleetlog_export_lag_seconds{cluster=\"c1\",table=\"stl_query\"} 90\n"));
  EXPECT_THAT(text, HasSubstr("fleetlog_export_consecutive_failures{cluster=\"c1\",table=\"stl_query\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("fleetlog_runs_total{cluster=\"c1\",table=\"stl_query\",kind=\"export\",status=\"failed\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("fleetlog_alert_state{rule=\"slow\",severity=\"critical\",state=\"firing\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("fleetlog_alert_rule_broken{rule=\"typo\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("fleetlog_alert_rule_broken{rule=\"slow\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("fleetlog_workgroup_statements_total{workgroup=\"default\",outcome=\"finished\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("fleetlog_workgroup_keep_failures_total{workgroup=\"default\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("fleetlog_workgroup_worker_warmups_total{workgroup=\"default\"} 3\n"));
}

}  // namespace
}  // namespace fleetlog
