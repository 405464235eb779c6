// The simulated Serverless workgroup's SYS views: terminal rows only in an export read,
// running queries that a later read finds finished, usage minutes whose charged seconds are
// filled in later, and the same rows however a window is cut.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "source/sim/sim_source.h"
#include "source/table_spec.h"
#include "test_util.h"

namespace fleetlog {
namespace {

const Timestamp kNow = ParseTimestamp("2025-06-18 12:00:00").value();

std::unique_ptr<Source> Workgroup(Timestamp now) {
  return MakeSimSource({.cluster = "serverless-1", .seed = 7, .clock = std::make_shared<test::FixedClock>(now)});
}

// Each row as a map of column to its value as text ("" for NULL).
std::vector<std::map<std::string, std::string>> Read(Source& source, const TableSpec& spec, Timestamp lower,
                                                     Timestamp upper) {
  std::vector<std::map<std::string, std::string>> rows;
  const SourceQuery query{.spec = &spec, .lower = lower, .upper = upper, .batch_rows = 1000};
  Status status = source.Read(query, [&](RowBatch& b) {
    for (size_t r = 0; r < b.rows(); ++r) {
      std::map<std::string, std::string> row;
      for (size_t c = 0; c < b.schema().size(); ++c) {
        const Column& col = b.column(c);
        if (!col.valid[r]) row[b.schema()[c].name] = "";
        else if (col.type == ColumnType::kVarchar) row[b.schema()[c].name] = col.strings[r];
        else if (col.type == ColumnType::kDouble) row[b.schema()[c].name] = std::to_string(col.doubles[r]);
        else row[b.schema()[c].name] = std::to_string(col.ints[r]);
      }
      rows.push_back(std::move(row));
    }
    return Status::Ok();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return rows;
}

const TableSpec& Spec(const char* name) { return *FindRedshiftTable(name); }

TEST(SimSysTest, ExportReadsHoldTerminalQueriesOnlyWithTheirIdsOfTheirOwn) {
  auto source = Workgroup(kNow);
  const auto rows = Read(*source, Spec("sys_query_history"), kNow - Duration::Hours(3), kNow);
  ASSERT_GT(rows.size(), 50u);
  std::set<std::string> statuses;
  for (const auto& r : rows) {
    statuses.insert(r.at("status"));
    EXPECT_FALSE(r.at("end_time").empty());
    EXPECT_GE(std::stoll(r.at("query_id")), 10'000'000'000LL);  // not STL's query numbers
  }
  EXPECT_TRUE(statuses.count("success"));
  for (const auto& s : statuses) EXPECT_TRUE(s == "success" || s == "failed" || s == "canceled") << s;
  EXPECT_FALSE(Read(*source, Spec("sys_query_text"), kNow - Duration::Hours(3), kNow).empty());
  EXPECT_FALSE(Read(*source, Spec("sys_query_detail"), kNow - Duration::Hours(3), kNow).empty());
}

TEST(SimSysTest, RunningQueriesAreFoundFinishedByALaterRead) {
  auto now = Workgroup(kNow);
  const auto running = Read(*now, RunningQueriesSpec(), kNow - Duration::Days(1), kNow + Duration::Minutes(1));
  ASSERT_FALSE(running.empty());
  std::set<std::string> ids;
  for (const auto& r : running) {
    EXPECT_TRUE(r.at("status") == "running" || r.at("status") == "queued") << r.at("status");
    EXPECT_TRUE(r.at("end_time").empty());
    ids.insert(r.at("query_id"));
  }
  // Seven hours on, every one of them has ended (the longest run six hours), exactly once.
  const Timestamp later = kNow + Duration::Hours(7);
  auto after = Workgroup(later);
  std::map<std::string, int> finished;
  for (const auto& r : Read(*after, Spec("sys_query_history"), kNow - Duration::Days(1), later))
    if (ids.count(r.at("query_id"))) ++finished[r.at("query_id")];
  EXPECT_EQ(finished.size(), ids.size());
  for (const auto& [id, n] : finished) EXPECT_EQ(n, 1) << id;
  EXPECT_TRUE(Read(*after, RunningQueriesSpec(), kNow - Duration::Days(1), kNow).empty());
}

TEST(SimSysTest, UsageChargedSecondsAreFilledInLater) {
  const Timestamp from = kNow - Duration::Hours(1);
  auto now = Workgroup(kNow);
  const auto early = Read(*now, Spec("sys_serverless_usage"), from, kNow);
  ASSERT_GT(early.size(), 20u);
  int unbilled = 0;
  for (const auto& r : early) unbilled += r.at("charged_seconds") == "0";
  EXPECT_GT(unbilled, 0);  // the newest minutes
  auto later = Workgroup(kNow + Duration::Hours(1));
  const auto filled = Read(*later, Spec("sys_serverless_usage"), from, kNow);
  ASSERT_EQ(filled.size(), early.size());
  for (const auto& r : filled) EXPECT_NE(r.at("charged_seconds"), "0") << r.at("start_time");
}

TEST(SimSysTest, RowsDoNotDependOnHowWindowsAreCut) {
  auto source = Workgroup(kNow);
  for (const char* table : {"sys_query_history", "sys_query_text", "sys_serverless_usage", "sys_load_history"}) {
    auto whole = Read(*source, Spec(table), kNow - Duration::Hours(2), kNow);
    auto first = Read(*source, Spec(table), kNow - Duration::Hours(2), kNow - Duration::Minutes(37));
    const auto second = Read(*source, Spec(table), kNow - Duration::Minutes(37), kNow);
    first.insert(first.end(), second.begin(), second.end());
    EXPECT_EQ(first.size(), whole.size()) << table;
    std::sort(first.begin(), first.end());
    std::sort(whole.begin(), whole.end());
    EXPECT_TRUE(first == whole) << table;
  }
}

}  // namespace
}  // namespace fleetlog
