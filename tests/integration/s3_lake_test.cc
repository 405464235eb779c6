// A lake in S3 (OpenStack Swift's s3api) end to end, through the `fleetlog` binary: exports of
// several clusters with late rows and ties, SIGKILLed at every commit step; the local state
// and cache lost and rebuilt from the bucket (`fleetlog restore`, and the next start by
// itself); a second writer refused; queries, compaction, purge and verify on the bucket; and
// the table folders listed by the AWS CLI holding exactly the committed files.
#include <gtest/gtest.h>

#include <csignal>

#include <unistd.h>

#include "exporter/writer.h"
#include "integration/s3_lake_fixture.h"

namespace fleetlog::integration {
namespace {

using S3LakeEndToEndTest = S3LakeFixture;

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
  const int source_rows = SourceQueries(dbs);
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
  const int kept = SourceQueries(dbs, "query % 7 <> 0");
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
