// The SYS monitoring views of a Redshift Serverless stand-in (sys_fixture.h) through the real
// exporter and CLI: exactly once in the final state over many rounds with SIGKILLs, running
// queries visible live, `fleetlog check` on each problem and after its fix, each failure of one
// table alone with its fix named, and a long backfill past the statement timeout in parts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>

#include "integration/export_fixture.h"
#include "integration/sys_fixture.h"
#include "query/engine.h"

namespace fleetlog::integration {
namespace {

using ::testing::HasSubstr;

std::string Failures(const CycleReport& report) {
  std::string out;
  for (const auto& r : report.runs)
    if (r.status == RunStatus::kFailed) out += r.table + ": " + r.error + "\n";
  return out;
}

const RunRecord* RunFor(const CycleReport& report, const std::string& table) {
  for (const auto& r : report.runs)
    if (r.table == table) return &r;
  return nullptr;
}

class SysExportTest : public ExportFixture {
 protected:
  void SetUp() override {
    ExportFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    workload_ = std::make_unique<SysWorkload>(pg_, db_);
    start_ = Timestamp::FromMicros(Timestamp::Now().micros() / 60'000'000 * 60'000'000);
    ASSERT_TRUE(workload_->Create(start_).ok());
  }

  // One Serverless workgroup, c0, on the test database.
  Config ServerlessConfig(const std::string& export_section = "") {
    std::string text = ConfigText({db_}, "", export_section);
    const std::string kind = "kind = \"redshift\"";
    text.replace(text.find(kind), kind.size(), "kind = \"redshift-serverless\"");
    return MakeConfig(text);
  }

  test::ProcessResult Fleetlog(const Config& config, std::vector<std::string> args,
                               std::map<std::string, std::string> env = {}) const {
    args.insert(args.begin(), {"--config", config.file});
    env[kPasswordEnv] = PgHarness::kPassword;
    return test::RunFleetlog(args, {.env = env});
  }

  // (rows in a non-terminal status, query ids held more than once) in the lake's sys_query_history.
  std::pair<int64_t, int64_t> LakeHistoryFaults(const Config& config) const {
    auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
    if (!state.ok()) return {0, 0};
    auto engine = QueryEngine::Open({.lake_root = config.lake_path}, state->get());
    EXPECT_TRUE(engine.ok());
    if (!engine.ok()) return {-1, -1};
    auto r = (*engine)->Run(
        "SELECT count(*) FILTER (WHERE status NOT IN ('success', 'failed', 'canceled')), count(*) - count(DISTINCT "
        "query_id) FROM sys_query_history");
    if (!r.ok()) return {0, 0};  // no rows exported yet
    return {r->int64(0, 0), r->int64(1, 0)};
  }

  std::unique_ptr<SysWorkload> workload_;
  Timestamp start_;
};

TEST_F(SysExportTest, EveryTableEqualsTheSourcesFinalStateAfterRoundsWithSigkills) {
  Config config = ServerlessConfig();
  const char* points[] = {"mid-stage", "before-commit", "after-commit", "mid-publish", "after-publish"};
  for (int round = 0; round < 12; ++round) {
    ASSERT_TRUE(workload_->SetClock(start_ + Duration::Minutes(10) * round).ok());
    ASSERT_TRUE(workload_->Round().ok());
    const std::string crash = fmt::format("{}:{}", points[round % 5], 1 + round % 3);
    auto killed = Fleetlog(config, {"export"}, {{"FLEETLOG_CRASH_AT", crash}});
    EXPECT_EQ(killed.signal, SIGKILL) << crash << ": " << killed.err;
    if (round % 2 == 1) {
      auto clean = Fleetlog(config, {"export"});
      EXPECT_EQ(clean.exit_code, 0) << clean.err;
    }
    // At every point: nothing in a non-terminal state, no query twice.
    const auto [live, twice] = LakeHistoryFaults(config);
    EXPECT_EQ(live, 0) << "round " << round;
    EXPECT_EQ(twice, 0) << "round " << round;
    if (round == 5) {  // running queries stay visible, live from the source
      auto running = Fleetlog(config, {"running", "--json"});
      ASSERT_EQ(running.exit_code, 0) << running.err;
      auto still = workload_->RunningQueries();
      ASSERT_TRUE(still.ok());
      EXPECT_GT(*still, 0);
      EXPECT_EQ(static_cast<int>(nlohmann::json::parse(running.out).size()), *still) << running.out;
    }
  }
  // Everything finishes; two hours on, every usage minute is past its settle.
  ASSERT_TRUE(workload_->FinishAll().ok());
  ASSERT_TRUE(workload_->SetClock(start_ + Duration::Minutes(10) * 12 + Duration::Hours(2)).ok());
  for (int i = 0; i < 2; ++i) {
    auto clean = Fleetlog(config, {"export"});
    ASSERT_EQ(clean.exit_code, 0) << clean.err;
  }
  ExpectLakeEqualsSource(config, "c0", db_);
  auto left = workload_->RunningQueries();
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 0);

  // Text over 64 KB comes back whole from its 4000-character pieces.
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  ASSERT_TRUE(state.ok());
  auto engine = QueryEngine::Open({.lake_root = config.lake_path}, state->get());
  ASSERT_TRUE(engine.ok());
  auto text = (*engine)->Run("SELECT length(text), pieces FROM fleet_query_text WHERE family = 'sys' AND query_id = 105");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  ASSERT_EQ(text->row_count(), 1u);
  EXPECT_GT(text->int64(0, 0), 64 * 1024);
  EXPECT_EQ(text->int64(1, 0), 18);
  auto statuses = (*engine)->Run("SELECT status, count(*) FROM fleet_queries GROUP BY ALL ORDER BY 1");
  ASSERT_TRUE(statuses.ok()) << statuses.status().ToString();
  ASSERT_EQ(statuses->row_count(), 3u);  // canceled, failed, success
  EXPECT_EQ(statuses->text(0, 0), "canceled");
  EXPECT_EQ(statuses->text(0, 1), "failed");
}

TEST_F(SysExportTest, CheckReportsEachProblemWithItsFixAndPassesOnceFixed) {
  ASSERT_TRUE(pg_->Exec(db_, R"sql(
    CREATE TABLE public.pg_user_info (usename name, syslogaccess text);
    INSERT INTO public.pg_user_info VALUES ('fleetlog', 'RESTRICTED');
    CREATE TABLE public.svv_user_grants (user_name text, role_name text);
    ALTER TABLE sys_unload_history RENAME TO sys_unload_history_gone;)sql").ok());
  ASSERT_TRUE(workload_->SetClock(Timestamp::Now() + Duration::Hours(2)).ok());
  Config config = ServerlessConfig();

  auto bad = Fleetlog(config, {"check", "--json"});
  ASSERT_EQ(bad.exit_code, 1) << bad.err;
  std::map<std::string, std::pair<bool, std::string>> found;
  const nlohmann::json report = nlohmann::json::parse(bad.out);
  for (const auto& item : report.at(0).at("items"))
    found[item.at("check").get<std::string>()] = {item.at("problem").get<bool>(), item.at("detail").get<std::string>()};
  EXPECT_TRUE(found["visibility"].first) << bad.out;
  EXPECT_THAT(found["visibility"].second, HasSubstr("GRANT ROLE \"sys:monitor\" TO fleetlog"));
  EXPECT_TRUE(found["sys_unload_history"].first);
  EXPECT_THAT(found["sys_unload_history"].second, HasSubstr("does not exist"));
  EXPECT_TRUE(found["clock"].first);
  EXPECT_THAT(found["clock"].second, HasSubstr("ahead of"));
  EXPECT_FALSE(found["sys_query_history"].first) << found["sys_query_history"].second;
  EXPECT_FALSE(found.count("stl_query") && found["stl_query"].first);

  ASSERT_TRUE(pg_->Exec(db_, R"sql(
    INSERT INTO public.svv_user_grants VALUES ('fleetlog', 'sys:monitor');
    ALTER TABLE sys_unload_history_gone RENAME TO sys_unload_history;)sql").ok());
  ASSERT_TRUE(workload_->SetClock(Timestamp::Now()).ok());
  auto good = Fleetlog(config, {"check"});
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_THAT(good.out, HasSubstr("role sys:monitor"));
}

TEST_F(SysExportTest, MissingViewPermissionAndChangedColumnsEachFailTheirTableAlone) {
  ASSERT_TRUE(workload_->Round().ok());
  ASSERT_TRUE(workload_->SetClock(start_ + Duration::Minutes(10)).ok());
  ASSERT_TRUE(workload_->Round().ok());  // the first session closes
  ASSERT_TRUE(pg_->Exec(db_, fmt::format("ALTER TABLE sys_unload_history RENAME TO sys_unload_history_gone; "
                                         "REVOKE SELECT ON sys_connection_log FROM {};",
                                         PgHarness::kUser)).ok());
  Config config = ServerlessConfig();
  CycleReport first = Cycle(config);
  EXPECT_EQ(first.failed, 2) << Failures(first);
  ASSERT_NE(RunFor(first, "sys_unload_history"), nullptr);
  EXPECT_THAT(RunFor(first, "sys_unload_history")->error, HasSubstr("views = \"sys\""));
  ASSERT_NE(RunFor(first, "sys_connection_log"), nullptr);
  EXPECT_THAT(RunFor(first, "sys_connection_log")->error, HasSubstr("sys:monitor"));
  EXPECT_EQ(RunFor(first, "sys_query_history")->status, RunStatus::kOk);
  EXPECT_EQ(RunFor(first, "sys_session_history")->status, RunStatus::kOk);

  // The missing view comes back; another changes a column's type, a third renames its cursor.
  ASSERT_TRUE(pg_->Exec(db_, "ALTER TABLE sys_unload_history_gone RENAME TO sys_unload_history; "
                             "ALTER TABLE sys_session_history ALTER COLUMN session_timeout TYPE text; "
                             "ALTER TABLE sys_transaction_history RENAME COLUMN transaction_start_time TO started").ok());
  ASSERT_TRUE(workload_->SetClock(start_ + Duration::Minutes(20)).ok());
  ASSERT_TRUE(workload_->Round().ok());  // the second session closes, its timeout now text
  CycleReport second = Cycle(config);
  EXPECT_EQ(second.failed, 3) << Failures(second);
  EXPECT_EQ(RunFor(second, "sys_unload_history")->status, RunStatus::kOk);
  EXPECT_THAT(RunFor(second, "sys_session_history")->error,
              HasSubstr("session_timeout of sys_session_history is INTEGER in the lake but the source now returns VARCHAR"));
  EXPECT_THAT(RunFor(second, "sys_transaction_history")->error, HasSubstr("fleetlog check"));
  EXPECT_EQ(RunFor(second, "sys_query_history")->status, RunStatus::kOk);
  EXPECT_GT(RunFor(second, "sys_query_history")->rows_written, 0);
}

class PartsTest : public ExportFixture {};

TEST_F(PartsTest, SevenDayBackfillPastTheStatementTimeoutCompletesInParts) {
  // 1400 queries over the last seven days; the view takes 5 ms per row it returns, so the
  // whole window takes 7 s against a 2 s statement timeout.
  InsertQueries(db_, 1, 1400, "getdate() - interval '7 days' + q * interval '7 minutes'",
                "getdate() - interval '7 days' + q * interval '7 minutes' - interval '5 seconds'");
  ASSERT_TRUE(pg_->Exec(db_, R"sql(
    ALTER TABLE stl_query RENAME TO stl_query_data;
    CREATE FUNCTION slow_int(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE
      AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN i; END $$;
    CREATE VIEW stl_query AS SELECT userid, slow_int(query) AS query, label, xid, pid, database, querytxt, starttime,
      endtime, aborted, insert_pristine, concurrency_scaling_status FROM stl_query_data;)sql").ok());
  Config config = MakeConfig(ConfigText({db_}, "", "tables = [\"stl_query\"]\nstatement_timeout = \"2s\"\npart = \"7d\""));
  auto run = test::RunFleetlog({"--config", config.file, "export"}, {.env = {{kPasswordEnv, PgHarness::kPassword}}});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("timed out; retrying in parts of 3d12h"));
  EXPECT_THAT(run.err, HasSubstr("committed up to"));
  const auto source = SourceRows(db_, "stl_query");
  EXPECT_EQ(source.size(), 1400u);
  EXPECT_EQ(LakeRows(config, "c0", "stl_query"), source);
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  ASSERT_TRUE(state.ok());
  auto runs = (*state)->RecentRuns(100, "c0");
  ASSERT_TRUE(runs.ok());
  int parts = 0;
  for (const auto& r : *runs) parts += r.status == RunStatus::kOk && r.table == "stl_query" ? 1 : 0;
  EXPECT_GE(parts, 4);
}

}  // namespace
}  // namespace fleetlog::integration
