// Watching fleetlog for real: a Prometheus server from Debian scrapes /metrics of a running
// fleetlog server and its query API returns the series; promtool checks the exposition;
// /healthz, /readyz and `fleetlog status --max-lag` judge a lake with one stale table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/server.h"
#include "support/service_process.h"
#include "test_util.h"

namespace fleetlog {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const TableSchema kQuerySchema = {{"query", ColumnType::kInt32}, {"endtime", ColumnType::kTimestamp}};

// A lake of two clusters: c1's stl_query is two hours behind, c2's is fresh but its last
// run failed twice.
class ObservedLake : public ::testing::Test {
 protected:
  void SetUp() override {
    config_path_ = test::WriteMinimalConfig(dir_.path(),
                                            "[export]\ntables = [\"stl_query\"]\n\n"
                                            "[[cluster]]\nname = \"c1\"\nkind = \"sim\"\n\n"
                                            "[[cluster]]\nname = \"c2\"\nkind = \"sim\"\n\n"
                                            "[server]\nlisten = \"127.0.0.1:0\"\nready_max_lag = \"1h\"\n");
    auto config = LoadConfig(config_path_);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    auto state = OpenSqliteStateStore(config_.state_path, OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    state_ = std::move(state).value();
    const Timestamp now = Timestamp::Now();
    for (const auto& [cluster, behind] : {std::pair{"c1", Duration::Hours(2)}, std::pair{"c2", Duration::Seconds(30)}}) {
      RowBatch rows(kQuerySchema);
      for (int i = 0; i < 3; ++i) {
        rows.column(0).AppendInt(i);
        rows.column(1).AppendInt((now - behind - Duration::Minutes(i + 1)).micros());
      }
      auto written = test::WriteToLake(*state_, LakeLayout(config_.lake_path),
                                       {.table = "stl_query", .cluster = cluster, .cursor_column = "endtime",
                                        .keys = {"query"}, .cursor = now - behind},
                                       rows);
      ASSERT_TRUE(written.ok()) << written.status().ToString();
    }
    for (int i = 0; i < 2; ++i)
      ASSERT_TRUE(state_->RecordRun({.cluster = "c2", .table = "stl_query", .started_at = now, .finished_at = now,
                                     .status = RunStatus::kFailed, .error = "connection refused"}).ok());
    server_ = std::make_unique<Server>(ServerOptionsFromConfig(config_), state_.get());
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  std::pair<int, std::string> Get(const std::string& path) {
    httplib::Client client("127.0.0.1", server_->port());
    auto res = client.Get(path.c_str());
    if (!res) return {0, httplib::to_string(res.error())};
    return {res->status, res->body};
  }

  test::TempDir dir_;
  std::string config_path_;
  Config config_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<Server> server_;
};

TEST_F(ObservedLake, HealthzAnswersAndReadyzNamesTheLaggingTable) {
  auto [health_status, health_body] = Get("/healthz");
  EXPECT_EQ(health_status, 200);
  auto [status, body] = Get("/readyz");
  EXPECT_EQ(status, 503);
  EXPECT_THAT(body, HasSubstr("c1/stl_query lags 2h"));
  EXPECT_THAT(body, ::testing::Not(HasSubstr("c2/")));
}

TEST_F(ObservedLake, StatusMaxLagExitsOneNamingTheTable) {
  auto stale = test::RunFleetlog({"--config", config_path_, "status", "--max-lag", "30m"});
  EXPECT_EQ(stale.exit_code, 1) << stale.err;
  EXPECT_THAT(stale.err, HasSubstr("c1/stl_query lags 2h"));
  EXPECT_THAT(stale.err, ::testing::Not(HasSubstr("c2/stl_query")));
  auto fine = test::RunFleetlog({"--config", config_path_, "status", "--max-lag", "3h"});
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
  auto bad = test::RunFleetlog({"--config", config_path_, "status", "--max-lag", "soon"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST_F(ObservedLake, MetricsPassPromtoolAndCarryTheFigures) {
  ASSERT_EQ(Get("/v1/tables").first, 200);  // counted below
  auto [status, body] = Get("/metrics");
  ASSERT_EQ(status, 200);
  EXPECT_THAT(body, HasSubstr("fleetlog_export_consecutive_failures{cluster=\"c2\",table=\"stl_query\"} 2\n"));
  EXPECT_THAT(body, HasSubstr("fleetlog_lake_rows{cluster=\"c1\",table=\"stl_query\"} 3\n"));
  EXPECT_THAT(body, HasSubstr("fleetlog_runs_total{cluster=\"c2\",table=\"stl_query\",kind=\"export\",status=\"failed\"} 2\n"));
  EXPECT_THAT(body, HasSubstr("fleetlog_http_requests_total{route=\"/v1/tables\",method=\"GET\",code=\"200\"} 1\n"));
  EXPECT_THAT(body, HasSubstr("fleetlog_workgroup_queued{workgroup=\"default\"} 0\n"));
  EXPECT_THAT(body, HasSubstr("process_resident_memory_bytes "));
  EXPECT_THAT(body, HasSubstr("process_open_fds "));
  if (!test::HaveProgram("promtool")) GTEST_SKIP() << "promtool (Debian package prometheus) is not installed";
  auto check = test::RunProcess({"promtool", "check", "metrics"}, {.stdin_data = body});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(ObservedLake, PrometheusScrapesTheSeries) {
  if (!test::HaveProgram("prometheus")) GTEST_SKIP() << "prometheus (Debian package prometheus) is not installed";
  auto port = test::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  ASSERT_TRUE(test::WriteFile(dir_.Sub("prometheus.yml"),
                              "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                              "scrape_configs:\n  - job_name: fleetlog\n    static_configs:\n      - targets: ['127.0.0.1:" +
                                  std::to_string(server_->port()) + "']\n"));
  test::ServiceProcess prometheus;
  Status started = prometheus.Start({"prometheus", "--config.file=" + dir_.Sub("prometheus.yml"),
                                     "--storage.tsdb.path=" + dir_.Sub("tsdb"),
                                     "--web.listen-address=127.0.0.1:" + std::to_string(*port)},
                                    dir_.Sub("prometheus.log"), *port);
  ASSERT_TRUE(started.ok()) << started.ToString();

  // Prometheus' own API, polled until its first scrapes are in (bounded; no timing asserted).
  httplib::Client api("127.0.0.1", *port);
  auto query = [&](const std::string& promql) {
    auto res = api.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
    return res && res->status == 200 ? json::parse(res->body)["data"]["result"] : json::array();
  };
  // Polls (bounded) until the query returns at least `n` series.
  auto wait_for = [&](const std::string& promql, size_t n) {
    json result = json::array();
    for (int i = 0; i < 600 && result.size() < n; ++i) {
      result = query(promql);
      if (result.size() < n) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return result;
  };
  const json lag = wait_for("fleetlog_export_lag_seconds", 2);
  ASSERT_EQ(lag.size(), 2u) << prometheus.LogTail();
  for (const json& series : lag) {
    const std::string cluster = series["metric"]["cluster"];
    const double seconds = std::stod(series["value"][1].get<std::string>());
    EXPECT_EQ(series["metric"]["table"], "stl_query");
    EXPECT_EQ(series["metric"]["job"], "fleetlog");
    if (cluster == "c1") EXPECT_GT(seconds, 7200);
    else EXPECT_LT(seconds, 3600);
  }
  const json up = query("up{job=\"fleetlog\"}");
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0]["value"][1], "1");
  const json failing = query("fleetlog_export_consecutive_failures > 0");
  ASSERT_EQ(failing.size(), 1u);
  EXPECT_EQ(failing[0]["metric"]["cluster"], "c2");
  EXPECT_EQ(failing[0]["value"][1], "2");
  // Prometheus' scrapes are counted on the /metrics route.
  const json scrapes = wait_for("fleetlog_http_requests_total{route=\"/metrics\",code=\"200\"}", 1);
  ASSERT_EQ(scrapes.size(), 1u);
}

}  // namespace
}  // namespace fleetlog
