// Crash tests of the commit protocol: a forked writer is killed with SIGKILL at each step of
// staging -> commit -> publish (FLEETLOG_CRASH_AT, see core/fs.h), then recovery runs and
// the lake is read back through the query engine.
#include "lake/commit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/fs.h"
#include "query/engine.h"
#include "test_util.h"

namespace fleetlog {
namespace {

namespace fs = std::filesystem;

const TableSchema kSchema = {{"query", ColumnType::kInt64}, {"starttime", ColumnType::kTimestamp}, {"text", ColumnType::kVarchar}};
const test::LakeWrite kTarget{"stl_query", "c1", "starttime", {"query"}, std::nullopt};

int64_t Us(const char* text) { return ParseTimestamp(text)->micros(); }

// Queries `first`..`last`, the n-th at `day` + n hours (so a range spans several dts).
RowBatch Queries(int64_t first, int64_t last, const char* day) {
  RowBatch b(kSchema);
  for (int64_t q = first; q <= last; ++q) {
    b.column(0).AppendInt(q);
    b.column(1).AppendInt(Us(day) + (q - first) * 3'600'000'000LL * 11);
    b.column(2).AppendString("select " + std::to_string(q));
  }
  return b;
}

// The window the child writes: 3 again (already committed) and 4..8, over three dts.
RowBatch SecondWindow() { return Queries(3, 8, "2026-01-01 20:00:00"); }
const Timestamp kFirstCursor = Timestamp::FromMicros(Us("2026-01-02 00:00:00"));
const Timestamp kSecondCursor = Timestamp::FromMicros(Us("2026-01-04 00:00:00"));

struct CrashCase {
  const char* crash_at;
  bool committed;       // whether the second window's commit happened before the kill
  int published;        // files recovery must publish
  int staging_deleted;  // staged files recovery must delete
};
void PrintTo(const CrashCase& c, std::ostream* os) { *os << c.crash_at; }

class CrashTest : public ::testing::TestWithParam<CrashCase> {
 protected:
  std::unique_ptr<StateStore> OpenState() {
    auto state = OpenSqliteStateStore(db_, OpenMode::kReadWrite);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return state.ok() ? std::move(state).value() : nullptr;
  }

  // Runs in the forked child: stage, commit and publish the second window, dying at
  // `crash_at`. Exits 0 if it survived (the crash point was never reached).
  [[noreturn]] void WriteInChild(const char* crash_at) {
    ::setenv("FLEETLOG_CRASH_AT", crash_at, 1);
    auto state = OpenSqliteStateStore(db_, OpenMode::kReadWrite);
    if (!state.ok()) ::_exit(10);
    auto lock = WriterLock::Acquire(lake_);
    if (!lock.ok()) ::_exit(11);
    test::LakeWrite what = kTarget;
    what.cursor = kSecondCursor;
    auto written = test::WriteToLake(**state, lake_, what, SecondWindow());
    ::_exit(written.ok() ? 0 : 12);
  }

  // Every `query` value visible through the query engine, with how often it appears.
  std::map<int64_t, int64_t> VisibleQueries(StateStore& state) {
    std::map<int64_t, int64_t> seen;
    auto engine = QueryEngine::Open(EngineOptions{.lake_root = lake_.root()}, &state);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    if (!engine.ok()) return seen;
    auto r = (*engine)->Run("SELECT query, count(*) FROM stl_query GROUP BY query ORDER BY query");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return seen;
    for (size_t i = 0; i < r->row_count(); ++i) seen[r->int64(0, i)] = r->int64(1, i);
    return seen;
  }

  static std::map<int64_t, int64_t> OnceEach(int64_t first, int64_t last) {
    std::map<int64_t, int64_t> m;
    for (int64_t q = first; q <= last; ++q) m[q] = 1;
    return m;
  }

  // The lake's table folders hold exactly the published files, and staging is empty.
  void ExpectLakeMatchesState(StateStore& state) {
    std::set<std::string> published;
    auto files = state.ListFiles({.states = {FileState::kPublished}});
    ASSERT_TRUE(files.ok());
    for (const auto& f : *files) published.insert(f.path);
    EXPECT_TRUE(state.ListFiles({.states = {FileState::kCommitted}})->empty());
    std::set<std::string> on_disk;
    for (const auto& f : test::ListFilesUnder(lake_.root()))
      if (f.rfind("_fleetlog/", 0) != 0) on_disk.insert(f);
    EXPECT_EQ(on_disk, published);
    EXPECT_THAT(test::ListFilesUnder(lake_.Abs(LakeLayout::StagingDir())), ::testing::IsEmpty());
  }

  test::TempDir dir_;
  std::string db_ = dir_.Sub("fleetlog.db");
  LakeLayout lake_{dir_.Sub("lake")};
};

TEST_P(CrashTest, RecoveryShowsEveryCommittedRowOnceAndNothingElse) {
  const CrashCase& c = GetParam();
  {  // A first window, committed and published normally.
    auto state = OpenState();
    ASSERT_NE(state, nullptr);
    test::LakeWrite what = kTarget;
    what.cursor = kFirstCursor;
    auto first = test::WriteToLake(*state, lake_, what, Queries(1, 3, "2026-01-01 00:00:00"));
    ASSERT_TRUE(first.ok()) << first.status().ToString();
  }  // No open connections or DuckDB threads across fork().

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) WriteInChild(c.crash_at);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << c.crash_at << ": the writer was not killed (exit "
                                   << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  auto state = OpenState();
  ASSERT_NE(state, nullptr);
  {
    auto lock = WriterLock::Acquire(lake_);  // released by the kill
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
    auto report = Recover(*state, lake_);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->published, c.published);
    EXPECT_EQ(report->staging_deleted, c.staging_deleted);
    auto again = Recover(*state, lake_);  // idempotent
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->published, 0);
    EXPECT_EQ(again->staging_deleted, 0);
  }
  ExpectLakeMatchesState(*state);
  EXPECT_EQ(VisibleQueries(*state), OnceEach(1, c.committed ? 8 : 3));
  EXPECT_EQ(state->GetCursor("c1", "stl_query")->value(), c.committed ? kSecondCursor : kFirstCursor);
  EXPECT_EQ(state->RecentRuns(10)->size(), c.committed ? 2u : 1u);

  // The retry of the window (what the next cycle does) neither loses nor repeats a row.
  test::LakeWrite what = kTarget;
  what.cursor = kSecondCursor;
  auto retry = test::WriteToLake(*state, lake_, what, SecondWindow());
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->rows_written, c.committed ? 0 : 5);
  ExpectLakeMatchesState(*state);
  EXPECT_EQ(VisibleQueries(*state), OnceEach(1, 8));
}

std::string CrashCaseName(const ::testing::TestParamInfo<CrashCase>& param_info) {
  std::string name = param_info.param.crash_at;
  for (char& ch : name)
    if (ch == '-' || ch == ':') ch = '_';
  return name;
}

// One end-to-end kill of a real process; every other fault point of the commit is covered
// in-process by tests/fault_injection_test.cc.
INSTANTIATE_TEST_SUITE_P(KilledMidPublish, CrashTest,
                         // The second window stages three files (three dts).
                         ::testing::Values(CrashCase{"mid-publish:2", true, 3, 0}), CrashCaseName);

TEST(CommitTest, PublishingIsIdempotentAndMissingFilesAreCorruption) {
  test::TempDir dir;
  LakeLayout lake(dir.Sub("lake"));
  auto state = OpenSqliteStateStore(dir.Sub("fleetlog.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(state.ok());
  auto written = test::WriteToLake(**state, lake, kTarget, Queries(1, 2, "2026-01-01 00:00:00"));
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_TRUE(PublishCommitted(**state, lake).ok());

  // A committed file that is neither staged nor published cannot be published.
  CommitRequest ghost;
  NewFile f = written->files[0];
  f.path = "stl_query/cluster=c1/dt=2026-01-01/ghost.parquet";
  f.staging_path = "_fleetlog/staging/ghost.parquet";
  ghost.add = {f};
  auto commit = CommitAndPublish(**state, lake, ghost);
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();  // the commit itself held
  EXPECT_EQ(commit->publish_error.code(), StatusCode::kCorruption);
  EXPECT_THAT(commit->publish_error.message(), ::testing::HasSubstr("committed, but publishing failed"));
}

TEST(CommitTest, RecoveryDeletesUncommittedStagingAndSpillFiles) {
  test::TempDir dir;
  LakeLayout lake(dir.Sub("lake"));
  ASSERT_TRUE(lake.Prepare().ok());
  ASSERT_TRUE(test::WriteFile(lake.Abs("_fleetlog/staging/orphan.parquet"), "x"));
  ASSERT_TRUE(test::WriteFile(lake.Abs("_fleetlog/tmp/duckdb_temp_storage-0.tmp"), "x"));
  auto state = OpenSqliteStateStore(dir.Sub("fleetlog.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(state.ok());
  auto report = Recover(**state, lake);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->staging_deleted, 1);
  EXPECT_EQ(report->published, 0);
  EXPECT_TRUE(test::ListFilesUnder(lake.Abs("_fleetlog/staging")).empty());
  EXPECT_TRUE(test::ListFilesUnder(lake.Abs("_fleetlog/tmp")).empty());
}

TEST(CommitTest, WriterLockIsExclusive) {
  test::TempDir dir;
  LakeLayout lake(dir.Sub("lake"));
  auto first = WriterLock::Acquire(lake);
  ASSERT_TRUE(first.ok());
  auto second = WriterLock::Acquire(lake);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr(std::to_string(::getpid())));
}

}  // namespace
}  // namespace fleetlog
