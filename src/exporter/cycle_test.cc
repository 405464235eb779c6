// Unit tests of the export cycle against a fake source: windows, settle, lookback, back-off,
// clock skew, and a failing table among good ones. (The PostgreSQL suite in
// tests/integration/ runs the same cycle against a real server.)
#include "exporter/cycle.h"

#include <gtest/gtest.h>

#include "fake_source.h"
#include "lake/lake_writer.h"
#include "query/engine.h"
#include "test_util.h"

namespace fleetlog {
namespace {

class SetClock final : public Clock {
 public:
  Timestamp Now() const override { return now; }
  Timestamp now;
};

const Timestamp kNoon = *ParseTimestamp("2026-03-10 12:00:00");

class CycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.lake_path = dir_.Sub("lake");
    config_.state_path = dir_.Sub("fleetlog.db");
    config_.export_.tables = {"stl_query", "stl_wlm_query"};
    config_.export_.settle = Duration::Seconds(30);
    config_.export_.lookback = Duration::Minutes(15);
    config_.export_.initial_backfill = Duration::Hours(2);
    config_.export_.interval = Duration::Minutes(5);
    for (const char* name : {"c1", "c2"}) config_.clusters.push_back({.name = name, .kind = SourceKind::kSim});
    state_ = std::move(OpenSqliteStateStore(config_.state_path, OpenMode::kReadWrite)).value();
    writer_ = std::move(LakeWriter::Open(LakeLayout(config_.lake_path), 64LL << 20, 1)).value();
    SetNow(kNoon);
  }

  // The source clocks and ours, together (no skew).
  void SetNow(Timestamp t) {
    clock_.now = t;
    for (const auto& c : config_.clusters) fleet_.SetNow(c.name, t);
  }

  CycleReport Cycle(CycleOptions options = {}) {
    ExportContext ctx{.config = &config_, .state = state_.get(), .writer = writer_.get(), .clock = &clock_};
    options.on_run = [this](const RunRecord&) { ++callbacks_; };
    return RunCycle(ctx, fleet_.Factory(), options);
  }

  // The ids of (cluster, table) in the lake, in order, each as often as it is there.
  std::vector<int64_t> Ids(const std::string& cluster, const std::string& table) {
    auto engine = QueryEngine::Open({.lake_root = config_.lake_path, .memory_limit_bytes = 128LL << 20, .threads = 1},
                                    state_.get());
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    std::vector<int64_t> ids;
    if (!engine.ok()) return ids;
    bool known = false;
    for (const auto& t : (*engine)->tables()) known |= t.name == table;
    if (!known) return ids;
    auto r = (*engine)->Run(fmt::format("SELECT query FROM {} WHERE cluster = '{}' ORDER BY query", table, cluster));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return ids;
    for (size_t i = 0; i < r->row_count(); ++i) ids.push_back(r->int64(0, i));
    return ids;
  }

  Timestamp Cursor(const std::string& cluster, const std::string& table) {
    auto cursor = state_->GetCursor(cluster, table);
    EXPECT_TRUE(cursor.ok() && cursor->has_value());
    return cursor.ok() && cursor->has_value() ? **cursor : Timestamp();
  }

  Duration Lookback(const std::string& table) { return EffectiveLookback(config_, *FindRedshiftTable(table)); }

  test::TempDir dir_;
  Config config_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<LakeWriter> writer_;
  SetClock clock_;
  test::FakeFleet fleet_;
  int callbacks_ = 0;
};

TEST_F(CycleTest, WindowsEndAtSettleAndReachBackByTheLookback) {
  const Timestamp upper = kNoon - Duration::Seconds(30);
  fleet_.Add("c1", "stl_query", 1, kNoon - Duration::Hours(3));      // before the initial backfill
  fleet_.Add("c1", "stl_query", 2, kNoon - Duration::Hours(1));
  fleet_.Add("c1", "stl_query", 3, upper - Duration::Micros(1));      // the last instant of the window
  fleet_.Add("c1", "stl_query", 4, upper);                             // not settled yet
  CycleReport first = Cycle();
  EXPECT_EQ(first.failed, 0);
  EXPECT_EQ(first.runs.size(), 4u);  // two clusters, two tables
  EXPECT_EQ(Ids("c1", "stl_query"), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(Cursor("c1", "stl_query"), upper);
  for (const auto& read : fleet_.reads()) {  // first run: upper - initial_backfill .. upper, one upper per cluster
    EXPECT_EQ(read.upper, upper);
    EXPECT_EQ(read.lower, upper - Duration::Hours(2));
  }

  // Five minutes later: the window reaches back by the lookback and drops what it re-reads.
  fleet_.ClearReads();
  SetNow(kNoon + Duration::Minutes(5));
  fleet_.Add("c1", "stl_query", 5, upper - Duration::Minutes(1));       // late, within the lookback
  fleet_.Add("c1", "stl_query", 6, upper - Lookback("stl_query") - Duration::Minutes(1));  // later than the lookback allows
  CycleReport second = Cycle();
  EXPECT_EQ(second.failed, 0);
  EXPECT_EQ(Ids("c1", "stl_query"), (std::vector<int64_t>{2, 3, 4, 5}));
  for (const auto& read : fleet_.reads()) {
    if (read.cluster != "c1" || read.table != "stl_query") continue;
    EXPECT_EQ(read.lower, upper - Lookback("stl_query"));
    EXPECT_EQ(read.upper, upper + Duration::Minutes(5));
  }
  for (const auto& r : second.runs)
    if (r.cluster == "c1" && r.table == "stl_query") {
      EXPECT_EQ(r.rows_read, 3);     // 3 again, 4 and 5 (2 and 6 lie before the lookback)
      EXPECT_EQ(r.rows_written, 2);  // 3 was committed already
    }
  EXPECT_EQ(callbacks_, 8);
}

TEST_F(CycleTest, AFailingTableFailsAloneAndBacksOff) {
  fleet_.Add("c1", "stl_query", 1, kNoon - Duration::Minutes(10));
  fleet_.Add("c1", "stl_wlm_query", 7, kNoon - Duration::Minutes(10));
  fleet_.Add("c2", "stl_query", 2, kNoon - Duration::Minutes(10));
  fleet_.FailTable("c1", "stl_wlm_query");
  CycleReport first = Cycle({.honour_backoff = true});
  EXPECT_EQ(first.failed, 1);
  EXPECT_EQ(first.runs.size(), 4u);
  EXPECT_EQ(callbacks_, 4);
  for (const auto& r : first.runs) {
    const bool bad = r.cluster == "c1" && r.table == "stl_wlm_query";
    EXPECT_EQ(r.status, bad ? RunStatus::kFailed : RunStatus::kOk) << r.cluster << " " << r.table;
    if (bad) {
      EXPECT_NE(r.error.find("is failing"), std::string::npos) << r.error;
    }
  }
  // The good tables of the same cluster and of the other committed.
  EXPECT_EQ(Ids("c1", "stl_query"), (std::vector<int64_t>{1}));
  EXPECT_EQ(Ids("c2", "stl_query"), (std::vector<int64_t>{2}));
  EXPECT_TRUE(Ids("c1", "stl_wlm_query").empty());
  EXPECT_FALSE(state_->GetCursor("c1", "stl_wlm_query")->has_value());

  // Within the back-off (one interval after one failure) the table is skipped, the rest run.
  fleet_.FailTable("c1", "stl_wlm_query", false);
  fleet_.ClearReads();
  SetNow(kNoon + Duration::Minutes(4));
  CycleReport skipped = Cycle({.honour_backoff = true});
  EXPECT_EQ(skipped.skipped, 1);
  EXPECT_EQ(skipped.runs.size(), 3u);
  for (const auto& read : fleet_.reads()) EXPECT_FALSE(read.cluster == "c1" && read.table == "stl_wlm_query");

  // Past it, the table runs again and catches up from the initial backfill.
  SetNow(kNoon + Duration::Minutes(6));
  CycleReport retried = Cycle({.honour_backoff = true});
  EXPECT_EQ(retried.skipped, 0);
  EXPECT_EQ(retried.failed, 0);
  EXPECT_EQ(Ids("c1", "stl_wlm_query"), (std::vector<int64_t>{7}));
}

TEST_F(CycleTest, BackoffDoublesPerFailureUpToAnHour) {
  EXPECT_EQ(BackoffAfter(1, Duration::Minutes(5)), Duration::Minutes(5));
  EXPECT_EQ(BackoffAfter(2, Duration::Minutes(5)), Duration::Minutes(10));
  EXPECT_EQ(BackoffAfter(4, Duration::Minutes(5)), Duration::Minutes(40));
  EXPECT_EQ(BackoffAfter(5, Duration::Minutes(5)), Duration::Hours(1));
  EXPECT_EQ(BackoffAfter(30, Duration::Minutes(5)), Duration::Hours(1));
}

TEST_F(CycleTest, ASourceClockBehindTheCursorReadsNothingAndKeepsTheCursor) {
  fleet_.Add("c1", "stl_query", 1, kNoon - Duration::Minutes(10));
  Cycle({.clusters = {"c1"}});
  const Timestamp cursor = Cursor("c1", "stl_query");
  // The cluster's clock jumps back an hour (skew, or a restored snapshot).
  fleet_.ClearReads();
  fleet_.SetNow("c1", kNoon - Duration::Hours(1));
  fleet_.Add("c1", "stl_query", 2, kNoon - Duration::Hours(1) - Duration::Minutes(5));
  CycleReport report = Cycle({.clusters = {"c1"}});
  EXPECT_EQ(report.failed, 0);
  EXPECT_TRUE(fleet_.reads().empty());
  EXPECT_EQ(Cursor("c1", "stl_query"), cursor);
  for (const auto& r : report.runs) {
    EXPECT_EQ(r.status, RunStatus::kOk);
    EXPECT_EQ(r.rows_read, 0);
  }
  EXPECT_EQ(Ids("c1", "stl_query"), (std::vector<int64_t>{1}));
}

TEST_F(CycleTest, AnUnreachableClusterFailsEachOfItsTablesAndCallsBackForEach) {
  fleet_.Add("c2", "stl_query", 2, kNoon - Duration::Minutes(10));
  fleet_.FailConnect("c1");
  CycleReport report = Cycle();
  EXPECT_EQ(report.failed, 2);
  EXPECT_EQ(report.runs.size(), 4u);
  EXPECT_EQ(callbacks_, 4);
  for (const auto& r : report.runs) {
    EXPECT_EQ(r.status, r.cluster == "c1" ? RunStatus::kFailed : RunStatus::kOk);
    if (r.cluster == "c1") {
      EXPECT_NE(r.error.find("refuses connections"), std::string::npos) << r.error;
    }
  }
  EXPECT_EQ(Ids("c2", "stl_query"), (std::vector<int64_t>{2}));
}

}  // namespace
}  // namespace fleetlog
