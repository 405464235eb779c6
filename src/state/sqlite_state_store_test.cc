#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <tuple>

#include "state/sqlite.h"
#include "state/state_store.h"
#include "test_util.h"

namespace fleetlog {
namespace {

Timestamp At(const char* text) { return *ParseTimestamp(text); }

NewFile File(const std::string& name, const std::string& dt = "2026-01-02") {
  NewFile f;
  f.table = "stl_query";
  f.cluster = "c1";
  f.dt = dt;
  f.path = "stl_query/cluster=c1/dt=" + dt + "/" + name + ".parquet";
  f.staging_path = "_fleetlog/staging/" + name + ".parquet";
  f.rows = 10;
  f.bytes = 1000;
  f.checksum = "abc";
  f.min_cursor = At("2026-01-02 00:00:00");
  f.max_cursor = At("2026-01-02 00:59:59.999999");
  return f;
}

RunRecord MakeRun(RunStatus status, const std::string& cluster = "c1", const std::string& table = "stl_query") {
  RunRecord r;
  r.cluster = cluster;
  r.table = table;
  r.started_at = At("2026-01-02 01:00:00");
  r.finished_at = At("2026-01-02 01:00:05");
  r.status = status;
  r.error = status == RunStatus::kFailed ? "connection refused" : "";
  return r;
}

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenSqliteStateStore(path_, OpenMode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  test::TempDir dir_;
  std::string path_ = dir_.Sub("state/fleetlog.db");
  std::unique_ptr<StateStore> store_;
};

TEST_F(StateStoreTest, ReopeningIsIdempotentAndKeepsData) {
  ASSERT_TRUE(store_->PutValue("k", "v").ok());
  store_.reset();
  for (int i = 0; i < 3; ++i) {
    auto again = OpenSqliteStateStore(path_, OpenMode::kReadWrite);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    auto v = (*again)->GetValue("k");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->value_or(""), "v");
  }
  auto ro = OpenSqliteStateStore(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ((*ro)->GetValue("k")->value_or(""), "v");
}

TEST_F(StateStoreTest, ReadOnlyOpenOfAMissingFileIsNotFound) {
  auto ro = OpenSqliteStateStore(dir_.Sub("nope/fleetlog.db"), OpenMode::kReadOnly);
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("nope/fleetlog.db")));
}

TEST_F(StateStoreTest, FilesKeepTheirColumnsAndAnOlderStoreReadsAsUnknown) {
  CommitRequest req;
  req.add = {File("a"), File("b")};
  req.add[0].columns = "query BIGINT, label VARCHAR";
  ASSERT_TRUE(store_->Commit(req).ok());
  auto files = store_->ListFiles({});
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].columns, "query BIGINT, label VARCHAR");
  EXPECT_EQ((*files)[1].columns, "") << "not recorded: unknown";
  store_.reset();

  // A store of schema version 1 (before files had columns): readers see no columns, and
  // the next writer migrates it.
  {
    auto raw = sqlite::Database::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw->Exec("ALTER TABLE files DROP COLUMN columns; ALTER TABLE files DROP COLUMN id_ranges; "
                          "PRAGMA user_version = 1").ok());
  }
  auto ro = OpenSqliteStateStore(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  auto old_files = (*ro)->ListFiles({});
  ASSERT_TRUE(old_files.ok()) << old_files.status().ToString();
  ASSERT_EQ(old_files->size(), 2u);
  EXPECT_EQ((*old_files)[0].columns, "");
  auto rw = OpenSqliteStateStore(path_, OpenMode::kReadWrite);
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  CommitRequest more;
  more.add = {File("c")};
  more.add[0].columns = "query BIGINT";
  ASSERT_TRUE((*rw)->Commit(more).ok());
  auto after = (*rw)->ListFiles({});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 3u);
  EXPECT_EQ((*after)[2].columns, "query BIGINT");
}

TEST_F(StateStoreTest, FilesKeepTheirIdRangesAndAnOlderStoreReadsAsUnknown) {
  CommitRequest req;
  req.add = {File("a"), File("b")};
  req.add[0].id_ranges = {{"query", {17, 4242}}, {"xid", {-5, 9000000000}}};
  ASSERT_TRUE(store_->Commit(req).ok());
  auto files = store_->ListFiles({});
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].id_ranges, req.add[0].id_ranges);
  EXPECT_TRUE((*files)[1].id_ranges.empty()) << "not recorded: unknown";
  store_.reset();

  // A store of schema version 2 (before files had id ranges): readers see none.
  {
    auto raw = sqlite::Database::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw->Exec("ALTER TABLE files DROP COLUMN id_ranges; PRAGMA user_version = 2").ok());
  }
  auto ro = OpenSqliteStateStore(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  auto old_files = (*ro)->ListFiles({});
  ASSERT_TRUE(old_files.ok()) << old_files.status().ToString();
  EXPECT_TRUE((*old_files)[0].id_ranges.empty());
  auto rw = OpenSqliteStateStore(path_, OpenMode::kReadWrite);
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  auto migrated = (*rw)->ListFiles({});
  ASSERT_TRUE(migrated.ok());
  EXPECT_TRUE((*migrated)[0].id_ranges.empty()) << "the migration invents no ranges";
}

TEST(IdRangesTextTest, RoundTripsAndRefusesWhatIsNotItsForm) {
  const IdRanges ranges = {{"query", {1, 5}}, {"transaction_id", {-3, 9223372036854775807}}};
  EXPECT_EQ(IdRangesToText(ranges), "query:1:5,transaction_id:-3:9223372036854775807");
  EXPECT_EQ(IdRangesFromText(IdRangesToText(ranges)), ranges);
  EXPECT_TRUE(IdRangesFromText("").empty());
  for (const char* bad : {"query", "query:1", "query:1:x", ":1:2", "query:5:1", "query:1:2;xid:1:2", "query:1:2,"})
    EXPECT_TRUE(IdRangesFromText(bad).empty()) << bad;
}

TEST_F(StateStoreTest, CommitRecordsFilesCursorAndRun) {
  CommitRequest req;
  req.add = {File("a"), File("b", "2026-01-03")};
  req.cursor = CursorRecord{"c1", "stl_query", At("2026-01-03 12:00:00"), {}};
  req.run = MakeRun(RunStatus::kOk);
  req.run.rows_written = 20;
  req.run.window_lower = At("2026-01-01 00:00:00");
  auto commit = store_->Commit(req);
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();

  auto files = store_->ListFiles({});
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  const CommittedFile& a = (*files)[0];
  EXPECT_EQ(a.commit_id, *commit);
  EXPECT_EQ(a.state, FileState::kCommitted);
  EXPECT_EQ(a.path, File("a").path);
  EXPECT_EQ(a.staging_path, File("a").staging_path);
  EXPECT_EQ(a.rows, 10);
  EXPECT_EQ(a.bytes, 1000);
  EXPECT_EQ(a.checksum, "abc");
  EXPECT_EQ(a.max_cursor, At("2026-01-02 00:59:59.999999"));
  EXPECT_FALSE(a.retired_at.has_value());
  EXPECT_EQ((*files)[1].dt, "2026-01-03");

  EXPECT_EQ(store_->GetCursor("c1", "stl_query")->value(), At("2026-01-03 12:00:00"));
  EXPECT_FALSE(store_->GetCursor("c1", "stl_scan")->has_value());
  auto runs = store_->RecentRuns(10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].rows_written, 20);
  EXPECT_EQ((*runs)[0].window_lower, At("2026-01-01 00:00:00"));
  EXPECT_FALSE((*runs)[0].window_upper.has_value());

  ASSERT_TRUE(store_->MarkPublished({a.id}).ok());
  auto published = store_->ListFiles({.states = {FileState::kPublished}});
  ASSERT_EQ(published->size(), 1u);
  EXPECT_EQ((*published)[0].id, a.id);
  auto committed = store_->ListFiles({.table = "stl_query", .cluster = "c1", .states = {FileState::kCommitted}});
  ASSERT_EQ(committed->size(), 1u);
  EXPECT_TRUE(store_->ListFiles({.cluster = "c2"})->empty());
}

TEST_F(StateStoreTest, ListFilesSelectsByEachFilterAloneAndTogether) {
  CommitRequest req;
  for (const std::string table : {"stl_query", "stl_scan"}) {
    for (const std::string cluster : {"c1", "c2"}) {
      NewFile f = File(table + "-" + cluster);
      f.table = table;
      f.cluster = cluster;
      f.path = table + "/cluster=" + cluster + "/dt=2026-01-02/f.parquet";
      req.add.push_back(f);
    }
  }
  auto commit = store_->Commit(req);
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  auto files = store_->ListFiles({.table = "stl_scan"});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].cluster, "c1");
  EXPECT_EQ((*files)[1].cluster, "c2");
  auto of_c2 = store_->ListFiles({.cluster = "c2"});
  ASSERT_EQ(of_c2->size(), 2u);
  EXPECT_EQ((*of_c2)[0].table, "stl_query");
  EXPECT_EQ((*of_c2)[1].table, "stl_scan");
  auto one = store_->ListFiles({.table = "stl_scan", .cluster = "c2", .states = {FileState::kCommitted}});
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].path, "stl_scan/cluster=c2/dt=2026-01-02/f.parquet");
  EXPECT_EQ(store_->ListFiles({})->size(), 4u);
  EXPECT_TRUE(store_->ListFiles({.table = "stl_scan", .states = {FileState::kPublished}})->empty());
}

TEST_F(StateStoreTest, CommitThatRetiresAnAlreadyRetiredFileFailsAndChangesNothing) {
  CommitRequest first;
  first.add = {File("a")};
  first.cursor = CursorRecord{"c1", "stl_query", At("2026-01-02 01:00:00"), {}};
  first.run = MakeRun(RunStatus::kOk);
  ASSERT_TRUE(store_->Commit(first).ok());
  const int64_t a = store_->ListFiles({})->at(0).id;

  CommitRequest compact;  // replaces a by b
  compact.add = {File("b")};
  compact.retire = {a};
  compact.run = MakeRun(RunStatus::kOk);
  compact.run.kind = "compact";
  ASSERT_TRUE(store_->Commit(compact).ok());
  auto after_compact = store_->ListFiles({});
  ASSERT_EQ(after_compact->size(), 2u);
  EXPECT_EQ(after_compact->at(0).state, FileState::kRetired);
  EXPECT_TRUE(after_compact->at(0).retired_at.has_value());

  CommitRequest stale;  // a second compaction that read a before it was replaced
  stale.add = {File("c")};
  stale.retire = {a};
  stale.cursor = CursorRecord{"c1", "stl_query", At("2026-01-09 00:00:00"), {}};
  stale.run = MakeRun(RunStatus::kOk);
  stale.run.kind = "compact";
  auto result = store_->Commit(stale);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kAlreadyExists);

  auto files = store_->ListFiles({});
  ASSERT_EQ(files->size(), 2u);  // no "c"
  for (const auto& f : *files) EXPECT_NE(f.path, File("c").path);
  EXPECT_EQ(store_->GetCursor("c1", "stl_query")->value(), At("2026-01-02 01:00:00"));
  EXPECT_EQ(store_->RecentRuns(10)->size(), 2u);  // the failed commit's run row was rolled back

  // Retiring a file that does not exist fails the same way.
  CommitRequest ghost;
  ghost.retire = {9999};
  ghost.run = MakeRun(RunStatus::kOk);
  EXPECT_FALSE(store_->Commit(ghost).ok());
  EXPECT_EQ(store_->RecentRuns(10)->size(), 2u);
}

TEST_F(StateStoreTest, CommitOfADuplicatePathFailsAndChangesNothing) {
  CommitRequest first;
  first.add = {File("a")};
  first.run = MakeRun(RunStatus::kOk);
  ASSERT_TRUE(store_->Commit(first).ok());
  CommitRequest again;
  again.add = {File("b"), File("a")};
  again.cursor = CursorRecord{"c1", "stl_query", At("2026-01-09 00:00:00"), {}};
  again.run = MakeRun(RunStatus::kOk);
  EXPECT_FALSE(store_->Commit(again).ok());
  EXPECT_EQ(store_->ListFiles({})->size(), 1u);
  EXPECT_FALSE(store_->GetCursor("c1", "stl_query")->has_value());
}

TEST_F(StateStoreTest, CursorsMoveAndList) {
  for (const auto& [cluster, table, ts] : {std::tuple{"c2", "stl_scan", "2026-01-01 00:00:00"},
                                           std::tuple{"c1", "stl_query", "2026-01-01 00:00:00"},
                                           std::tuple{"c1", "stl_query", "2026-01-01 00:05:00.000001"}}) {
    CommitRequest req;
    req.cursor = CursorRecord{cluster, table, At(ts), {}};
    req.run = MakeRun(RunStatus::kOk, cluster, table);
    ASSERT_TRUE(store_->Commit(req).ok());
  }
  auto cursors = store_->ListCursors();
  ASSERT_TRUE(cursors.ok());
  ASSERT_EQ(cursors->size(), 2u);
  EXPECT_EQ((*cursors)[0].cluster, "c1");
  EXPECT_EQ((*cursors)[0].position, At("2026-01-01 00:05:00.000001"));
  EXPECT_EQ((*cursors)[1].table, "stl_scan");
  EXPECT_GT((*cursors)[1].updated_at.micros(), 0);
}

TEST_F(StateStoreTest, RunsLatestAndFailureStreak) {
  EXPECT_EQ(*store_->FailureStreak("c1", "stl_query"), 0);
  ASSERT_TRUE(store_->RecordRun(MakeRun(RunStatus::kFailed)).ok());
  ASSERT_TRUE(store_->RecordRun(MakeRun(RunStatus::kFailed)).ok());
  EXPECT_EQ(*store_->FailureStreak("c1", "stl_query"), 2);
  CommitRequest ok;
  ok.run = MakeRun(RunStatus::kOk);
  ASSERT_TRUE(store_->Commit(ok).ok());
  EXPECT_EQ(*store_->FailureStreak("c1", "stl_query"), 0);
  ASSERT_TRUE(store_->RecordRun(MakeRun(RunStatus::kFailed)).ok());
  EXPECT_EQ(*store_->FailureStreak("c1", "stl_query"), 1);
  ASSERT_TRUE(store_->RecordRun(MakeRun(RunStatus::kFailed, "c2")).ok());
  RunRecord compact = MakeRun(RunStatus::kFailed);
  compact.kind = "compact";  // other kinds do not count towards the export back-off
  ASSERT_TRUE(store_->RecordRun(compact).ok());
  EXPECT_EQ(*store_->FailureStreak("c1", "stl_query"), 1);
  EXPECT_EQ(*store_->FailureStreak("c2", "stl_query"), 1);

  auto latest = store_->LatestRuns();
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 3u);  // (c1, compact), (c1, export), (c2, export)
  EXPECT_EQ((*latest)[0].kind, "compact");
  EXPECT_EQ((*latest)[1].kind, "export");
  EXPECT_EQ((*latest)[1].status, RunStatus::kFailed);
  EXPECT_EQ((*latest)[1].error, "connection refused");
  EXPECT_EQ((*latest)[2].cluster, "c2");

  auto recent = store_->RecentRuns(2);
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_GT((*recent)[0].id, (*recent)[1].id);
  auto c2 = store_->RecentRuns(10, "c2");
  ASSERT_EQ(c2->size(), 1u);
  EXPECT_EQ((*c2)[0].cluster, "c2");
}

TEST_F(StateStoreTest, KeyValues) {
  EXPECT_FALSE(store_->GetValue("schema/x")->has_value());
  const std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(store_->PutValue("schema/x", binary).ok());
  ASSERT_TRUE(store_->PutValue("schema/y", "2").ok());
  ASSERT_TRUE(store_->PutValue("model/z", "3").ok());
  EXPECT_EQ(store_->GetValue("schema/x")->value(), binary);
  ASSERT_TRUE(store_->PutValue("schema/y", "22").ok());
  EXPECT_EQ(store_->GetValue("schema/y")->value(), "22");
  EXPECT_EQ(*store_->ListKeys("schema/"), (std::vector<std::string>{"schema/x", "schema/y"}));
  EXPECT_EQ(store_->ListKeys("")->size(), 3u);
  ASSERT_TRUE(store_->DeleteValue("schema/x").ok());
  EXPECT_FALSE(store_->GetValue("schema/x")->has_value());
  // LIKE-style wildcards in a prefix are literal.
  ASSERT_TRUE(store_->PutValue("a_b", "1").ok());
  ASSERT_TRUE(store_->PutValue("axb", "1").ok());
  EXPECT_EQ(*store_->ListKeys("a_"), (std::vector<std::string>{"a_b"}));
}

TEST_F(StateStoreTest, FileStatesAndDeletion) {
  CommitRequest req;
  req.add = {File("a"), File("b")};
  req.run = MakeRun(RunStatus::kOk);
  ASSERT_TRUE(store_->Commit(req).ok());
  auto files = *store_->ListFiles({});
  ASSERT_TRUE(store_->SetFileState(files[0].id, FileState::kQuarantined).ok());
  EXPECT_EQ(store_->ListFiles({.states = {FileState::kQuarantined}})->size(), 1u);
  ASSERT_TRUE(store_->DeleteFiles({files[0].id, files[1].id}).ok());
  EXPECT_TRUE(store_->ListFiles({})->empty());
  EXPECT_STREQ(FileStateName(FileState::kPublished), "published");
}

TEST_F(StateStoreTest, ASecondWriterSeesCommits) {
  auto other = OpenSqliteStateStore(path_, OpenMode::kReadOnly);
  ASSERT_TRUE(other.ok());
  CommitRequest req;
  req.add = {File("a")};
  req.run = MakeRun(RunStatus::kOk);
  ASSERT_TRUE(store_->Commit(req).ok());
  EXPECT_EQ((*other)->ListFiles({})->size(), 1u);
}

}  // namespace
}  // namespace fleetlog
