#include "detect/fleet_detector.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "detect/random.h"
#include "exporter/writer.h"
#include "lake/commit_window.h"
#include "query/engine.h"
#include "test_util.h"
#include "upkeep_test_util.h"

namespace fleetlog::detect {
namespace {

const TableSchema kQuerySchema = {{"query", ColumnType::kInt32},
                                  {"starttime", ColumnType::kTimestamp},
                                  {"endtime", ColumnType::kTimestamp},
                                  {"aborted", ColumnType::kInt32}};
const TableSchema kWlmSchema = {{"query", ColumnType::kInt32},
                                {"service_class_end_time", ColumnType::kTimestamp},
                                {"total_queue_time", ColumnType::kInt64}};
const TableSchema kScanSchema = {
    {"query", ColumnType::kInt32}, {"endtime", ColumnType::kTimestamp}, {"type", ColumnType::kInt32}};
const TableSchema kAlertSchema = {
    {"query", ColumnType::kInt32}, {"event", ColumnType::kVarchar}, {"event_time", ColumnType::kTimestamp}};
// The same workload on a Serverless workgroup: the SYS views' columns the metrics read.
const TableSchema kSysHistorySchema = {{"query_id", ColumnType::kInt64},       {"status", ColumnType::kVarchar},
                                       {"start_time", ColumnType::kTimestamp}, {"end_time", ColumnType::kTimestamp},
                                       {"elapsed_time", ColumnType::kInt64},   {"queue_time", ColumnType::kInt64}};
const TableSchema kSysDetailSchema = {{"query_id", ColumnType::kInt64},
                                      {"step_id", ColumnType::kInt32},
                                      {"alert", ColumnType::kVarchar},
                                      {"spilled_block_local_disk", ColumnType::kInt64},
                                      {"spilled_block_remote_disk", ColumnType::kInt64}};

constexpr Duration kBucket = Duration::Minutes(5);
// Buckets [126, 130), 10:30 to 10:50: queue waits of minutes instead of seconds.
constexpr int kSpikeFirst = 126, kSpikeEnd = 130;

// A lake with one cluster, c1, exporting the four STL tables the metrics read (or, as a
// Serverless workgroup, sys_query_history and sys_query_detail), written bucket by bucket
// through the real stage -> commit -> publish path with the export cursors moved. The same
// buckets get the same workload in every DetectorLake, in either family.
DetectContext Context(LakeSession& s) { return {s.config(), s.state(), s.writer(), s.clock()}; }

class DetectorLake {
 public:
  explicit DetectorLake(ViewFamily family = ViewFamily::kStl) : family_(family) {
    config_.lake_path = dir_.Sub("lake");
    config_.state_path = dir_.Sub("fleetlog.db");
    config_.key_file = dir_.Sub("no-master-key");
    config_.clusters.push_back({.name = "c1", .kind = SourceKind::kSim, .views = family,
                                .tables = family == ViewFamily::kSys
                                              ? std::vector<std::string>{"sys_query_history", "sys_query_detail"}
                                              : std::vector<std::string>{"stl_query", "stl_wlm_query", "stl_scan",
                                                                         "stl_alert_event_log"}});
    auto session = LakeSession::Open(config_);
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    if (session.ok()) session_ = std::move(session).value();
  }

  LakeSession& session() { return *session_; }

  // Queries ending in buckets [first, last): twenty per bucket, 2-10 s runs, 0.5-2 s queue
  // waits, except the spike buckets' waits of about a minute. In each bucket the first query
  // reads a temporary table twice (one disk-based query) and the second raises two alerts,
  // one of them a nested-loop alert.
  // Moves every cursor to the end.
  void WriteBuckets(int first, int last) {
    RowBatch queries(kQuerySchema), wlm(kWlmSchema), scans(kScanSchema), alerts(kAlertSchema);
    RowBatch history(kSysHistorySchema), detail(kSysDetailSchema);
    for (int b = first; b < last; ++b) {
      Rng rng(static_cast<uint64_t>(b) + 1);
      for (int k = 0; k < 20; ++k) {
        const int query = b * 100 + k;
        const Timestamp end = BucketAt(b) + Duration::Seconds(5 + 14 * k);
        const auto run_us = static_cast<int64_t>((2 + 8 * rng.NextOpenUnit()) * 1e6);
        const bool spike = b >= kSpikeFirst && b < kSpikeEnd;
        const double wait_s = spike ? 50 + 20 * rng.NextOpenUnit() : 0.5 + 1.5 * rng.NextOpenUnit();
        queries.column(0).AppendInt(query);
        queries.column(1).AppendInt(end.micros() - run_us);
        queries.column(2).AppendInt(end.micros());
        queries.column(3).AppendInt(0);
        wlm.column(0).AppendInt(query);
        wlm.column(1).AppendInt(end.micros());
        wlm.column(2).AppendInt(static_cast<int64_t>(wait_s * 1e6));
        AppendSysQuery(history, query, end, run_us, static_cast<int64_t>(wait_s * 1e6));
        for (int step = 0; k < 2 && step < 2; ++step) {
          if (k == 0) {
            scans.column(0).AppendInt(query);
            scans.column(1).AppendInt(end.micros() - step);
            scans.column(2).AppendInt(3);
            AppendSysStep(detail, query, step, end, "", 40);
          } else {
            alerts.column(0).AppendInt(query);
            const char* event = step == 0 ? "Missing query planner statistics" : "Nested Loop Join in the query plan";
            alerts.column(1).AppendString(event);
            alerts.column(2).AppendInt(end.micros() - run_us);
            AppendSysStep(detail, query, step, end, event, 0);
          }
        }
      }
    }
    if (family_ == ViewFamily::kSys) {
      Commit("sys_query_history", "end_time", history, BucketAt(last));
      Commit("sys_query_detail", "", detail, BucketAt(last));  // partitioned by its query's end
      return;
    }
    Commit("stl_query", "endtime", queries, BucketAt(last));
    Commit("stl_wlm_query", "service_class_end_time", wlm, BucketAt(last));
    Commit("stl_scan", "endtime", scans, BucketAt(last));
    Commit("stl_alert_event_log", "event_time", alerts, BucketAt(last));
  }

 private:
  static void AppendSysQuery(RowBatch& history, int query, Timestamp end, int64_t run_us, int64_t queue_us) {
    history.column(0).AppendInt(query);
    history.column(1).AppendString("success");
    history.column(2).AppendInt(end.micros() - run_us);
    history.column(3).AppendInt(end.micros());
    history.column(4).AppendInt(run_us);
    history.column(5).AppendInt(queue_us);
  }
  static void AppendSysStep(RowBatch& detail, int query, int step, Timestamp query_end, const std::string& alert,
                            int64_t spilled_blocks) {
    detail.column(0).AppendInt(query);
    detail.column(1).AppendInt(step);
    detail.column(2).AppendString(alert);
    detail.column(3).AppendInt(spilled_blocks);
    detail.column(4).AppendInt(0);
    detail.partition_ts().push_back(query_end.micros());
  }

  void Commit(const std::string& table, const std::string& cursor, const RowBatch& batch, Timestamp position) {
    CommitWindow window(session_->writer(), session_->state(),
                        {.table = table, .cluster = "c1", .partition_column = cursor, .drop_committed_repeats = false});
    ASSERT_TRUE(window.Append(batch).ok());
    auto committed = window.Commit(session_->clock(), {.cluster = "c1", .table = table}, position);
    ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  }

 public:
  // Rows of `sql` through a fresh query engine, "a|b|c" per row.
  std::vector<std::string> Rows(const std::string& sql) {
    return upkeep::testing::UpkeepLake::RowsOf(session_->state(), session_->lake(), sql);
  }

  Timestamp BucketAt(int i) const { return start_ + kBucket * i; }

 private:
  const ViewFamily family_;
  test::TempDir dir_;
  Config config_;
  std::unique_ptr<LakeSession> session_;
  const Timestamp start_ = *ParseTimestamp("2026-01-05 00:00:00");
};

TEST(FleetDetectorTest, ScoresClosedBucketsIncrementallyAndFlagsTheQueueSpike) {
  DetectorLake lake;
  LakeSession& session = lake.session();
  lake.WriteBuckets(0, 120);
  ASSERT_TRUE(RunFleetDetection(Context(session)).ok());
  EXPECT_EQ(lake.Rows("SELECT count(*), min(bucket_start), max(bucket_start) FROM anomalies WHERE cluster = 'c1'"),
            std::vector<std::string>{"120|2026-01-05 00:00:00|2026-01-05 09:55:00"});
  EXPECT_EQ(lake.Rows("SELECT query_count, disk_based_queries, alert_events, aborted_queries, nested_loop_queries "
                      "FROM anomalies GROUP BY ALL"),
            std::vector<std::string>{"20|1|2|0|1"});
  auto cursor = session.state().GetCursor("c1", kAnomaliesTable);
  ASSERT_TRUE(cursor.ok() && *cursor);
  EXPECT_EQ(**cursor, lake.BucketAt(120));
  auto model = session.state().GetValue("rcf/c1");
  ASSERT_TRUE(model.ok() && *model);

  // The second run scores only the buckets closed since, the spike among them.
  lake.WriteBuckets(120, 168);
  ASSERT_TRUE(RunFleetDetection(Context(session)).ok());
  EXPECT_EQ(lake.Rows("SELECT count(*), count(DISTINCT bucket_start) FROM anomalies"), std::vector<std::string>{"168|168"});
  // The spike stands out once it has lasted three buckets (one freak bucket alone does not
  // alert): the only anomalous buckets, queue wait named; nothing before it comes close.
  EXPECT_EQ(lake.Rows("SELECT strftime(bucket_start, '%H:%M'), attribution FROM anomalies WHERE grade > 0 ORDER BY 1"),
            (std::vector<std::string>{"10:40|queue_wait_s high (100%)", "10:45|queue_wait_s high (100%)"}));
  EXPECT_EQ(lake.Rows("SELECT max(score) FILTER (WHERE bucket_start >= TIMESTAMP '2026-01-05 10:30:00') > "
                      "2 * max(score) FILTER (WHERE bucket_start < TIMESTAMP '2026-01-05 10:30:00') FROM anomalies"),
            std::vector<std::string>{"true"});

  // Nothing new closed: nothing added.
  ASSERT_TRUE(RunFleetDetection(Context(session)).ok());
  EXPECT_EQ(lake.Rows("SELECT count(*) FROM anomalies"), std::vector<std::string>{"168"});
  auto runs = session.state().RecentRuns(10, "c1");
  ASSERT_TRUE(runs.ok());
  int detect_runs = 0;
  for (const RunRecord& run : *runs) detect_runs += run.kind == "detect" && run.status == RunStatus::kOk;
  EXPECT_EQ(detect_runs, 2);
}

// The model is saved after the commit of its rows; when it is lost, the next run replays the
// scored buckets into a new one. The model is deterministic, so the re-derived model scores
// the new buckets exactly as the lost one would have.
TEST(FleetDetectorTest, ALostModelIsRederivedExactlyFromTheLake) {
  DetectorLake lost, kept;
  for (DetectorLake* lake : {&lost, &kept}) {
    lake->WriteBuckets(0, 100);
    ASSERT_TRUE(RunFleetDetection(Context(lake->session())).ok());
  }
  ASSERT_TRUE(lost.session().state().DeleteValue("rcf/c1").ok());  // as if killed before saving it
  for (DetectorLake* lake : {&lost, &kept}) {
    lake->WriteBuckets(100, 140);
    ASSERT_TRUE(RunFleetDetection(Context(lake->session())).ok());
  }
  const std::string sql = "SELECT bucket_start, score, grade, attribution FROM anomalies ORDER BY 1";
  const std::vector<std::string> rows = lost.Rows(sql);
  EXPECT_EQ(rows.size(), 140u);
  EXPECT_EQ(rows, kept.Rows(sql));
  const std::vector<std::string> top = lost.Rows("SELECT strftime(bucket_start, '%H:%M'), attribution FROM anomalies "
                                                 "ORDER BY score DESC, bucket_start LIMIT 1");
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].substr(0, 23), "10:40|queue_wait_s high") << top[0];
}

// A Serverless workgroup (SYS views only) is measured from sys_query_history and
// sys_query_detail: the same workload gives it the same metrics, scores and grades as an STL
// cluster, the queue spike included.
TEST(FleetDetectorTest, ASysClusterIsGradedLikeAnStlClusterWithTheSameWorkload) {
  DetectorLake stl, sys(ViewFamily::kSys);
  for (DetectorLake* lake : {&stl, &sys}) {
    lake->WriteBuckets(0, 120);
    ASSERT_TRUE(RunFleetDetection(Context(lake->session())).ok());
    lake->WriteBuckets(120, 168);
    ASSERT_TRUE(RunFleetDetection(Context(lake->session())).ok());
  }
  const std::string sql = "SELECT * EXCLUDE (dt) FROM anomalies ORDER BY bucket_start";
  const std::vector<std::string> rows = sys.Rows(sql);
  EXPECT_EQ(rows.size(), 168u);
  EXPECT_EQ(rows, stl.Rows(sql));
  EXPECT_EQ(sys.Rows("SELECT query_count, disk_based_queries, alert_events, aborted_queries, nested_loop_queries "
                      "FROM anomalies GROUP BY ALL"),
            std::vector<std::string>{"20|1|2|0|1"});
  const std::vector<std::string> top = sys.Rows(
      "SELECT strftime(bucket_start, '%H:%M'), attribution FROM anomalies WHERE grade > 0 ORDER BY score DESC, bucket_start "
      "LIMIT 1");
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].substr(0, 23), "10:40|queue_wait_s high") << top[0];
  auto cursor = sys.session().state().GetCursor("c1", kAnomaliesTable);
  ASSERT_TRUE(cursor.ok() && *cursor);
  EXPECT_EQ(**cursor, sys.BucketAt(168));
}

}  // namespace
}  // namespace fleetlog::detect
