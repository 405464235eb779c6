// The cross-fleet views over a lake that a provisioned (STL) and a Serverless (SYS) simulated
// cluster were exported into by the real exporter: one relation per question, each row once,
// with its family, and the same answers the tables give.
#include "query/fleet_views.h"

#include <gtest/gtest.h>

#include "exporter/writer.h"
#include "query/engine.h"
#include "source/sim/sim_source.h"
#include "test_util.h"

namespace fleetlog {
namespace {

class FleetViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = ParseConfig(R"(
[export]
initial_backfill = "3h"
[[cluster]]
name = "prov"
kind = "sim"
[[cluster]]
name = "serverless"
kind = "sim"
views = "sys"
)", dir_.Sub("fleetlog.toml"));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    auto session = LakeSession::Open(config_);
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    auto clock = std::make_shared<test::FixedClock>(ParseTimestamp("2025-06-18 12:00:00").value());
    CycleReport report = RunCycle((*session)->export_context(), [&](const ClusterConfig& c) -> Result<std::unique_ptr<Source>> {
      return MakeSimSource({.cluster = c.name, .seed = 3, .clock = clock});
    }, {});
    ASSERT_EQ(report.failed, 0);
    auto engine = QueryEngine::Open({.lake_root = config_.lake_path}, &(*session)->state());
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }

  int64_t Count(const std::string& sql) {
    auto r = engine_->Run(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? r->int64(0, 0) : -1;
  }

  test::TempDir dir_;
  Config config_;
  std::unique_ptr<QueryEngine> engine_;
};

TEST_F(FleetViewsTest, EachFamilyAppearsOnceWithItsOwnTablesCounts) {
  const int64_t stl = Count("SELECT count(*) FROM stl_query");
  const int64_t sys = Count("SELECT count(*) FROM sys_query_history");
  ASSERT_GT(stl, 0);
  ASSERT_GT(sys, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM fleet_queries WHERE family = 'stl' AND cluster = 'prov'"), stl);
  EXPECT_EQ(Count("SELECT count(*) FROM fleet_queries WHERE family = 'sys' AND cluster = 'serverless'"), sys);
  EXPECT_EQ(Count("SELECT count(*) FROM fleet_queries WHERE queue_us IS NULL AND family = 'sys'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM fleet_queries WHERE status NOT IN ('success', 'aborted', 'failed', "
                  "'canceled')"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM fleet_queries q JOIN stl_query s ON s.cluster = q.cluster AND s.query = "
                  "q.query_id WHERE q.family = 'stl' AND q.elapsed_us <> epoch_us(s.endtime) - epoch_us(s.starttime)"), 0);
  // Whole text: one row per query of each family, the pieces concatenated.
  EXPECT_EQ(Count("SELECT count(*) FROM fleet_query_text WHERE family = 'sys'"),
            Count("SELECT count(DISTINCT query_id) FROM sys_query_text"));
  EXPECT_EQ(Count("SELECT count(*) FROM fleet_query_text t JOIN sys_query_history h USING (cluster, query_id) "
                  "WHERE t.family = 'sys' AND left(t.text, 100) <> left(replace(h.query_text, '\\n', chr(10)), 100)"), 0);
  EXPECT_GT(Count("SELECT count(DISTINCT family) FROM fleet_alerts"), 1);
  EXPECT_GT(Count("SELECT count(DISTINCT family) FROM fleet_scans"), 1);
}

TEST_F(FleetViewsTest, AStatementNamingAViewGetsItsTablesOnly) {
  const std::string sql = "SELECT count(DISTINCT family) FROM fleet_queries";
  auto state = OpenSqliteStateStore(config_.state_path, OpenMode::kReadOnly);
  ASSERT_TRUE(state.ok());
  auto engine = QueryEngine::Open({.lake_root = config_.lake_path, .views_for_sql = sql}, state->get());
  ASSERT_TRUE(engine.ok());
  auto r = (*engine)->Run(sql);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->int64(0, 0), 2);
  EXPECT_FALSE((*engine)->Run("SELECT count(*) FROM stl_scan").ok()) << "not named, so no view";
}

}  // namespace
}  // namespace fleetlog
