#include "query/keeper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace fleetlog {
namespace {

using ::testing::ElementsAre;

TEST(TablesToKeepTest, TheSmallestFirstWhileTheirMemoryFits) {
  const std::vector<LakeTable> tables = {
      {.name = "stl_scan", .files = 9, .bytes = 1000},
      {.name = "stl_ddltext", .files = 9, .bytes = 10},   // kept as its statements
      {.name = "rollup_hourly", .files = 9, .bytes = 1},  // workload_hourly keeps its own
      {.name = "stl_query", .files = 9, .bytes = 100},
      {.name = "sys_query_text"},  // recorded columns, no files
      {.name = "stl_alert_event_log", .files = 9, .bytes = 10},
  };
  const int64_t ddl = 10 * kKeptTextBytesPerStoredByte, alerts = 10 * kKeptBytesPerStoredByte;
  EXPECT_THAT(TablesToKeep(tables, 0), ElementsAre());
  EXPECT_THAT(TablesToKeep(tables, ddl), ElementsAre("stl_ddltext"));
  EXPECT_THAT(TablesToKeep(tables, ddl + alerts - 1), ElementsAre("stl_ddltext"));
  EXPECT_THAT(TablesToKeep(tables, ddl + alerts), ElementsAre("stl_ddltext", "stl_alert_event_log"));
  EXPECT_THAT(TablesToKeep(tables, ddl + alerts + 100 * kKeptBytesPerStoredByte),
              ElementsAre("stl_ddltext", "stl_alert_event_log", "stl_query"));
  EXPECT_THAT(TablesToKeep(tables, 1LL << 40),
              ElementsAre("stl_ddltext", "stl_alert_event_log", "stl_query", "stl_scan"));
}

class KeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(duck::Database::OpenInMemory({})).value();
    conn_ = std::move(duck::Connection::Open(db_)).value();
    ASSERT_TRUE(conn_->Exec("CREATE VIEW v AS SELECT 1 AS x").ok());
  }
  std::string One(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->row_count() ? r->text(0, 0) : "<none>";
  }
  std::shared_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
};

TEST_F(KeeperTest, AJobStartsWhenNamedAndRepointsItsView) {
  Keeper keeper(
      db_, {{.name = "v",
             .names = {"v", "w"},
             .steps = {"CREATE TABLE v_kept AS SELECT 2 AS x", "CREATE OR REPLACE VIEW v AS SELECT * FROM v_kept"}}});
  EXPECT_TRUE(keeper.pending());
  keeper.Start({"u"});
  keeper.Wait();
  EXPECT_TRUE(keeper.pending());
  EXPECT_EQ(One("SELECT x FROM v"), "1");
  keeper.Start({"w"});
  EXPECT_FALSE(keeper.pending());
  keeper.Wait();
  EXPECT_TRUE(keeper.Done("v"));
  EXPECT_EQ(One("SELECT x FROM v"), "2");
}

TEST_F(KeeperTest, AFailedJobUndoesItsCopiesAndLeavesTheViewAsItWas) {
  Keeper keeper(db_, {{.name = "v",
                       .names = {"v"},
                       .steps = {"CREATE TABLE v_kept AS SELECT 2 AS x", "SELECT * FROM no_such_table",
                                 "CREATE OR REPLACE VIEW v AS SELECT * FROM v_kept"},
                       .undo = {"DROP TABLE IF EXISTS v_kept"}},
                      {.name = "w", .names = {"w"}, .steps = {"CREATE TABLE w_kept AS SELECT 3 AS x"}}});
  keeper.Start({}, /*all=*/true);
  keeper.Wait();
  EXPECT_FALSE(keeper.Done("v"));
  EXPECT_TRUE(keeper.Done("w"));  // the job after it ran
  EXPECT_EQ(One("SELECT x FROM v"), "1");
  EXPECT_EQ(One("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'v_kept'"), "0");
  // Why, once: the keeper's owner says it (a query worker cannot log).
  const std::vector<std::string> failures = keeper.TakeFailures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_TRUE(failures[0].starts_with("v: ")) << failures[0];
  EXPECT_NE(failures[0].find("no_such_table"), std::string::npos) << failures[0];
  EXPECT_EQ(keeper.TakeFailures(), std::vector<std::string>{});
}

TEST_F(KeeperTest, DestroyingTheKeeperEndsItsJob) {
  auto keeper = std::make_unique<Keeper>(
      db_,
      std::vector<KeepJob>{{.name = "v",
                            .names = {"v"},
                            .steps = {"CREATE TABLE big AS SELECT count(*) FROM range(1000000000) a, range(1000) b"}}});
  keeper->Start({"v"});
  keeper.reset();  // does not wait for the join of 10^12 rows
  EXPECT_EQ(One("SELECT 1"), "1");
}

}  // namespace
}  // namespace fleetlog
