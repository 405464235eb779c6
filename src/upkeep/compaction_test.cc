// Compaction keeps every row and column, sorts rows by the cursor, swaps files in one commit
// and leaves partitions that can still receive rows alone; readers that run during
// compaction always see the whole table exactly once.
#include "upkeep/compaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "lake/replace.h"
#include "upkeep/policy.h"
#include "upkeep_test_util.h"
#include "upkeep/verify.h"

namespace fleetlog::upkeep {
namespace {

using testing::Day;
using testing::kAllQueries;
using testing::kAllText;
using testing::UpkeepLake;

std::map<std::string, int> FilesPerPartition(const std::vector<CommittedFile>& files) {
  std::map<std::string, int> out;
  for (const auto& f : files) out[f.cluster + "/" + f.dt]++;
  return out;
}

TEST(CompactionTest, MergesClosedPartitionsAndKeepsEveryRow) {
  UpkeepLake lake;
  // Four windows a day over two closed days and today, for two clusters; every window
  // crosses no day boundary, so each day gets four files.
  const Timestamp today = *DayStart(DateOf(Timestamp::Now()));
  for (const char* cluster : {"c1", "c2"}) {
    int64_t q = 1;
    for (Timestamp day : {today - Duration::Days(2), today - Duration::Days(1), today}) {
      for (int w = 0; w < 4; ++w, q += 30) lake.WriteQueries(cluster, q, q + 29, day + Duration::Hours(w * 5), true);
    }
  }
  const auto before = lake.Rows(kAllQueries);
  const auto text_before = lake.Rows(kAllText);
  ASSERT_EQ(before.size(), 2u * 3 * 4 * 30);

  auto report = CompactLake(lake.state(), lake.lake(), lake.config(), {}, Timestamp::Now());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_THAT(report->errors, ::testing::IsEmpty());
  // stl_query and stl_querytext, two clusters, two closed days each.
  EXPECT_EQ(report->partitions, 8);
  EXPECT_EQ(report->files_in, 32);
  EXPECT_EQ(report->files_out, 8);

  const std::string d0 = DateOf(today - Duration::Days(2)), d1 = DateOf(today - Duration::Days(1)), d2 = DateOf(today);
  const std::map<std::string, int> expected = {{"c1/" + d0, 1}, {"c1/" + d1, 1}, {"c1/" + d2, 4},
                                               {"c2/" + d0, 1}, {"c2/" + d1, 1}, {"c2/" + d2, 4}};
  EXPECT_EQ(FilesPerPartition(lake.Files("stl_query")), expected);
  EXPECT_EQ(FilesPerPartition(lake.Files("stl_querytext")), expected);
  EXPECT_EQ(lake.Rows(kAllQueries), before);
  EXPECT_EQ(lake.Rows(kAllText), text_before);
  EXPECT_EQ(lake.Files("stl_query", {FileState::kRetired}).size(), 16u);

  // The merged file is sorted by the cursor (and the key after it). (The engine reads each
  // file by its reader name, which stays when the file leaves its table folder.)
  for (const auto& f : lake.Files("stl_query")) {
    if (f.dt != d0) continue;
    auto sorted = lake.Rows(fmt::format(
        "SELECT count(*) FILTER (WHERE endtime < prev) FROM (SELECT endtime, lag(endtime) OVER () AS prev "
        "FROM read_parquet('{}'))", lake.lake().Abs(LakeLayout::ReaderDir() + "/" + f.path)));
    EXPECT_EQ(sorted, std::vector<std::string>{"0"}) << f.path;
    EXPECT_EQ(f.rows, 120);
  }
  // Child tables keep the partition-time range of their inputs, for the exporter's dedupe.
  for (const auto& f : lake.Files("stl_querytext")) {
    EXPECT_TRUE(f.min_cursor.has_value());
    EXPECT_TRUE(f.max_cursor.has_value());
  }

  // A second run has nothing to do; sweeping with no grace deletes the replaced files.
  auto again = CompactLake(lake.state(), lake.lake(), lake.config(), {}, Timestamp::Now());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->partitions, 0);
  auto kept = SweepRetired(lake.state(), lake.lake(), Timestamp::Now(), Duration::Minutes(10));
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->files_deleted, 0) << "inside the grace period";
  auto swept = SweepRetired(lake.state(), lake.lake(), Timestamp::Now(), Duration());
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->files_deleted, 32);
  EXPECT_TRUE(lake.Files("stl_query", {FileState::kRetired}).empty());
  auto verified = VerifyLake(lake.state(), lake.lake(), {});
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->clean()) << IssueKindName(verified->issues.front().kind) << " " << verified->issues.front().path;
  EXPECT_EQ(lake.Rows(kAllQueries), before);
}

// `files` files of today's stl_query for cluster c1, with the exporter's cursor at `now`:
// today can still receive rows.
void WriteOpenDay(UpkeepLake& lake, int files, Timestamp now) {
  const Timestamp start = *DayStart(DateOf(now));
  for (int w = 0; w < files; ++w) lake.WriteQueries("c1", w * 10 + 1, w * 10 + 10, start + Duration::Minutes(w * 10));
  ASSERT_TRUE(lake.state().Commit({.cursor = CursorRecord{"c1", "stl_query", now, now}, .run = {.cluster = "c1"}}).ok());
}

TEST(CompactionTest, OpenPartitionsAreCompactedOnlyPastTheFileLimit) {
  UpkeepLake lake;
  const Timestamp now = Timestamp::Now();
  ASSERT_NO_FATAL_FAILURE(WriteOpenDay(lake, 6, now));
  const auto before = lake.Rows(kAllQueries);

  CompactionOptions options;
  options.max_files_per_partition = 6;
  options.eager_files = 6;
  auto report = CompactLake(lake.state(), lake.lake(), lake.config(), options, now);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->partitions, 0);
  EXPECT_EQ(lake.Files("stl_query").size(), 6u);

  options.max_files_per_partition = 5;
  report = CompactLake(lake.state(), lake.lake(), lake.config(), options, now);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->partitions, 1);
  EXPECT_EQ(lake.Files("stl_query").size(), 1u);
  EXPECT_EQ(lake.Rows(kAllQueries), before);
}

// Past `eager_files` small files an open partition is merged early, unless they hold
// `eager_bytes` or more (then it waits for the file limit, so an early merge rewrites little)
// or the pass has no time left for early merges.
TEST(CompactionTest, OpenPartitionsOfAFewSmallFilesAreMergedEarly) {
  UpkeepLake lake;
  const Timestamp now = Timestamp::Now();
  ASSERT_NO_FATAL_FAILURE(WriteOpenDay(lake, 5, now));
  const auto before = lake.Rows(kAllQueries);
  int64_t bytes = 0;
  for (const auto& f : lake.Files("stl_query")) bytes += f.bytes;

  CompactionOptions options;
  options.eager_files = 5;  // five files are not past it
  auto report = CompactLake(lake.state(), lake.lake(), lake.config(), options, now);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->partitions, 0);
  options.eager_files = 4;
  options.eager_bytes = bytes;  // they hold it all: too much to merge early
  report = CompactLake(lake.state(), lake.lake(), lake.config(), options, now);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->partitions, 0);
  EXPECT_EQ(lake.Files("stl_query").size(), 5u);

  options.eager_bytes = bytes + 1;
  options.eager_budget = Duration::Seconds(0);  // no time for early merges in this pass
  report = CompactLake(lake.state(), lake.lake(), lake.config(), options, now);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->partitions, 0);
  options.eager_budget = CompactionOptions().eager_budget;
  report = CompactLake(lake.state(), lake.lake(), lake.config(), options, now);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->partitions, 1);
  EXPECT_EQ(lake.Files("stl_query").size(), 1u);
  EXPECT_EQ(lake.Rows(kAllQueries), before);
}

TEST(CompactionTest, SplitsLargePartitionsNearTheTargetSize) {
  UpkeepLake lake;
  const Timestamp day = Day("2025-03-01");
  for (int w = 0; w < 12; ++w) lake.WriteQueries("c1", w * 40 + 1, w * 40 + 40, day + Duration::Minutes(w * 40));
  const auto before = lake.Rows(kAllQueries);
  int64_t bytes = 0;
  for (const auto& f : lake.Files("stl_query")) bytes += f.bytes;

  CompactionOptions options;
  options.target_file_bytes = bytes / 3;
  auto report = CompactLake(lake.state(), lake.lake(), lake.config(), options, Timestamp::Now());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->files_in, 12);
  EXPECT_GE(report->files_out, 3);
  EXPECT_LE(report->files_out, 4);
  EXPECT_EQ(lake.Rows(kAllQueries), before);
  // Files follow each other in cursor order.
  auto files = lake.Files("stl_query");
  std::vector<std::string> ranges;
  for (const auto& f : files)
    ranges.push_back(lake.Rows(fmt::format("SELECT min(endtime), max(endtime) FROM read_parquet('{}')", lake.lake().Abs(LakeLayout::ReaderDir() + "/" + f.path)))[0]);
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    EXPECT_LT(ranges[i - 1].substr(ranges[i - 1].find('|') + 1), ranges[i].substr(0, ranges[i].find('|')));
}

TEST(CompactionTest, RefusesToRetireAFileTwice) {
  UpkeepLake lake;
  const Timestamp day = Day("2025-03-01");
  for (int w = 0; w < 3; ++w) lake.WriteQueries("c1", w * 10 + 1, w * 10 + 10, day + Duration::Hours(w));
  auto files = lake.Files("stl_query");
  auto db = OpenUpkeepDatabase(lake.lake());
  ASSERT_TRUE(db.ok());
  auto conn = duck::Connection::Open(*db);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(CompactFiles(lake.state(), lake.lake(), **conn, {files[0], files[1]}, {"endtime"}, 1 << 20).ok());
  // The same inputs again (a stale plan): the commit is refused and nothing changes.
  auto stale = CompactFiles(lake.state(), lake.lake(), **conn, {files[1], files[2]}, {"endtime"}, 1 << 20);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(lake.Files("stl_query").size(), 2u);
  EXPECT_EQ(lake.Rows("SELECT count(*) FROM stl_query"), std::vector<std::string>{"30"});
  auto verified = VerifyLake(lake.state(), lake.lake(), {});
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->clean());
}

// Readers open snapshots (QueryEngine) and count rows while compaction commits partition
// after partition: every count is the whole table, never more (old and new files both) nor
// less (neither).
TEST(CompactionTest, ConcurrentReadersAlwaysSeeEveryRowOnce) {
  UpkeepLake lake;
  const Timestamp first = Day("2025-01-01");
  int64_t q = 1;
  for (int d = 0; d < 12; ++d)
    for (int w = 0; w < 4; ++w, q += 20) lake.WriteQueries(d % 2 ? "c1" : "c2", q, q + 19, first + Duration::Days(d) + Duration::Hours(w));
  const std::string expected = std::to_string(q - 1) + "|" + std::to_string((q - 1) * q / 2);

  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, wrong{0}, snapshots{0}, wrong_snapshots{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto rows = UpkeepLake::RowsOf(lake.state(), lake.lake(), "SELECT count(*), sum(query) FROM stl_query");
        if (rows != std::vector<std::string>{expected}) ++wrong;
        ++reads;
      }
    });
  }
  // Readers of the snapshot alone (what QueryEngine::Open lists), many times per commit: the
  // published files must always hold every row.
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto published = lake.state().ListFiles({.table = "stl_query", .states = {FileState::kPublished}});
        int64_t rows = 0;
        for (const auto& f : *published) rows += f.rows;
        if (rows != q - 1) ++wrong_snapshots;
        ++snapshots;
      }
    });
  }
  // Commit one partition at a time, so readers get many chances to land between commits.
  auto files = lake.Files("stl_query");
  std::map<std::string, std::vector<CommittedFile>> by_partition;
  for (const auto& f : files) by_partition[f.cluster + f.dt].push_back(f);
  auto db = OpenUpkeepDatabase(lake.lake());
  ASSERT_TRUE(db.ok());
  auto conn = duck::Connection::Open(*db);
  ASSERT_TRUE(conn.ok());
  for (const auto& [key, part] : by_partition) {
    auto done_one = CompactFiles(lake.state(), lake.lake(), **conn, part, {"endtime"}, 128 << 20);
    ASSERT_TRUE(done_one.ok()) << done_one.status().ToString();
    // Let readers run over the new state before the next commit.
    const int seen = reads.load();
    while (reads.load() < seen + 2) std::this_thread::yield();
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_EQ(wrong_snapshots.load(), 0) << "of " << snapshots.load() << " snapshots";
  EXPECT_GT(reads.load(), 24);
  EXPECT_EQ(lake.Files("stl_query").size(), 12u);
}

}  // namespace
}  // namespace fleetlog::upkeep
