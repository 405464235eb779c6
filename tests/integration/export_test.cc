// The export engine against a real PostgreSQL server standing in for Redshift: exactly-once
// export over many cycles (late rows, ties at the window edge, long text, empty windows, a
// table added mid-run), crashes at every commit step, a cluster going down, and each error a
// user can meet, by outcome and message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "exporter/writer.h"
#include "integration/export_fixture.h"
#include "query/engine.h"
#include "secrets/secret_store.h"

namespace fleetlog::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::optional<Timestamp> CursorOf(const Config& config, const std::string& cluster, const std::string& table) {
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  if (!state.ok()) return std::nullopt;
  auto c = (*state)->GetCursor(cluster, table);
  return c.ok() ? *c : std::nullopt;
}

const RunRecord* RunFor(const CycleReport& report, const std::string& cluster, const std::string& table) {
  for (const auto& r : report.runs)
    if (r.cluster == cluster && r.table == table) return &r;
  return nullptr;
}

class ExportTest : public ExportFixture {};

TEST_F(ExportTest, LakeHoldsExactlyTheSourceRowsAfterManyCycles) {
  // Start without stl_scan: it is added mid-run and must backfill.
  const std::string seven = "tables = [\"stl_query\", \"stl_querytext\", \"stl_explain\", \"stl_wlm_query\", "
                            "\"stl_alert_event_log\", \"stl_ddltext\", \"stl_utilitytext\"]";
  Config config = MakeConfig(ConfigText({db_}, "", seven));
  // Ordinary queries over the last hours, and many rows sharing one end time.
  InsertQueries(db_, 1, 200, "getdate() - interval '3 hours' + q * interval '30 seconds'",
                "getdate() - interval '3 hours' + q * interval '30 seconds' - interval '5 seconds'");
  InsertQueries(db_, 1000, 150, "date_trunc('second', getdate()) - interval '20 seconds'",
                "date_trunc('second', getdate()) - interval '25 seconds'");
  CycleReport first = Cycle(config);
  ASSERT_EQ(first.failed, 0);
  auto cursor = CursorOf(config, "c0", "stl_query");
  ASSERT_TRUE(cursor.has_value());

  // Late rows: a query that ran for hours finishing now, and rows that show up only after the
  // cycle with end times at and just below the old cursor (inside the lookback).
  InsertQueries(db_, 2000, 1, "getdate() - interval '2 seconds'", "getdate() - interval '5 hours'");
  const std::string at_cursor = fmt::format("'{}'::timestamp", FormatTimestamp(*cursor));
  InsertQueries(db_, 3000, 40, at_cursor, at_cursor + " - interval '1 minute'");
  InsertQueries(db_, 4000, 40, at_cursor + " - interval '1 microsecond'", at_cursor + " - interval '2 minutes'");
  const std::string long_text = InsertLongText(db_, 5000, 400);  // 80 KB in 200-character pieces
  ASSERT_EQ(Cycle(config).failed, 0);

  // An empty window is an ordinary success and moves the cursor.
  CycleReport empty = Cycle(config);
  ASSERT_EQ(empty.failed, 0);
  const RunRecord* q = RunFor(empty, "c0", "stl_query");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->rows_written, 0);
  EXPECT_GT(*CursorOf(config, "c0", "stl_query"), *cursor);

  // stl_scan joins the export; its first run backfills everything.
  config = MakeConfig(ConfigText({db_}));
  InsertQueries(db_, 6000, 30, "getdate() - interval '3 seconds'", "getdate() - interval '4 seconds'");
  CycleReport fourth = Cycle(config);
  ASSERT_EQ(fourth.failed, 0);
  ASSERT_NE(RunFor(fourth, "c0", "stl_scan"), nullptr);
  ASSERT_EQ(Cycle(config).failed, 0);

  ExpectLakeEqualsSource(config, "c0", db_);

  // The long statement comes back whole, newlines decoded, through the reassembly view.
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  ASSERT_TRUE(state.ok());
  auto engine = QueryEngine::Open({.lake_root = config.lake_path}, state->get());
  ASSERT_TRUE(engine.ok());
  auto text = (*engine)->Run("SELECT rtrim(text), pieces FROM stl_querytext_full WHERE query = 5000");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  ASSERT_EQ(text->row_count(), 1u);
  EXPECT_EQ(text->text(0, 0), long_text);
  EXPECT_EQ(text->text(1, 0), "400");
  EXPECT_GT(long_text.size(), 64u * 1024);
}

TEST_F(ExportTest, SigkillAtEveryCommitStepLosesAndDoublesNothing) {
  Config config = MakeConfig(ConfigText({db_}));
  const char* points[] = {"mid-stage", "before-commit", "after-commit", "mid-publish", "after-publish"};
  int next_query = 1;
  for (int round = 0; round < 10; ++round) {
    InsertQueries(db_, next_query, 25, "getdate() - interval '3 seconds' - (q % 5) * interval '1 second'",
                  "getdate() - interval '1 hour'");
    next_query += 25;
    const std::string crash = fmt::format("{}:{}", points[round % 5], 1 + round % 3);
    auto killed = test::RunFleetlog({"--config", config.file, "export"},
                                    {.env = {{"FLEETLOG_CRASH_AT", crash}, {kPasswordEnv, PgHarness::kPassword}}});
    EXPECT_EQ(killed.signal, SIGKILL) << crash << ": " << killed.err;
    if (round % 2 == 1) {  // sometimes the next export runs clean before the next crash
      auto clean = test::RunFleetlog({"--config", config.file, "export"}, {.env = {{kPasswordEnv, PgHarness::kPassword}}});
      EXPECT_EQ(clean.exit_code, 0) << clean.err;
    }
  }
  auto last = test::RunFleetlog({"--config", config.file, "export"}, {.env = {{kPasswordEnv, PgHarness::kPassword}}});
  ASSERT_EQ(last.exit_code, 0) << last.err;
  ExpectLakeEqualsSource(config, "c0", db_);
  EXPECT_TRUE(test::ListFilesUnder(config.lake_path + "/_fleetlog/staging").empty());
}

TEST_F(ExportTest, AClusterThatGoesDownFailsAloneAndCatchesUpAfterRestart) {
  // c0 is the PostgreSQL stand-in; "sim-ok" is a simulated cluster that keeps committing.
  Config config = MakeConfig(ConfigText({db_}, "[[cluster]]\nname = \"sim-ok\"\nkind = \"sim\"\n",
                                        "initial_backfill = \"3h\""));
  InsertQueries(db_, 1, 50, "getdate() - interval '10 minutes' + q * interval '1 second'", "getdate() - interval '1 hour'");
  // The server stops in the middle of c0's cycle: after its first table.
  bool stopped = false;
  CycleReport down = Cycle(config, {.on_run = [&](const RunRecord& r) {
    if (r.cluster == "c0" && !stopped) {
      stopped = true;
      ASSERT_TRUE(pg_->Stop().ok());
    }
  }});
  ASSERT_TRUE(stopped);
  int c0_failed = 0, sim_ok = 0;
  for (const auto& r : down.runs) {
    if (r.cluster == "c0" && r.status == RunStatus::kFailed) {
      ++c0_failed;
      EXPECT_THAT(r.error, HasSubstr("c0"));
    }
    if (r.cluster == "sim-ok" && r.status == RunStatus::kOk) ++sim_ok;
  }
  EXPECT_GT(c0_failed, 0);
  EXPECT_EQ(sim_ok, 8) << "the simulated cluster must commit while c0 is down";
  ASSERT_TRUE(pg_->Start().ok());
  InsertQueries(db_, 100, 20, "getdate() - interval '2 seconds'", "getdate() - interval '3 seconds'");
  EXPECT_EQ(Cycle(config).failed, 0);
  ExpectLakeEqualsSource(config, "c0", db_);
}

TEST_F(ExportTest, CustomQueryIsExportedExactlyOnce) {
  ASSERT_TRUE(pg_->Exec(db_, "CREATE TABLE sales (salesid int, amount float8, sale_timestamp timestamp, note varchar(20));"
                             "GRANT SELECT ON sales TO fleetlog;"
                             "INSERT INTO sales SELECT g, g * 1.5, getdate() - g * interval '1 minute', 'n' || g "
                             "FROM generate_series(1, 100) g;").ok());
  Config config = MakeConfig(ConfigText({db_}, R"toml(
[[custom]]
name = "big_sales"
cluster = "c0"
sql = "select * from sales where amount > 30;"
cursor = "sale_timestamp"
key = ["salesid"]
)toml", "tables = [\"stl_query\"]"));
  ASSERT_EQ(Cycle(config).failed, 0);
  ASSERT_TRUE(pg_->Exec(db_, "INSERT INTO sales VALUES (500, 99.5, getdate() - interval '2 seconds', 'late')").ok());
  ASSERT_EQ(Cycle(config).failed, 0);
  ASSERT_EQ(Cycle(config).failed, 0);
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  auto engine = QueryEngine::Open({.lake_root = config.lake_path}, state->get());
  ASSERT_TRUE(engine.ok());
  auto r = (*engine)->Run("SELECT count(*), count(DISTINCT salesid), min(amount), sum(amount) FROM big_sales");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text(0, 0), "81");  // salesid 20..100 plus 500
  EXPECT_EQ(r->text(1, 0), "81");
  EXPECT_EQ(r->text(2, 0), "31.5") << "amount > 30 means 21 * 1.5 = 31.5 is the least";
}

TEST_F(ExportTest, SchemaDriftAddsTheNewColumn) {
  Config config = MakeConfig(ConfigText({db_}, "", "tables = [\"stl_query\"]"));
  InsertQueries(db_, 1, 10, "getdate() - interval '1 minute'", "getdate() - interval '2 minutes'");
  ASSERT_EQ(Cycle(config).failed, 0);
  ASSERT_TRUE(pg_->Exec(db_, "ALTER TABLE stl_query ADD COLUMN result_cache_hit boolean;"
                             "UPDATE stl_query SET result_cache_hit = NULL;").ok());
  ASSERT_TRUE(pg_->Exec(db_, "INSERT INTO stl_query SELECT 100, 77, 'l', 1, 1, 'dev', 'select 77', getdate() - interval "
                             "'3 seconds', getdate() - interval '2 seconds', 0, 0, 0, true").ok());
  ASSERT_EQ(Cycle(config).failed, 0);
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  auto engine = QueryEngine::Open({.lake_root = config.lake_path}, state->get());
  auto r = (*engine)->Run("SELECT count(*) FILTER (WHERE result_cache_hit), count(*) FILTER (WHERE result_cache_hit IS NULL) "
                          "FROM stl_query");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text(0, 0), "1");
  EXPECT_EQ(r->text(1, 0), "10");
}

TEST_F(ExportTest, MissingColumnIsExportedAsNull) {
  ASSERT_TRUE(pg_->Exec(db_, "ALTER TABLE stl_query DROP COLUMN insert_pristine").ok());
  Config config = MakeConfig(ConfigText({db_}, "", "tables = [\"stl_query\"]"));
  ASSERT_TRUE(pg_->Exec(db_, "INSERT INTO stl_query (userid, query, label, xid, pid, database, querytxt, starttime, endtime, "
                             "aborted, concurrency_scaling_status) VALUES (1, 1, 'l', 1, 1, 'dev', 'q', getdate() - "
                             "interval '9 seconds', getdate() - interval '8 seconds', 0, 0)").ok());
  ASSERT_EQ(Cycle(config).failed, 0);
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  auto engine = QueryEngine::Open({.lake_root = config.lake_path}, state->get());
  auto r = (*engine)->Run("SELECT count(*) FROM stl_query WHERE insert_pristine IS NULL");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text(0, 0), "1");
}

TEST_F(ExportTest, WrongPasswordFailsWithAClearMessageAndNoSecret) {
  Config config = MakeConfig(ConfigText({db_}, "", "tables = [\"stl_query\"]"));
  setenv(kPasswordEnv, "not-the-password-xyzzy", 1);
  CycleReport report = Cycle(config);
  ASSERT_EQ(report.failed, 1);
  EXPECT_THAT(report.runs[0].error, HasSubstr("password"));
  EXPECT_THAT(report.runs[0].error, Not(HasSubstr("xyzzy")));
  EXPECT_THAT(report.runs[0].error, HasSubstr("c0"));
}

TEST_F(ExportTest, MissingTableFailsAloneWhileTheOthersCommit) {
  InsertQueries(db_, 1, 5, "getdate() - interval '5 seconds'", "getdate() - interval '6 seconds'");
  ASSERT_TRUE(pg_->Exec(db_, "DROP TABLE stl_explain").ok());
  Config config = MakeConfig(ConfigText({db_}));
  CycleReport report = Cycle(config);
  EXPECT_EQ(report.failed, 1);
  const RunRecord* explain = RunFor(report, "c0", "stl_explain");
  ASSERT_NE(explain, nullptr);
  EXPECT_EQ(explain->status, RunStatus::kFailed);
  EXPECT_THAT(explain->error, HasSubstr("stl_explain"));
  EXPECT_THAT(explain->error, HasSubstr("does not exist"));
  EXPECT_EQ(RunFor(report, "c0", "stl_query")->status, RunStatus::kOk);
  EXPECT_EQ(RunFor(report, "c0", "stl_query")->rows_written, 5);
}

TEST_F(ExportTest, StatementTimeoutFailsTheTableWithTheLimitInTheMessage) {
  Config config = MakeConfig(ConfigText({db_}, R"toml(
[[custom]]
name = "slow"
cluster = "c0"
sql = "select getdate() - interval '5 seconds' as t, 1 as k from pg_sleep(5)"
cursor = "t"
key = ["k"]
)toml", "tables = [\"stl_query\"]\nstatement_timeout = \"1s\""));
  CycleReport report = Cycle(config);
  const RunRecord* slow = RunFor(report, "c0", "slow");
  ASSERT_NE(slow, nullptr);
  EXPECT_EQ(slow->status, RunStatus::kFailed);
  EXPECT_THAT(slow->error, HasSubstr("1s"));
  EXPECT_EQ(RunFor(report, "c0", "stl_query")->status, RunStatus::kOk);
}

TEST_F(ExportTest, NoSecretInLogsStatusErrorsOrTheProcessList) {
  Config config = MakeConfig(ConfigText({db_}, "", "tables = [\"stl_query\"]"));
  // The password goes into the secret store; the config names it with password_secret.
  std::string text = ConfigText({db_}, "", "tables = [\"stl_query\"]");
  const std::string env_line = fmt::format("password_env = \"{}\"", kPasswordEnv);
  text.replace(text.find(env_line), env_line.size(), "password_secret = \"c0-pw\"");
  config = MakeConfig(text);
  const std::string secret = PgHarness::kPassword;
  auto init_key = MasterKey::Create(config.key_file);
  ASSERT_TRUE(init_key.ok());
  auto set = test::RunFleetlog({"--config", config.file, "secrets", "set", "c0-pw"}, {.stdin_data = secret + "\n"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  InsertQueries(db_, 1, 5, "getdate() - interval '5 seconds'", "getdate() - interval '6 seconds'");
  auto ok = test::RunFleetlog({"--config", config.file, "export", "--json"}, {.unset_env = {kPasswordEnv}});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // A wrong password: the failure message names the problem, never the value.
  auto reset = test::RunFleetlog({"--config", config.file, "secrets", "set", "c0-pw"}, {.stdin_data = "wrong-pw-plugh\n"});
  ASSERT_EQ(reset.exit_code, 0);
  auto bad = test::RunFleetlog({"--config", config.file, "export"}, {.unset_env = {kPasswordEnv}});
  EXPECT_EQ(bad.exit_code, 1);
  auto status = test::RunFleetlog({"--config", config.file, "status", "--json"});
  auto list = test::RunFleetlog({"--config", config.file, "secrets", "list"});
  EXPECT_THAT(list.out, HasSubstr("c0-pw"));
  for (const auto* out : {&ok.out, &ok.err, &bad.out, &bad.err, &status.out, &status.err, &list.out}) {
    EXPECT_THAT(*out, Not(HasSubstr(secret)));
    EXPECT_THAT(*out, Not(HasSubstr("plugh")));
  }
  EXPECT_THAT(status.out, HasSubstr("password"));  // the last error says what went wrong
  // The process list: a running fleetlog holds the secret in neither argv nor environ.
  auto run = test::RunProcess({"/bin/sh", "-c", fmt::format("{} --config {} run & pid=$!; sleep 2; "
                                                            "cat /proc/$pid/cmdline /proc/$pid/environ | tr '\\0' ' '; "
                                                            "kill -TERM $pid; wait $pid",
                                                            test::FleetlogBinary(), config.file)},
                              {.unset_env = {kPasswordEnv}});
  EXPECT_THAT(run.out, HasSubstr("run"));
  EXPECT_THAT(run.out, Not(HasSubstr(secret)));
  EXPECT_THAT(run.out, Not(HasSubstr("plugh")));
}

}  // namespace
}  // namespace fleetlog::integration
