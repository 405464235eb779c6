// End-to-end tests of lake upkeep:
//   - a differential test: the same rows read before and after compaction, roll-ups and
//     expiry, and a purge equal what a model of each step predicts;
//   - crash tests: a forked process compacting or purging is killed at each injected point
//     (FLEETLOG_CRASH_AT); after recovery the lake verifies clean and shows every row once
//     (the purge either wholly done or not at all), and the job then completes.
#include "upkeep/upkeep.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "lake/commit.h"
#include "upkeep/purge.h"
#include "upkeep/policy.h"
#include "upkeep_test_util.h"
#include "upkeep/verify.h"

namespace fleetlog::upkeep {
namespace {

using testing::kAllQueries;
using testing::kAllText;
using testing::UpkeepLake;

// Field `i` of a "a|b|c" row.
std::string Field(const std::string& row, int i) {
  size_t start = 0;
  for (int k = 0; k < i; ++k) start = row.find('|', start) + 1;
  return row.substr(start, row.find('|', start) - start);
}

template <typename Pred>
std::vector<std::string> Filter(const std::vector<std::string>& rows, Pred keep) {
  std::vector<std::string> out;
  for (const auto& r : rows)
    if (keep(r)) out.push_back(r);
  return out;
}

void ExpectVerifiesClean(UpkeepLake& lake) {
  auto report = VerifyLake(lake.state(), lake.lake(), {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const auto& i : report->issues) ADD_FAILURE() << IssueKindName(i.kind) << " " << i.path << ": " << i.detail;
  EXPECT_THAT(report->in_progress, ::testing::IsEmpty());
}

TEST(UpkeepDifferentialTest, CompactionRetentionAndPurgeChangeExactlyWhatTheyShould) {
  UpkeepLake lake;
  const Timestamp today = *DayStart(DateOf(Timestamp::Now()));
  // Two clusters, six days each 100 days apart from 550 days ago, four windows a day.
  int64_t q = 1;
  for (const char* cluster : {"c1", "c2"})
    for (int d = 0; d < 6; ++d)
      for (int w = 0; w < 4; ++w, q += 25)
        lake.WriteQueries(cluster, q, q + 24, today - Duration::Days(550 - 100 * d) + Duration::Hours(w * 3), true);
  const auto rows0 = lake.Rows(kAllQueries);
  const auto text0 = lake.Rows(kAllText);
  ASSERT_EQ(rows0.size(), static_cast<size_t>(q - 1));
  ASSERT_EQ(text0.size(), 2 * rows0.size());

  // 1. Compaction: the same rows, 48 files per table down to 12.
  UpkeepPlan plan;
  plan.retention = false;
  auto compacted = RunUpkeep(lake.state(), lake.lake(), lake.config(), plan, Timestamp::Now());
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  EXPECT_EQ(compacted->compacted.files_in, 96);
  EXPECT_EQ(compacted->compacted.files_out, 24);
  EXPECT_EQ(lake.Rows(kAllQueries), rows0);
  EXPECT_EQ(lake.Rows(kAllText), text0);

  // 2. Retention: stl_query keeps 400 days (the days 550 and 450 days ago go), roll-ups are
  //    built first and keep every day; stl_querytext has no keep.
  const auto hourly0 = lake.Rows(
      "SELECT cluster, date_trunc('hour', endtime), count(*) FROM stl_query GROUP BY ALL ORDER BY ALL");
  lake.config().table_overrides["stl_query"].keep = Duration::Days(400);
  const Timestamp cutoff = Timestamp::Now() - Duration::Days(400);
  plan.retention = true;
  auto retained = RunUpkeep(lake.state(), lake.lake(), lake.config(), plan, Timestamp::Now());
  ASSERT_TRUE(retained.ok()) << retained.status().ToString();
  EXPECT_EQ(retained->rollups.days, 12);
  EXPECT_EQ(retained->expired.partitions, 4);
  const auto rows1 = Filter(rows0, [&](const std::string& r) { return !DayEndsBy(Field(r, 1), cutoff); });
  EXPECT_EQ(rows1.size(), rows0.size() * 4 / 6);
  EXPECT_EQ(lake.Rows(kAllQueries), rows1);
  EXPECT_EQ(lake.Rows(kAllText), text0);
  EXPECT_EQ(lake.Rows("SELECT cluster, hour, queries FROM rollup_hourly ORDER BY ALL"), hourly0);

  // 3. Purge every 7th query: gone from stl_query, and from the roll-ups of the days that
  //    still have raw rows (expired days keep their aggregates).
  auto purged = PurgeRows(lake.state(), lake.lake(), lake.config(),
                          {.table = "stl_query", .predicate = "query % 7 = 0", .who = "dpo"});
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  const auto rows2 = Filter(rows1, [](const std::string& r) { return std::stoll(Field(r, 3)) % 7 != 0; });
  EXPECT_EQ(purged->rows_matched, static_cast<int64_t>(rows1.size() - rows2.size()));
  EXPECT_EQ(lake.Rows(kAllQueries), rows2);
  EXPECT_EQ(purged->rollup_days_rebuilt, 8);
  const auto expired_hours = lake.Rows(fmt::format(
      "SELECT sum(queries) FROM rollup_hourly WHERE dt <= DATE '{}'", DateOf(cutoff)));
  EXPECT_EQ(lake.Rows("SELECT sum(queries) FROM rollup_hourly"),
            std::vector<std::string>{std::to_string(std::stoll(expired_hours.at(0)) + static_cast<int64_t>(rows2.size()))});
  //    The text of purged queries is not purged (another table: purge it by its own predicate).
  auto text_purged = PurgeRows(lake.state(), lake.lake(), lake.config(),
                               {.table = "stl_querytext", .predicate = "query % 7 = 0", .who = "dpo"});
  ASSERT_TRUE(text_purged.ok()) << text_purged.status().ToString();
  EXPECT_EQ(lake.Rows(kAllText),
            Filter(text0, [](const std::string& r) { return std::stoll(Field(r, 2)) % 7 != 0; }));

  // 4. Old files go after the grace period; the lake verifies clean and reads the same.
  plan.grace = Duration();
  auto swept = RunUpkeep(lake.state(), lake.lake(), lake.config(), plan, Timestamp::Now());
  ASSERT_TRUE(swept.ok());
  EXPECT_GT(swept->swept.files_deleted, 0);
  EXPECT_TRUE(lake.Files("stl_query", {FileState::kRetired}).empty());
  ExpectVerifiesClean(lake);
  EXPECT_EQ(lake.Rows(kAllQueries), rows2);
}

// ---- crash tests ----

struct CrashCase {
  const char* job;       // "compact" | "purge" | "sweep"
  const char* crash_at;
  bool changed;          // whether the (first) commit happened before the kill
};

class UpkeepCrashTest : public ::testing::TestWithParam<CrashCase> {
 protected:
  void SetUp() override {
    for (const char* cluster : {"c1", "c2"})
      for (int w = 0; w < 6; ++w)
        lake_.WriteQueries(cluster, w * 20 + 1, w * 20 + 20, testing::Day("2025-02-01") + Duration::Hours(w * 6));
    before_ = lake_.Rows(kAllQueries);
    purged_ = Filter(before_, [](const std::string& r) { return std::stoll(Field(r, 3)) % 3 != 0; });
  }

  // The job, as the child runs it and as the parent finishes it after recovery.
  Status RunJob(StateStore& state, const std::string& job) {
    Config config = lake_.config();
    if (job == "purge")
      return PurgeRows(state, lake_.lake(), config, {.table = "stl_query", .predicate = "query % 3 = 0", .who = "t"}).status();
    UpkeepPlan plan;
    plan.retention = false;
    plan.grace = Duration();
    if (job == "sweep") RETURN_IF_ERROR(RunUpkeep(state, lake_.lake(), config, plan, Timestamp::Now()).status());
    return RunUpkeep(state, lake_.lake(), config, plan, Timestamp::Now()).status();
  }

  [[noreturn]] void RunInChild(const CrashCase& c) {
    ::setenv("FLEETLOG_CRASH_AT", c.crash_at, 1);
    auto state = OpenSqliteStateStore(lake_.db_path(), OpenMode::kReadWrite);
    if (!state.ok()) ::_exit(10);
    auto lock = WriterLock::Acquire(lake_.lake());
    if (!lock.ok()) ::_exit(11);
    Status s = RunJob(**state, c.job);
    ::_exit(s.ok() ? 0 : 12);
  }

  // Files under table folders are exactly the catalog's published and not-yet-swept retired
  // files; staging is empty.
  void ExpectLakeMatchesCatalog() {
    std::set<std::string> catalog, on_disk;
    auto files = lake_.state().ListFiles({.states = {FileState::kPublished, FileState::kRetired}});
    ASSERT_TRUE(files.ok());
    for (const auto& f : *files)
      if (f.state == FileState::kPublished || std::filesystem::exists(lake_.lake().Abs(f.path))) catalog.insert(f.path);
    for (const auto& f : test::ListFilesUnder(lake_.lake().root()))
      if (f.rfind("_fleetlog/", 0) != 0) on_disk.insert(f);
    EXPECT_EQ(on_disk, catalog);
    EXPECT_THAT(test::ListFilesUnder(lake_.lake().Abs(LakeLayout::StagingDir())), ::testing::IsEmpty());
  }

  UpkeepLake lake_;
  std::vector<std::string> before_, purged_;
};

TEST_P(UpkeepCrashTest, RecoveryLeavesAConsistentLakeAndTheJobCompletes) {
  const CrashCase& c = GetParam();
  if (std::string(c.job) == "sweep") {
    // Something to sweep: a compaction whose replaced files are still on disk.
    UpkeepPlan plan;
    plan.retention = false;
    plan.grace = Duration::Hours(1);
    ASSERT_TRUE(RunUpkeep(lake_.state(), lake_.lake(), lake_.config(), plan, Timestamp::Now()).ok());
  }
  lake_.CloseForFork();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) RunInChild(c);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << c.crash_at << ": the job was not killed (exit "
                                   << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  lake_.ReopenState();
  {
    auto lock = WriterLock::Acquire(lake_.lake());
    ASSERT_TRUE(lock.ok());
    ASSERT_TRUE(Recover(lake_.state(), lake_.lake()).ok());  // what LakeSession::Open runs
    ASSERT_TRUE(RecoverUpkeep(lake_.state(), lake_.lake()).ok());  // what every upkeep job runs first
    ExpectLakeMatchesCatalog();
    ExpectVerifiesClean(lake_);
    const bool purge = std::string(c.job) == "purge";
    EXPECT_EQ(lake_.Rows(kAllQueries), purge && c.changed ? purged_ : before_);

    ASSERT_TRUE(RunJob(lake_.state(), c.job).ok());
    ExpectLakeMatchesCatalog();
    ExpectVerifiesClean(lake_);
    EXPECT_EQ(lake_.Rows(kAllQueries), purge ? purged_ : before_);
  }
}

INSTANTIATE_TEST_SUITE_P(
    // One end-to-end kill per job; every other fault point is covered in-process by
    // tests/fault_injection_test.cc.
    OnePerJob, UpkeepCrashTest,
    ::testing::Values(CrashCase{"compact", "compact-placed:2", false}, CrashCase{"purge", "purge-placed:3", false},
                      CrashCase{"sweep", "sweep-deleted:3", true}),
    [](const ::testing::TestParamInfo<CrashCase>& p) {
      std::string name = std::string(p.param.job) + "_" + p.param.crash_at;
      for (char& ch : name)
        if (ch == '-' || ch == ':') ch = '_';
      return name;
    });

}  // namespace
}  // namespace fleetlog::upkeep
