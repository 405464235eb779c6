// The commit journal on a local lake (the S3 form runs in tests/integration/s3_lake_test.cc):
// restore rebuilds the state store from the lake alone; a commit that reached the journal but
// not the local store is applied at the next open, once.
#include "lake/journal.h"

#include <gtest/gtest.h>

#include "journal_faults.h"
#include "test_util.h"

namespace fleetlog {
namespace {

using test::FaultyStateStore;

Timestamp At(const char* text) { return *ParseTimestamp(text); }

NewFile File(const std::string& name, int64_t rows) {
  NewFile f;
  f.table = "stl_query";
  f.cluster = "c1";
  f.dt = "2026-11-30";
  f.path = "stl_query/cluster=c1/dt=2026-11-30/" + name;
  f.staging_path = "_fleetlog/staging/" + name;
  f.rows = rows;
  f.bytes = rows * 10;
  f.checksum = "sum-" + name;
  f.min_cursor = At("2026-11-30 01:00:00");
  f.max_cursor = At("2026-11-30 02:00:00");
  f.columns = "query BIGINT";
  f.id_ranges = {{"query", {rows, rows * 100}}, {"xid", {rows * 7, rows * 7}}};
  return f;
}

CommitRequest Export(std::vector<NewFile> files, const char* cursor) {
  CommitRequest r;
  r.add = std::move(files);
  r.cursor = CursorRecord{"c1", "stl_query", At(cursor), At(cursor)};
  r.run.cluster = "c1";
  r.run.table = "stl_query";
  r.run.started_at = At(cursor);
  r.run.finished_at = At(cursor) + Duration::Seconds(3);
  r.run.window_upper = At(cursor);
  r.run.rows_written = 0;
  for (const NewFile& f : r.add) r.run.rows_written += f.rows;
  return r;
}

class JournalTest : public testing::Test {
 protected:
  std::unique_ptr<StateStore> OpenSqlite(const std::string& name) {
    auto state = OpenSqliteStateStore(dir_.Sub(name), OpenMode::kReadWrite);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    return std::move(state).value();
  }
  // Puts `f` at its lake path, as publishing would.
  void Place(const NewFile& f) { ASSERT_TRUE(Env::Default()->WriteFile(lake_ + "/" + f.path, "parquet").ok()); }

  test::TempDir dir_;
  std::string lake_ = dir_.Sub("lake");
};

TEST_F(JournalTest, RestoreRebuildsFilesCursorsAndRuns) {
  auto opened = JournaledStateStore::Open(OpenSqlite("a.db"), Env::Default(), lake_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  JournaledStateStore& a = **opened;
  ASSERT_TRUE(a.Commit(Export({File("1.parquet", 10), File("2.parquet", 20)}, "2026-11-30 03:00:00")).ok());
  RunRecord failed = Export({}, "2026-11-30 03:05:00").run;
  failed.status = RunStatus::kFailed;
  failed.error = "connection refused";
  ASSERT_TRUE(a.RecordRun(failed).ok());
  // A compaction: one file replaces both.
  ASSERT_TRUE(a.Commit(Export({File("3.parquet", 10)}, "2026-11-30 03:10:00")).ok());
  auto files = a.ListFiles({});
  ASSERT_TRUE(files.ok());
  CommitRequest compact;
  compact.add = {File("12.parquet", 30)};
  for (const auto& f : *files) {
    if (f.path.ends_with("/1.parquet") || f.path.ends_with("/2.parquet")) compact.retire.push_back(f.id);
  }
  compact.run = Export({}, "2026-11-30 03:11:00").run;
  compact.run.kind = "compact";
  ASSERT_TRUE(a.Commit(compact).ok());
  Place(File("3.parquet", 0));
  Place(File("12.parquet", 0));  // 1 and 2 are gone from the folder; 12 and 3 are in place

  auto b = OpenSqlite("b.db");
  auto report = RestoreFromJournal(Env::Default(), lake_, *b);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->records, 4);
  EXPECT_EQ(report->applied, 4);
  EXPECT_EQ(report->files, 4);

  auto cursor = b->GetCursor("c1", "stl_query");
  ASSERT_TRUE(cursor.ok() && cursor->has_value());
  EXPECT_EQ(**cursor, At("2026-11-30 03:10:00"));
  auto restored = b->ListFiles({});
  auto original = a.ListFiles({});
  ASSERT_EQ(restored->size(), original->size());
  for (size_t i = 0; i < restored->size(); ++i) {
    const CommittedFile &r = (*restored)[i], &o = (*original)[i];
    EXPECT_EQ(r.path, o.path);
    EXPECT_EQ(r.rows, o.rows);
    EXPECT_EQ(r.checksum, o.checksum);
    EXPECT_EQ(r.max_cursor, o.max_cursor);
    EXPECT_EQ(r.id_ranges, o.id_ranges);
    EXPECT_FALSE(r.id_ranges.empty());
    // Retired stay retired; the rest are published when they are in place.
    bool retired = r.path.ends_with("/1.parquet") || r.path.ends_with("/2.parquet");
    EXPECT_EQ(r.state, retired ? FileState::kRetired : FileState::kPublished) << r.path;
  }
  auto runs = b->RecentRuns(10);
  ASSERT_EQ(runs->size(), 4u);
  EXPECT_EQ((*runs)[0].kind, "compact");
  EXPECT_EQ((*runs)[2].status, RunStatus::kFailed);
  EXPECT_EQ((*runs)[2].error, "connection refused");
  EXPECT_EQ((*runs)[3].rows_written, 30);

  // Restoring twice applies nothing twice.
  report = RestoreFromJournal(Env::Default(), lake_, *b);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->applied, 0);
  EXPECT_EQ(b->ListFiles({})->size(), 4u);
}

TEST_F(JournalTest, CommitInTheJournalButNotLocalIsAppliedAtNextOpen) {
  auto sqlite = OpenSqlite("a.db");
  {
    auto opened = JournaledStateStore::Open(std::make_unique<FaultyStateStore>(sqlite.get()), Env::Default(), lake_);
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE((*opened)->Commit(Export({File("1.parquet", 10)}, "2026-11-30 03:00:00")).ok());
  }
  {
    auto inner = std::make_unique<FaultyStateStore>(sqlite.get());
    inner->fail_commits = -1;  // and the catch-up's commit too: a database broken until restart
    auto opened = JournaledStateStore::Open(std::move(inner), Env::Default(), lake_);
    ASSERT_TRUE(opened.ok());
    Result<int64_t> lost = (*opened)->Commit(Export({File("2.parquet", 20)}, "2026-11-30 03:05:00"));
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.status().code(), StatusCode::kInDoubt) << lost.status().ToString();
    EXPECT_NE(lost.status().message().find("the next call or start applies it"), std::string::npos)
        << lost.status().ToString();
    // Nothing reads the catalog behind the journal meanwhile.
    EXPECT_EQ((*opened)->GetCursor("c1", "stl_query").status().code(), StatusCode::kIoError);
    EXPECT_EQ(**sqlite->GetCursor("c1", "stl_query"), At("2026-11-30 03:00:00"));
  }
  JournalReport report;
  auto reopened = JournaledStateStore::Open(std::make_unique<FaultyStateStore>(sqlite.get()), Env::Default(), lake_, &report);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(report.applied, 1);
  EXPECT_EQ(**sqlite->GetCursor("c1", "stl_query"), At("2026-11-30 03:05:00"));
  EXPECT_EQ(sqlite->ListFiles({})->size(), 2u);
  // And the next commit takes the next sequence number.
  ASSERT_TRUE((*reopened)->Commit(Export({File("3.parquet", 5)}, "2026-11-30 03:10:00")).ok());
  EXPECT_EQ(test::ListFilesUnder(lake_ + "/_fleetlog/journal").size(), 3u);
}

// The lake refuses writes (wrong credentials, a missing bucket, a full disk): nothing lands.
class RefusingEnv final : public EnvWrapper {
 public:
  RefusingEnv() : EnvWrapper(Env::Default()) {}
  Status WriteFile(const std::string& path, std::string_view, const WriteOptions&) override {
    return Status(StatusCode::kPermissionDenied, "injected: access refused to " + path);
  }
};

TEST_F(JournalTest, NothingCommittedWhenTheJournalCannotBeWritten) {
  RefusingEnv refusing;
  auto sqlite = OpenSqlite("a.db");
  StateStore* raw = sqlite.get();
  auto opened = JournaledStateStore::Open(std::move(sqlite), &refusing, lake_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Status refused = (*opened)->Commit(Export({File("1.parquet", 10)}, "2026-11-30 03:00:00")).status();
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied) << refused.ToString();
  EXPECT_FALSE(raw->GetCursor("c1", "stl_query")->has_value());
  EXPECT_TRUE(raw->ListFiles({})->empty());
}

TEST_F(JournalTest, ALocalCommitThatFailsOnceIsCaughtUpFromTheJournalAtOnce) {
  auto sqlite = OpenSqlite("a.db");
  auto inner = std::make_unique<FaultyStateStore>(sqlite.get());
  FaultyStateStore* faulty = inner.get();
  auto opened = JournaledStateStore::Open(std::move(inner), Env::Default(), lake_);
  ASSERT_TRUE(opened.ok());
  faulty->fail_commits = 1;
  Result<int64_t> committed = (*opened)->Commit(Export({File("1.parquet", 10)}, "2026-11-30 03:00:00"));
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(faulty->failed, 1);
  EXPECT_EQ(**sqlite->GetCursor("c1", "stl_query"), At("2026-11-30 03:00:00"));
  auto files = sqlite->ListFiles({});
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ(files->front().commit_id, *committed);
  // Applied once: a reopening applies nothing more.
  JournalReport report;
  ASSERT_TRUE(JournaledStateStore::Open(std::make_unique<FaultyStateStore>(sqlite.get()), Env::Default(), lake_, &report).ok());
  EXPECT_EQ(report.applied, 0);
  EXPECT_EQ(sqlite->ListFiles({})->size(), 1u);
}

TEST_F(JournalTest, APutWhoseAnswerWasLostIsWithdrawnAndItsNumberNeverReused) {
  test::JournalFaultEnv env;
  auto sqlite = OpenSqlite("a.db");
  auto opened = JournaledStateStore::Open(std::make_unique<FaultyStateStore>(sqlite.get()), &env, lake_);
  ASSERT_TRUE(opened.ok());
  env.lose_answers = 1;
  Status lost = (*opened)->Commit(Export({File("1.parquet", 10)}, "2026-11-30 03:00:00")).status();
  EXPECT_EQ(lost.code(), StatusCode::kTimeout) << lost.ToString();  // not in doubt: the caller undoes
  EXPECT_EQ(env.records_written, 1);                                  // although the record landed
  EXPECT_FALSE(sqlite->GetCursor("c1", "stl_query")->has_value());
  EXPECT_TRUE(Env::Default()->FileExists(lake_ + "/_fleetlog/journal/withdrawn/00000000000000000001.json").value());
  ASSERT_TRUE((*opened)->Commit(Export({File("2.parquet", 20)}, "2026-11-30 03:05:00")).ok());
  EXPECT_TRUE(Env::Default()->FileExists(lake_ + "/_fleetlog/journal/00000000000000000002.json").value());
  // A new machine sees the second commit only; so does this one reopened.
  auto b = OpenSqlite("b.db");
  auto report = RestoreFromJournal(Env::Default(), lake_, *b);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->applied, 1);
  auto files = b->ListFiles({});
  ASSERT_EQ(files->size(), 1u);
  EXPECT_TRUE(files->front().path.ends_with("/2.parquet"));
  JournalReport reopened;
  ASSERT_TRUE(JournaledStateStore::Open(std::make_unique<FaultyStateStore>(sqlite.get()), &env, lake_, &reopened).ok());
  EXPECT_EQ(reopened.applied, 0);
  EXPECT_EQ(sqlite->ListFiles({})->size(), 1u);
}

TEST_F(JournalTest, ACommitInDoubtHoldsEveryCallUntilItsNumberIsWithdrawn) {
  test::JournalFaultEnv env;
  auto sqlite = OpenSqlite("a.db");
  {
    auto opened = JournaledStateStore::Open(std::make_unique<FaultyStateStore>(sqlite.get()), &env, lake_);
    ASSERT_TRUE(opened.ok());
    env.lose_answers = 1;
    env.refuse_withdrawals = true;
    Status doubt = (*opened)->Commit(Export({File("1.parquet", 10)}, "2026-11-30 03:00:00")).status();
    EXPECT_EQ(doubt.code(), StatusCode::kInDoubt) << doubt.ToString();
    // Nothing reads or commits past the doubt while the bucket refuses the withdrawal.
    EXPECT_FALSE((*opened)->ListFiles({}).ok());
    EXPECT_FALSE((*opened)->Commit(Export({File("2.parquet", 20)}, "2026-11-30 03:05:00")).ok());
    EXPECT_EQ(env.records_written, 1);
  }  // the process ends in doubt
  env.refuse_withdrawals = false;
  JournalReport report;
  auto reopened = JournaledStateStore::Open(std::make_unique<FaultyStateStore>(sqlite.get()), &env, lake_, &report);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(report.applied, 0);  // withdrawn before anything was applied
  EXPECT_TRUE((*reopened)->ListFiles({})->empty());
  EXPECT_FALSE(sqlite->GetValue("journal/in_doubt")->has_value());
  ASSERT_TRUE((*reopened)->Commit(Export({File("3.parquet", 30)}, "2026-11-30 03:10:00")).ok());
  auto b = OpenSqlite("b.db");
  ASSERT_TRUE(RestoreFromJournal(Env::Default(), lake_, *b).ok());
  auto files = b->ListFiles({});
  ASSERT_EQ(files->size(), 1u);
  EXPECT_TRUE(files->front().path.ends_with("/3.parquet"));
}

}  // namespace
}  // namespace fleetlog
