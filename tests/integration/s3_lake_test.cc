// A lake in S3 (OpenStack Swift's s3api) end to end, through the `fleetlog` binary: exports of
// several clusters with late rows and ties, SIGKILLed at every commit step; the local state
// and cache lost and rebuilt from the bucket (`fleetlog restore`, and the next start by
// itself); a second writer refused; queries, compaction, purge and verify on the bucket; and
// the table folders listed by the AWS CLI holding exactly the committed files.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include "exporter/writer.h"
#include "integration/export_fixture.h"
#include "duck/duck.h"
#include "query/engine.h"
#include "storage/s3_lake.h"
#include "swift_harness.h"

namespace fleetlog::integration {
namespace {

class S3LakeEndToEndTest : public ExportFixture {
 protected:
  void SetUp() override {
    ExportFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!SwiftHarness::Available()) GTEST_SKIP() << "OpenStack Swift is not installed";
    auto swift = SwiftHarness::Shared();
    ASSERT_TRUE(swift.ok()) << swift.status().ToString();
    swift_ = *swift;
    auto bucket = swift_->CreateUniqueBucket(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
    bucket_ = *bucket;
    // The in-process readers of this test find the same credentials as the fleetlog processes.
    setenv("AWS_ACCESS_KEY_ID", SwiftHarness::kAccessKey, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SwiftHarness::kSecretKey, 1);
    unsetenv("AWS_SESSION_TOKEN");
  }

  std::string Root() const { return "s3://" + bucket_ + "/lake"; }

  // ExportFixture's config with the lake moved into the bucket.
  Config S3Config(const std::vector<std::string>& dbs, const std::string& extra = "") {
    std::string text = ConfigText(dbs, extra);
    const std::string local = fmt::format("[lake]\npath = \"{}/lake\"\n", dir_.path());
    const size_t at = text.find(local);
    EXPECT_NE(at, std::string::npos);
    text.replace(at, local.size(),
                 fmt::format("[lake]\npath = \"{}\"\ncache_dir = \"{}\"\ncache_size = \"64MB\"\n"
                             "[lake.s3]\nendpoint = \"{}\"\nregion = \"{}\"\npath_style = true\n",
                             Root(), dir_.Sub("cache"), swift_->Endpoint(), SwiftHarness::kRegion));
    return MakeConfig(text);
  }

  test::ProcessResult Fleetlog(const Config& config, const std::vector<std::string>& args,
                               std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {"--config", config.file};
    argv.insert(argv.end(), args.begin(), args.end());
    env.try_emplace(kPasswordEnv, PgHarness::kPassword);
    env.try_emplace("AWS_ACCESS_KEY_ID", SwiftHarness::kAccessKey);
    env.try_emplace("AWS_SECRET_ACCESS_KEY", SwiftHarness::kSecretKey);
    return test::RunFleetlog(argv, {.env = env, .unset_env = {"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                                                              "AWS_ENDPOINT_URL_S3", "AWS_REGION"}});
  }

  // The lake equals every source, row for row, read through this process's own S3 reader.
  void ExpectEqual(const Config& config, const std::vector<std::string>& dbs) {
    auto s3 = S3Lake::Open(config, nullptr, Env::Default());
    ASSERT_TRUE(s3.ok()) << s3.status().ToString();
    for (size_t i = 0; i < dbs.size(); ++i) ExpectLakeEqualsSource(config, fmt::format("c{}", i), dbs[i]);
  }

  // Forgets everything local: the state store, the cache and the scratch folder.
  void LoseTheMachine(const Config& config) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(config.state_path + suffix, ec);
    std::filesystem::remove_all(config.lake_cache_dir, ec);
    std::filesystem::remove_all(dir_.Sub("lake-scratch"), ec);
  }

  // The table files the AWS CLI lists in the bucket (lake-relative, no _fleetlog/).
  std::set<std::string> ListedTableFiles() {
    test::ProcessResult ls = swift_->Aws({"s3", "ls", "--recursive", Root() + "/"});
    EXPECT_EQ(ls.exit_code, 0) << ls.err;
    std::set<std::string> out;
    std::istringstream lines(ls.out);
    for (std::string line; std::getline(lines, line);) {
      const size_t at = line.find("lake/");
      if (at == std::string::npos) continue;
      const std::string key = line.substr(at + 5);
      if (!key.starts_with("_fleetlog/") && key.ends_with(".parquet")) out.insert(key);
    }
    return out;
  }

  // The rows of `table` as an engine that lists folders reads them: the AWS CLI copies the
  // table's folder out of the bucket, and a plain DuckDB counts the rows under its glob.
  int64_t FolderRows(const std::string& table) {
    const std::string copy = dir_.Sub("copy-" + std::to_string(++copies_));
    test::ProcessResult cp = swift_->Aws({"s3", "cp", "--recursive", "--only-show-errors", Root() + "/" + table, copy});
    EXPECT_EQ(cp.exit_code, 0) << cp.err;
    auto db = duck::Database::OpenInMemory({});
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return -1;
    auto conn = duck::Connection::Open(*db);
    auto n = (*conn)->Query(fmt::format("SELECT count(*) FROM read_parquet('{}/**/*.parquet', union_by_name = true)", copy));
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? n->int64(0, 0) : -1;
  }

  // The published files of the catalog.
  std::set<std::string> CommittedFiles(const Config& config) {
    auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    std::set<std::string> out;
    if (!state.ok()) return out;
    auto files = (*state)->ListFiles({.states = {FileState::kPublished}});
    EXPECT_TRUE(files.ok());
    for (const auto& f : *files) out.insert(f.path);
    return out;
  }

  // Ordinary rows, many rows sharing one end time (ties), and a late row of a long query.
  void InsertRound(const std::string& db, int first) const {
    InsertQueries(db, first, 20, "getdate() - interval '3 seconds' - (q % 5) * interval '1 second'",
                  "getdate() - interval '1 hour'");
    InsertQueries(db, first + 20, 15, "date_trunc('second', getdate()) - interval '2 seconds'",
                  "date_trunc('second', getdate()) - interval '25 seconds'");
    InsertQueries(db, first + 35, 1, "getdate() - interval '2 seconds'", "getdate() - interval '5 hours'");
  }

  SwiftHarness* swift_ = nullptr;
  std::string bucket_;
  int copies_ = 0;
};

TEST_F(S3LakeEndToEndTest, KilledExportsIntoTheBucketThenALostMachineRestoresAndContinues) {
  auto second = pg_->CreateUniqueDatabase("s3lake_second");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(pg_->CreateRedshiftFixture(*second).ok());
  const std::vector<std::string> dbs = {db_, *second};
  // Today's partitions are compacted once they hold more than two files.
  Config config = S3Config(dbs, "[upkeep]\nmax_files_per_partition = 2\n");

  const char* points[] = {"mid-stage", "before-commit", "after-commit", "mid-publish", "after-publish"};
  int next = 1;
  for (int round = 0; round < 5; ++round) {
    for (const auto& db : dbs) InsertRound(db, next);
    next += 100;
    const std::string crash = fmt::format("{}:{}", points[round], 1 + round % 3);
    auto killed = Fleetlog(config, {"export"}, {{"FLEETLOG_CRASH_AT", crash}});
    EXPECT_EQ(killed.signal, SIGKILL) << crash << ": " << killed.err;
    if (round % 2 == 1) {
      auto clean = Fleetlog(config, {"export"});
      EXPECT_EQ(clean.exit_code, 0) << clean.err;
    }
  }
  // The S3 endpoint goes away: the export fails saying so, and the next one catches up.
  for (const auto& db : dbs) InsertRound(db, next);
  next += 100;
  ASSERT_TRUE(swift_->StopProxy().ok());
  auto down = Fleetlog(config, {"export"});
  ASSERT_TRUE(swift_->StartProxy().ok());
  EXPECT_NE(down.exit_code, 0);
  EXPECT_FALSE(down.err.empty());
  // Wrong credentials stop at once with what to do.
  auto refused = Fleetlog(config, {"export"}, {{"AWS_SECRET_ACCESS_KEY", "wrong-secret"}});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("access refused"), std::string::npos) << refused.err;
  auto last = Fleetlog(config, {"export"});
  ASSERT_EQ(last.exit_code, 0) << last.err;
  ExpectEqual(config, dbs);
  // Nothing is left in staging, and the folders hold exactly the committed files.
  EXPECT_EQ(ListedTableFiles(), CommittedFiles(config));

  // The machine is lost: `fleetlog restore` rebuilds the catalog from the bucket alone.
  const std::set<std::string> before = CommittedFiles(config);
  LoseTheMachine(config);
  auto restored = Fleetlog(config, {"restore"});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(CommittedFiles(config), before);
  ExpectEqual(config, dbs);
  for (const auto& db : dbs) InsertRound(db, next);
  next += 100;
  ASSERT_EQ(Fleetlog(config, {"export"}).exit_code, 0);
  ExpectEqual(config, dbs);

  // Lost again, and this time the next export restores by itself, killed once on the way.
  LoseTheMachine(config);
  for (const auto& db : dbs) InsertRound(db, next);
  auto killed = Fleetlog(config, {"export"}, {{"FLEETLOG_CRASH_AT", "after-commit:1"}});
  EXPECT_EQ(killed.signal, SIGKILL) << killed.err;
  LoseTheMachine(config);
  auto resumed = Fleetlog(config, {"export"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("no local state: restored"), std::string::npos) << resumed.err;
  ExpectEqual(config, dbs);
  EXPECT_EQ(ListedTableFiles(), CommittedFiles(config));

  // Queries through the CLI read the bucket through the local cache.
  auto counted = Fleetlog(config, {"query", "--format", "csv", "select count(*) as n from stl_query"});
  ASSERT_EQ(counted.exit_code, 0) << counted.err;
  int source_rows = 0;
  for (const auto& db : dbs) {
    auto n = pg_->QueryInt(db, "SELECT count(*) FROM stl_query");
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    source_rows += *n;
  }
  EXPECT_EQ(source_rows, 8 * 36 * 2);
  EXPECT_EQ(counted.out, fmt::format("n\n{}\n", source_rows)) << counted.out;
  auto verified = Fleetlog(config, {"verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // Compaction and a purge on the bucket: after each, the table folders hold exactly the
  // committed files, and an engine that reads the folders counts what fleetlog counts.
  const size_t files_before = CommittedFiles(config).size();
  auto compacted = Fleetlog(config, {"compact"});
  ASSERT_EQ(compacted.exit_code, 0) << compacted.out << compacted.err;
  EXPECT_LT(CommittedFiles(config).size(), files_before) << compacted.out;
  EXPECT_EQ(ListedTableFiles(), CommittedFiles(config));
  EXPECT_EQ(FolderRows("stl_query"), source_rows);
  ExpectEqual(config, dbs);
  auto purged = Fleetlog(config, {"purge", "--table", "stl_query", "--where", "query % 7 = 0"});
  ASSERT_EQ(purged.exit_code, 0) << purged.out << purged.err;
  EXPECT_EQ(ListedTableFiles(), CommittedFiles(config));
  int kept = 0;
  for (const auto& db : dbs) kept += *pg_->QueryInt(db, "SELECT count(*) FROM stl_query WHERE query % 7 <> 0");
  EXPECT_EQ(FolderRows("stl_query"), kept);
  auto recount = Fleetlog(config, {"query", "--format", "csv", "select count(*) as n from stl_query"});
  EXPECT_EQ(recount.out, fmt::format("n\n{}\n", kept)) << recount.err;
  auto clean = Fleetlog(config, {"verify"});
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
}

TEST_F(S3LakeEndToEndTest, ASecondWriterIsRefusedNamingTheHolder) {
  Config config = S3Config({db_});
  auto first = LakeSession::Open(config);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto refused = Fleetlog(config, {"export"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("held by another writer: pid " + std::to_string(getpid())), std::string::npos)
      << refused.err;
  first->reset();
  EXPECT_EQ(Fleetlog(config, {"export"}).exit_code, 0);
}

}  // namespace
}  // namespace fleetlog::integration
