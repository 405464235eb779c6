// The evaluator over a real lake: SQL rules fire per group and resolve, a rule whose SQL
// fails is broken (not firing, not resolving), health rules read the export state, every
// transition lands in the lake table alert_events, and `fleetlog alerts` shows it all.
#include "alert/alert_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "query/engine.h"
#include "test_util.h"

namespace fleetlog::alert {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const TableSchema kSlowSchema = {{"id", ColumnType::kInt64}, {"seconds", ColumnType::kDouble}, {"at", ColumnType::kTimestamp}};
const TableSchema kAnomalySchema = {{"bucket_start", ColumnType::kTimestamp}, {"score", ColumnType::kDouble},
                                    {"grade", ColumnType::kDouble}, {"attribution", ColumnType::kVarchar}};

class AlertEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_path_ = test::WriteMinimalConfig(dir_.path(), R"(
[export]
tables = ["stl_query"]

[[cluster]]
name = "c1"
kind = "sim"

[[cluster]]
name = "c2"
kind = "sim"

[[alert]]
name = "slow"
source = "sql"
sql = "SELECT cluster, arg_max(seconds, id) AS value FROM slow GROUP BY cluster"
threshold = 60
severity = "critical"
summary = "slowest statement {value}s on {labels.cluster}"

[[alert]]
name = "typo"
source = "sql"
sql = "SELECT cluster, max(secnds) AS value FROM slow GROUP BY cluster"
threshold = 1

[[alert]]
name = "failing"
source = "failing_tables"
threshold = 1

[[alert]]
name = "workload"
source = "anomaly"
)");
    auto config = LoadConfig(config_path_);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    auto session = LakeSession::Open(config_);
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    session_ = std::move(session).value();
  }

  void WriteSlow(const std::string& cluster, int64_t id, double seconds) {
    RowBatch rows(kSlowSchema);
    rows.column(0).AppendInt(id);
    rows.column(1).AppendDouble(seconds);
    rows.column(2).AppendInt(T(0).micros());
    auto w = test::WriteToLake(session_->state(), session_->lake(),
                               {.table = "slow", .cluster = cluster, .cursor_column = "at", .keys = {"id"}}, rows);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
  }

  // One bucket of the detector's `anomalies` table (as detect/fleet_detector.h writes it).
  void WriteBucket(const std::string& cluster, int minutes, double grade, const std::string& attribution) {
    RowBatch rows(kAnomalySchema);
    rows.column(0).AppendInt(T(minutes).micros());
    rows.column(1).AppendDouble(grade > 0 ? 3 : 0.6);
    rows.column(2).AppendDouble(grade);
    rows.column(3).AppendString(attribution);
    auto w = test::WriteToLake(session_->state(), session_->lake(),
                               {.table = "anomalies", .cluster = cluster, .cursor_column = "bucket_start", .keys = {"bucket_start"}},
                               rows);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
  }

  static Timestamp T(int minutes) { return Timestamp::FromMicros(1'790'000'000'000'000) + Duration::Minutes(minutes); }

  std::vector<std::string> Events() {
    auto engine = QueryEngine::Open({.lake_root = config_.lake_path, .threads = 1}, &session_->state());
    EXPECT_TRUE(engine.ok());
    auto r = (*engine)->Run("SELECT rule || ' ' || kind || ' ' || labels || ' ' || cluster FROM alert_events ORDER BY event_time, rule, labels, kind DESC");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    for (size_t i = 0; r.ok() && i < r->row_count(); ++i) out.push_back(r->text(0, i));
    return out;
  }

  test::TempDir dir_;
  std::string config_path_;
  Config config_;
  std::unique_ptr<LakeSession> session_;
};

TEST_F(AlertEngineTest, SqlRuleFiresPerGroupBrokenRuleIsReportedAndEverythingIsRecorded) {
  WriteSlow("c1", 1, 90);
  WriteSlow("c2", 2, 10);
  AlertEngine engine(session_->config(), nullptr);
  auto first = engine.Evaluate(*session_, T(0));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->rules, 4);
  ASSERT_EQ(first->broken.size(), 1u);
  EXPECT_THAT(first->broken[0], HasSubstr("typo: "));
  EXPECT_THAT(first->broken[0], HasSubstr("secnds"));

  auto book = LoadBook(session_->state());
  ASSERT_TRUE(book.ok());
  ASSERT_EQ(book->instances.size(), 1u);
  EXPECT_EQ(book->instances[0].rule, "slow");
  EXPECT_EQ(book->instances[0].state, InstanceState::kFiring);
  EXPECT_EQ(book->instances[0].labels.at("cluster"), "c1");
  EXPECT_EQ(book->broken.count("typo"), 1u);

  // c2 gets slow too; c1 recovers. The broken rule is not re-recorded while its error stays.
  WriteSlow("c2", 3, 120);
  WriteSlow("c1", 4, 1);
  auto second = engine.Evaluate(*session_, T(5));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(Events(), (std::vector<std::string>{
                          "slow pending cluster=c1 c1", "slow firing cluster=c1 c1", "typo broken  fleetlog",
                          "slow resolved cluster=c1 c1", "slow pending cluster=c2 c2", "slow firing cluster=c2 c2"}));

  auto cli = test::RunFleetlog({"--config", config_path_, "alerts", "--json"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const auto listed = nlohmann::json::parse(cli.out);
  ASSERT_EQ(listed["alerts"].size(), 1u);
  EXPECT_EQ(listed["alerts"][0]["labels"]["cluster"], "c2");
  EXPECT_EQ(listed["alerts"][0]["state"], "firing");
  ASSERT_EQ(listed["broken_rules"].size(), 1u);
  EXPECT_EQ(listed["broken_rules"][0]["rule"], "typo");

  // The CLI's common --format: the same document as --json, and the instances as CSV.
  auto as_json = test::RunFleetlog({"--config", config_path_, "alerts", "--format", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(nlohmann::json::parse(as_json.out)["alerts"], listed["alerts"]);
  auto csv = test::RunFleetlog({"--config", config_path_, "alerts", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, testing::StartsWith("rule,state,labels,value,active_since,attribution\n"));
  EXPECT_THAT(csv.out, HasSubstr("slow,firing,cluster=c2,"));
  EXPECT_THAT(csv.out, Not(HasSubstr("typo")));  // broken rules are in the table and JSON, not the CSV
  auto table = test::RunFleetlog({"--config", config_path_, "alerts", "--format", "table"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("BROKEN rule typo"));
  EXPECT_EQ(test::RunFleetlog({"--config", config_path_, "alerts", "--format", "yaml"}).exit_code, 2);
}

// The anomaly rule sees each cluster's latest grade (the calibrated alert source), fires per
// cluster with the metrics that drove it, and resolves.
TEST_F(AlertEngineTest, AnomalyRuleFiresOnTheLatestAnomalousBucketPerCluster) {
  AlertEngine engine(session_->config(), nullptr);
  WriteBucket("c1", 0, 0, "");
  WriteBucket("c2", 0, 0.9, "query_count low (88%)");
  WriteBucket("c2", 5, 0, "");
  auto quiet = engine.Evaluate(*session_, T(6), {"workload"});
  ASSERT_TRUE(quiet.ok()) << quiet.status().ToString();
  EXPECT_TRUE(quiet->transitions.empty()) << "an anomalous bucket that has passed is not an alert";

  WriteBucket("c1", 5, 0.7, "queue_wait_s high (85%)");
  auto fired = engine.Evaluate(*session_, T(7), {"workload"});
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  ASSERT_EQ(fired->transitions.size(), 2u);  // pending and firing at once: no `for`
  EXPECT_EQ(fired->transitions[1].kind, TransitionKind::kFiring);
  EXPECT_EQ(fired->transitions[1].labels.at("cluster"), "c1");
  EXPECT_DOUBLE_EQ(fired->transitions[1].value, 0.7);
  EXPECT_EQ(fired->transitions[1].annotations.at("attribution"), "queue_wait_s high (85%)");

  WriteBucket("c1", 10, 0, "");
  ASSERT_TRUE(engine.Evaluate(*session_, T(11), {"workload"}).ok());
  EXPECT_EQ(Events(), (std::vector<std::string>{"workload pending cluster=c1 c1", "workload firing cluster=c1 c1",
                                                "workload resolved cluster=c1 c1"}));
}

TEST_F(AlertEngineTest, SilenceFromTheCliMarksTransitionsAndHealthRuleFires) {
  auto silence = test::RunFleetlog({"--config", config_path_, "alerts", "silence", "--rule", "failing", "--match",
                                    "cluster=c2", "--for", "2h", "--comment", "maintenance"});
  ASSERT_EQ(silence.exit_code, 0) << silence.err;
  const std::string id = silence.out.substr(0, silence.out.find('\n'));
  auto unknown = test::RunFleetlog({"--config", config_path_, "alerts", "silence", "--rule", "nope", "--for", "1h"});
  EXPECT_EQ(unknown.exit_code, 2);

  const Timestamp now = Timestamp::Now();
  for (const char* cluster : {"c1", "c2"})
    for (int i = 0; i < 2; ++i)
      ASSERT_TRUE(session_->state().RecordRun({.cluster = cluster, .table = "stl_query", .started_at = now,
                                               .finished_at = now, .status = RunStatus::kFailed, .error = "refused"}).ok());
  AlertEngine engine(session_->config(), nullptr);
  auto report = engine.Evaluate(*session_, now, {"failing"});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::map<std::string, std::string> silenced_by;
  for (const auto& t : report->transitions)
    if (t.kind == TransitionKind::kFiring) silenced_by[t.labels.at("cluster")] = t.silenced_by;
  ASSERT_EQ(silenced_by.size(), 2u);
  EXPECT_EQ(silenced_by["c1"], "");
  EXPECT_EQ(silenced_by["c2"], id);

  auto listed = test::RunFleetlog({"--config", config_path_, "alerts"});
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_THAT(listed.out, HasSubstr("failing"));
  EXPECT_THAT(listed.out, HasSubstr("silence " + id));
  auto ended = test::RunFleetlog({"--config", config_path_, "alerts", "unsilence", id});
  EXPECT_EQ(ended.exit_code, 0) << ended.err;
}

}  // namespace
}  // namespace fleetlog::alert
