// Hourly roll-ups of clusters that have only the SYS views (Serverless workgroups) equal
// those of an STL cluster running the same workload; a cluster with both families is rolled
// up from its STL tables alone, each query counted once.
#include "upkeep/rollup.h"

#include <gtest/gtest.h>

#include "upkeep/policy.h"
#include "upkeep_test_util.h"

namespace fleetlog::upkeep {
namespace {

using testing::UpkeepLake;

const TableSchema kWlmSchema = {{"query", ColumnType::kInt64},
                                {"service_class_end_time", ColumnType::kTimestamp},
                                {"total_queue_time", ColumnType::kInt64}};
const TableSchema kScanSchema = {
    {"query", ColumnType::kInt64}, {"endtime", ColumnType::kTimestamp}, {"type", ColumnType::kInt32}};
const TableSchema kAlertSchema = {
    {"query", ColumnType::kInt64}, {"step", ColumnType::kInt32}, {"event_time", ColumnType::kTimestamp}};
const TableSchema kHistorySchema = {{"query_id", ColumnType::kInt64},       {"status", ColumnType::kVarchar},
                                    {"start_time", ColumnType::kTimestamp}, {"end_time", ColumnType::kTimestamp},
                                    {"elapsed_time", ColumnType::kInt64},   {"queue_time", ColumnType::kInt64}};
const TableSchema kDetailSchema = {{"query_id", ColumnType::kInt64},
                                   {"step_id", ColumnType::kInt32},
                                   {"alert", ColumnType::kVarchar},
                                   {"spilled_block_local_disk", ColumnType::kInt64},
                                   {"spilled_block_remote_disk", ColumnType::kInt64}};

constexpr int64_t kQueries = 200;

// Query i of the workload (UpkeepLake::QueryRows: ends i - 1 minutes after `start`, runs
// i % 50 s, aborted when i % 11 == 0) waits i % 7 s in the queue, spills when i % 5 == 0 and
// raises an alert on two steps when i % 3 == 0.
Timestamp EndOf(int64_t i, Timestamp start) { return start + Duration::Minutes(i - 1); }
int64_t QueueUs(int64_t i) { return i % 7 * 1'000'000; }

void WriteStl(UpkeepLake& lake, const std::string& cluster, Timestamp start) {
  RowBatch wlm(kWlmSchema), scans(kScanSchema), alerts(kAlertSchema);
  for (int64_t i = 1; i <= kQueries; ++i) {
    const Timestamp end = EndOf(i, start);
    wlm.column(0).AppendInt(i);
    wlm.column(1).AppendInt(end.micros());
    wlm.column(2).AppendInt(QueueUs(i));
    for (int step = 0; step < 2; ++step) {
      scans.column(0).AppendInt(i);
      scans.column(1).AppendInt(end.micros());
      scans.column(2).AppendInt(i % 5 == 0 ? 3 : 2);
      if (i % 3 != 0) continue;
      alerts.column(0).AppendInt(i);
      alerts.column(1).AppendInt(step);
      alerts.column(2).AppendInt(end.micros());
    }
  }
  lake.Commit("stl_query", cluster, "endtime", UpkeepLake::QueryRows(1, kQueries, start));
  lake.Commit("stl_wlm_query", cluster, "service_class_end_time", wlm);
  lake.Commit("stl_scan", cluster, "endtime", scans);
  lake.Commit("stl_alert_event_log", cluster, "event_time", alerts);
}

void WriteSys(UpkeepLake& lake, const std::string& cluster, Timestamp start) {
  RowBatch history(kHistorySchema), detail(kDetailSchema);
  for (int64_t i = 1; i <= kQueries; ++i) {
    const Timestamp end = EndOf(i, start);
    const int64_t run_us = i % 50 * 1'000'000;
    history.column(0).AppendInt(10'000'000'000 + i);
    history.column(1).AppendString(i % 11 != 0 ? "success" : i % 2 == 0 ? "canceled" : "failed");
    history.column(2).AppendInt(end.micros() - run_us);
    history.column(3).AppendInt(end.micros());
    history.column(4).AppendInt(run_us);
    history.column(5).AppendInt(QueueUs(i));
    for (int step = 0; step < 2; ++step) {
      detail.column(0).AppendInt(10'000'000'000 + i);
      detail.column(1).AppendInt(step);
      detail.column(2).AppendString(i % 3 == 0 ? "Nested Loop Join in the query plan" : "");
      detail.column(3).AppendInt(i % 5 == 0 && step == 1 ? 120 : 0);
      detail.column(4).AppendInt(0);
      detail.partition_ts().push_back(end.micros());  // a child's rows go with their query's day
    }
  }
  lake.Commit("sys_query_history", cluster, "end_time", history);
  lake.Commit("sys_query_detail", cluster, "", detail);
}

std::string RollupOf(const std::string& cluster) {
  return "SELECT hour, queries, aborted, p50_run_s, p95_run_s, wlm_queries, p50_queue_s, p95_queue_s, max_queue_s, "
         "disk_based_queries, alerts FROM rollup_hourly WHERE cluster = '" + cluster + "' ORDER BY hour";
}

TEST(RollupTest, ASysClusterIsRolledUpLikeAnStlClusterAndABothClusterCountsEachQueryOnce) {
  UpkeepLake lake;
  // Three days ago, 22:00: the workload runs over midnight into a second day.
  const Timestamp start = *DayStart(DateOf(Timestamp::Now())) - Duration::Days(3) + Duration::Hours(22);
  WriteStl(lake, "stl-1", start);
  WriteSys(lake, "serverless-1", start);
  WriteStl(lake, "both-1", start);
  WriteSys(lake, "both-1", start);

  auto report = BuildRollups(lake.state(), lake.lake(), lake.config(), Timestamp::Now());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_TRUE(report->errors.empty()) << report->errors.front();
  EXPECT_EQ(report->days, 6);  // two days per cluster

  const std::vector<std::string> stl = lake.Rows(RollupOf("stl-1"));
  ASSERT_EQ(stl.size(), 4u);  // 22:00 to 01:00
  EXPECT_EQ(lake.Rows(RollupOf("serverless-1")), stl);
  EXPECT_EQ(lake.Rows(RollupOf("both-1")), stl);
  EXPECT_EQ(lake.Rows("SELECT sum(queries), sum(aborted), sum(disk_based_queries), sum(alerts) FROM rollup_hourly "
                      "WHERE cluster = 'serverless-1'"),
            std::vector<std::string>{"200|18|40|132"});
  EXPECT_EQ(lake.Rows("SELECT max(max_queue_s), sum(wlm_queries) FROM rollup_hourly WHERE cluster = 'serverless-1'"),
            std::vector<std::string>{"6.0|200"});
}

// The open day is rolled up hour by hour as its hours close: each step extends the day's one
// roll-up file from the raw files that may hold the new hours, not the whole day again, and
// the finished day equals a day rolled up in one go from the same rows.
TEST(RollupTest, ClosedHoursOfTheOpenDayAreRolledUpAsTheyCloseReadingOnlyTheirFiles) {
  UpkeepLake lake;
  Config& config = lake.config();
  config.export_.tables = {"stl_query"};
  config.export_.lookback = Duration::Minutes(15);
  config.clusters.push_back({.name = "hourly-1"});
  config.clusters.push_back({.name = "daily-1"});
  const Timestamp day = *DayStart(DateOf(Timestamp::Now())) - Duration::Days(2);
  const std::string dt = DateOf(day);
  auto step = [&](int64_t first, int64_t last, Duration cursor) {  // one window: queries first..last, one a minute
    lake.Commit("stl_query", "hourly-1", "endtime", UpkeepLake::QueryRows(first, last, day + Duration::Minutes(first)),
                day + cursor);
    auto report = BuildRollups(lake.state(), lake.lake(), config, Timestamp::Now());
    EXPECT_TRUE(report.ok() && report->errors.empty()) << report.status().ToString();
    return report.ok() ? *report : RollupReport{};
  };
  auto end = [&] { return *RollupEnd(lake.state(), "hourly-1", dt); };
  auto last_run = [&] {
    RunRecord out;
    const std::vector<RunRecord> runs = *lake.state().LatestRuns();
    for (const auto& r : runs)
      if (r.cluster == "hourly-1" && r.kind == "rollup") out = r;
    return out;
  };

  // 00:00-04:59 exported, the cursor at 05:30: the hours before 05:00 are closed (05:15).
  RollupReport report = step(0, 299, Duration::Minutes(330));
  EXPECT_EQ(report.open_days, 1);
  EXPECT_EQ(report.days, 0);
  EXPECT_EQ(report.hours, 5);
  EXPECT_EQ(end(), day + Duration::Hours(5));
  EXPECT_FALSE(*HasRollup(lake.state(), "hourly-1", dt));

  // Nothing new closed: nothing written.
  EXPECT_EQ(step(300, 309, Duration::Minutes(340)).open_days, 0);

  // 05:10-10:14 exported, the cursor at 10:30: the hours to 10:00 close. The first window's
  // file (its rows end 04:59) is not read again: the new hours' files and the roll-up's 5 rows.
  report = step(310, 614, Duration::Minutes(630));
  EXPECT_EQ(report.open_days, 1);
  EXPECT_EQ(report.hours, 5);
  EXPECT_EQ(end(), day + Duration::Hours(10));
  EXPECT_EQ(last_run().rows_read, 10 + 305 + 5);
  EXPECT_EQ(lake.Files(kRollupTable).size(), 1u);
  EXPECT_EQ(lake.Rows("SELECT hour, source FROM workload_hourly WHERE hour BETWEEN '" + FormatTimestamp(day + Duration::Hours(9)) +
                      "' AND '" + FormatTimestamp(day + Duration::Hours(10)) + "' ORDER BY hour"),
            (std::vector<std::string>{FormatTimestamp(day + Duration::Hours(9)) + "|rollup",
                                      FormatTimestamp(day + Duration::Hours(10)) + "|raw"}));

  // The rest of the day, the cursor past midnight: the day's roll-up is complete.
  report = step(615, 1439, Duration::Minutes(1440 + 30));
  EXPECT_EQ(report.days, 1);
  EXPECT_EQ(report.open_days, 0);
  EXPECT_EQ(report.hours, 14);
  EXPECT_TRUE(*HasRollup(lake.state(), "hourly-1", dt));

  // The same rows in one window, rolled up in one go.
  lake.Commit("stl_query", "daily-1", "endtime", UpkeepLake::QueryRows(0, 1439, day), day + Duration::Days(1) + Duration::Hours(1));
  report = *BuildRollups(lake.state(), lake.lake(), config, Timestamp::Now());
  EXPECT_EQ(report.days, 1);
  EXPECT_EQ(report.hours, 24);
  const std::vector<std::string> once = lake.Rows(RollupOf("daily-1"));
  ASSERT_EQ(once.size(), 24u);
  EXPECT_EQ(lake.Rows(RollupOf("hourly-1")), once);
}

// The alerts close apart (stl_alert_event_log's lookback is 6 hours, its rows arrive late): a
// roll-up covers the other columns of the hours their inputs closed and leaves the alerts
// NULL past their own mark, fills them as that mark moves (late rows included), and ends
// equal to the day rolled up at once. Meanwhile the view answers those alerts from raw rows.
TEST(RollupTest, LateAlertsAreFilledAsTheirHoursCloseAndEndAsTheDayRolledUpAtOnce) {
  UpkeepLake lake;
  Config& config = lake.config();
  config.export_.tables = {"stl_query", "stl_alert_event_log"};
  config.export_.lookback = Duration::Minutes(15);
  config.clusters.push_back({.name = "hourly-1"});
  config.clusters.push_back({.name = "daily-1"});
  const Timestamp day = *DayStart(DateOf(Timestamp::Now())) - Duration::Days(2);
  const std::string dt = DateOf(day);
  // Query i ends at minute i of the day; every third raises an alert, timed at its end.
  auto alerts = [&](int64_t first, int64_t last) {
    RowBatch rows(kAlertSchema);
    for (int64_t i = first; i <= last; ++i) {
      if (i % 3 != 0) continue;
      rows.column(0).AppendInt(i);
      rows.column(1).AppendInt(0);
      rows.column(2).AppendInt((day + Duration::Minutes(i)).micros());
    }
    return rows;
  };
  // One window of each table, both cursors at `cursor`, then upkeep's roll-ups.
  auto step = [&](const std::string& cluster, std::pair<int64_t, int64_t> queries, std::pair<int64_t, int64_t> alerted,
                  Duration cursor) {
    lake.Commit("stl_query", cluster, "endtime",
                UpkeepLake::QueryRows(queries.first, queries.second, day + Duration::Minutes(queries.first)), day + cursor);
    lake.Commit("stl_alert_event_log", cluster, "event_time", alerts(alerted.first, alerted.second), day + cursor);
    auto report = BuildRollups(lake.state(), lake.lake(), config, Timestamp::Now());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->errors.empty()) << report->errors.front();
  };
  auto marks = [&] {
    const auto files = lake.Files(kRollupTable);
    EXPECT_EQ(files.size(), 1u);
    return files.empty() ? RollupMarks{} : RolledUpMarks(files[0]);
  };
  auto rollup_alerts = [&] {
    return lake.Rows("SELECT hour(hour), coalesce(alerts::VARCHAR, 'NULL') FROM rollup_hourly WHERE cluster = 'hourly-1' "
                     "ORDER BY hour");
  };
  auto hours = [](int from, int to, const std::string& value) {
    std::vector<std::string> out;
    for (int h = from; h < to; ++h) out.push_back(std::to_string(h) + "|" + value);
    return out;
  };
  const std::string view_alerts =
      "SELECT hour(hour), alerts FROM workload_hourly WHERE cluster = 'hourly-1' ORDER BY hour";
  const std::string raw_alerts = "SELECT hour(event_time), count(*) FROM stl_alert_event_log WHERE cluster = 'hourly-1' "
                                 "GROUP BY ALL ORDER BY 1";

  // 00:00-09:59 exported, the alerts to 04:59 (the rest of them arrive late), both cursors at
  // 10:30: the queries close to 10:00 (less 15 minutes), the alerts to 04:00 (less 6 hours).
  step("hourly-1", {0, 599}, {0, 299}, Duration::Minutes(630));
  EXPECT_EQ(marks(), (RollupMarks{day + Duration::Hours(10), day + Duration::Hours(4)}));
  std::vector<std::string> expected = hours(0, 4, "20");
  for (const auto& h : hours(4, 10, "NULL")) expected.push_back(h);
  EXPECT_EQ(rollup_alerts(), expected);
  expected = hours(0, 5, "20");  // from the roll-up to 04:00, then the raw rows: none yet after 04:59
  for (const auto& h : hours(5, 10, "0")) expected.push_back(h);
  EXPECT_EQ(lake.Rows(view_alerts), expected);

  // 10:00-15:59 and the late alerts of 05:00-09:59, the cursors at 16:30: the queries close
  // to 16:00, the alerts to 10:00, their hours 04:00-09:59 filled from the late rows.
  step("hourly-1", {600, 959}, {300, 959}, Duration::Minutes(990));
  EXPECT_EQ(marks(), (RollupMarks{day + Duration::Hours(16), day + Duration::Hours(10)}));
  expected = hours(0, 10, "20");
  for (const auto& h : hours(10, 16, "NULL")) expected.push_back(h);
  EXPECT_EQ(rollup_alerts(), expected);
  EXPECT_EQ(lake.Rows(view_alerts), lake.Rows(raw_alerts));
  EXPECT_EQ(lake.Rows(raw_alerts), hours(0, 16, "20"));
  EXPECT_FALSE(*HasRollup(lake.state(), "hourly-1", dt));

  // The rest of the day; the cursors past the next 06:00: the day's roll-up is complete.
  step("hourly-1", {960, 1439}, {960, 1439}, Duration::Minutes(1440 + 6 * 60 + 30));
  EXPECT_TRUE(*HasRollup(lake.state(), "hourly-1", dt));
  EXPECT_EQ(rollup_alerts(), hours(0, 24, "20"));

  // The same rows in one window, rolled up in one go.
  step("daily-1", {0, 1439}, {0, 1439}, Duration::Minutes(1440 + 7 * 60));
  const std::vector<std::string> once = lake.Rows(RollupOf("daily-1"));
  ASSERT_EQ(once.size(), 24u);
  EXPECT_EQ(lake.Rows(RollupOf("hourly-1")), once);
}

// An hour of the open day closes when every input the cluster exports has its cursor, less
// its lookback, at the hour's end: an input it exports without a cursor yet (no window
// committed) holds every hour of the day back; the inputs it does not export do not.
TEST(RollupTest, OnlyTheInputsAClusterExportsCloseItsHours) {
  UpkeepLake lake;
  Config& config = lake.config();
  config.export_.tables = {"stl_query", "stl_wlm_query"};
  config.clusters.push_back({.name = "both-tables"});
  config.clusters.push_back({.name = "one-table", .tables = {"stl_query"}});
  const Timestamp day = *DayStart(DateOf(Timestamp::Now())) - Duration::Days(2);
  const Timestamp now = day + Duration::Hours(10);  // `day` is the open day
  for (const char* cluster : {"both-tables", "one-table", "gone"})
    lake.Commit("stl_query", cluster, "endtime", UpkeepLake::QueryRows(0, 299, day), day + Duration::Hours(6));
  auto closed = [&](const char* cluster) { return ClosedHours(lake.state(), config, cluster, now)->until; };
  EXPECT_EQ(closed("one-table"), day + Duration::Hours(5));  // 06:00 less 15 minutes
  EXPECT_EQ(closed("both-tables"), day);                      // stl_wlm_query has no cursor
  EXPECT_EQ(closed("gone"), day);  // no longer configured: every input counts, and most have none
  RowBatch wlm(kWlmSchema);
  wlm.column(0).AppendInt(1);
  wlm.column(1).AppendInt((day + Duration::Hours(1)).micros());
  wlm.column(2).AppendInt(0);
  lake.Commit("stl_wlm_query", "both-tables", "service_class_end_time", wlm, day + Duration::Minutes(4 * 60 + 20));
  EXPECT_EQ(closed("both-tables"), day + Duration::Hours(4));  // 04:20 less 15 minutes
}

}  // namespace
}  // namespace fleetlog::upkeep
