// Faults on a lake in S3 (OpenStack Swift's s3api) during whole runs of the `fleetlog` binary:
//   - the network between fleetlog and the bucket (a fault proxy in front of Swift) answering
//     500 and 503, resetting connections, losing answers after the server did the work,
//     stalling past the client's timeout, and the server going away in the middle of an
//     upload, during multi-cluster exports of several cycles;
//   - fleetlog SIGKILLed at every step of compaction and of purge, and a machine lost in the
//     middle of a compaction: the next writer, on a new machine, removes what was placed but
//     never committed;
//   - a missing bucket.
// Each ends with the lake equal to the source, `verify` clean, the bucket's table folders
// holding exactly the committed files, and a clear error where the user must act.
#include <gtest/gtest.h>

#include <csignal>

#include "fault_proxy.h"
#include "integration/s3_lake_fixture.h"

namespace fleetlog::integration {
namespace {

using Fault = FaultProxy::Fault;

class S3FaultsTest : public S3LakeFixture {
 protected:
  void SetUp() override {
    S3LakeFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto second = pg_->CreateUniqueDatabase("s3faults_second");
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    ASSERT_TRUE(pg_->CreateRedshiftFixture(*second).ok());
    dbs_ = {db_, *second};
  }

  // A new round of source rows in every cluster.
  void InsertRounds() {
    for (const auto& db : dbs_) InsertRound(db, next_);
    next_ += 100;
  }

  // The lake equals the sources, the bucket's table folders hold exactly the committed
  // files, nothing is left in staging or intents, and `verify` is clean.
  void ExpectConsistent(const Config& direct, const std::string& when) {
    SCOPED_TRACE(when);
    ExpectEqual(direct, dbs_);
    EXPECT_EQ(ListedTableFiles(), CommittedFiles(direct));
    EXPECT_EQ(ListedKeys("_fleetlog/staging/"), std::set<std::string>{});
    EXPECT_EQ(ListedKeys("_fleetlog/intents/"), std::set<std::string>{});
    auto verified = Fleetlog(direct, {"verify"});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  }

  std::vector<std::string> dbs_;
  int next_ = 1;
};

TEST_F(S3FaultsTest, ExportsThroughErrorsResetsLostAnswersStallsAndAnOutage) {
  auto proxy = FaultProxy::Start(swift_->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  FaultProxy& net = **proxy;
  // fleetlog reaches the bucket through the proxy, one cluster at a time (so that an outage
  // meets one upload at a time), giving up on a stalled request after 4s; the test's own
  // checks go to Swift directly.
  const Config faulty = S3Config(dbs_, "", {.endpoint = fmt::format("http://127.0.0.1:{}", net.port()),
                                            .file = "faulty.toml",
                                            .lake_s3 = "timeout = \"4s\"\n",
                                            .export_section = "parallelism = 1\n"});
  const Config direct = S3Config(dbs_, "", {.file = "direct.toml"});

  struct Round {
    const char* name;
    std::vector<std::pair<Fault, int>> every;  // a fault on every n-th request
    int limit;                                 // at most this many of each (-1: no limit)
  };
  const Round rounds[] = {
      {"500 and 503 answers", {{Fault::kError503, 5}, {Fault::kError500, 7}}, -1},
      {"connection resets and lost answers", {{Fault::kReset, 6}, {Fault::kLoseAnswer, 4}}, -1},
      {"requests stalled past the client's timeout", {{Fault::kStall, 9}}, 2},
  };
  for (const Round& round : rounds) {
    InsertRounds();
    const int before = net.faults_injected();
    for (const auto& [fault, every] : round.every) net.InjectEvery(fault, every, "", round.limit);
    auto exported = Fleetlog(faulty, {"export"});
    net.ClearRules();
    EXPECT_EQ(exported.exit_code, 0) << round.name << ": " << exported.err;
    EXPECT_GT(net.faults_injected(), before) << round.name;
    ExpectConsistent(direct, round.name);
  }

  // The server goes away while a staged file is uploading and stays away for a dozen
  // attempts: the table whose upload gave up fails, saying why; the next cycle catches up.
  InsertRounds();
  net.Outage("PUT /" + bucket_ + "/lake/_fleetlog/staging/", 12);
  auto cut = Fleetlog(faulty, {"export"});
  EXPECT_TRUE(net.outage_over());
  EXPECT_EQ(cut.exit_code, 1) << cut.err;
  EXPECT_NE(cut.err.find("gave up after"), std::string::npos) << cut.err;
  InsertRounds();
  auto resumed = Fleetlog(faulty, {"export"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  ExpectConsistent(direct, "after the outage");
  EXPECT_EQ(FolderRows("stl_query"), SourceQueries(dbs_));
}

TEST_F(S3FaultsTest, KilledDuringCompactionAndPurgeThenAMachineLostMidCompaction) {
  // Today's partitions are compacted once they hold more than two files.
  const Config config = S3Config(dbs_, "[upkeep]\nmax_files_per_partition = 2\n");
  auto export_round = [&] {
    InsertRounds();
    auto exported = Fleetlog(config, {"export"});
    EXPECT_EQ(exported.exit_code, 0) << exported.err;
  };
  for (int i = 0; i < 3; ++i) export_round();

  // Compaction killed at each of its steps, then once more to the end.
  const size_t files_before = CommittedFiles(config).size();
  for (const char* point : {"compact-staged:1", "compact-placed:1", "compact-committed:1", "retired-cleared:2"}) {
    auto killed = Fleetlog(config, {"compact"}, {{"FLEETLOG_CRASH_AT", point}});
    EXPECT_EQ(killed.signal, SIGKILL) << point << ": " << killed.out << killed.err;
  }
  auto compacted = Fleetlog(config, {"compact"});
  ASSERT_EQ(compacted.exit_code, 0) << compacted.out << compacted.err;
  EXPECT_LT(CommittedFiles(config).size(), files_before);
  ExpectConsistent(config, "after compaction");
  EXPECT_EQ(FolderRows("stl_query"), SourceQueries(dbs_));

  // Purge killed at each of its steps; each rerun removes what is still there.
  const std::vector<std::string> purge = {"purge", "--table", "stl_query", "--where", "query % 5 = 0"};
  for (const char* point : {"purge-staged:1", "purge-placed:1", "purge-committed:1", "retired-cleared:1"}) {
    auto killed = Fleetlog(config, purge, {{"FLEETLOG_CRASH_AT", point}});
    EXPECT_EQ(killed.signal, SIGKILL) << point << ": " << killed.out << killed.err;
  }
  auto purged = Fleetlog(config, purge);
  ASSERT_EQ(purged.exit_code, 0) << purged.out << purged.err;
  EXPECT_EQ(ListedTableFiles(), CommittedFiles(config));
  const int kept = SourceQueries(dbs_, "query % 5 <> 0");
  EXPECT_EQ(FolderRows("stl_query"), kept);
  auto counted = Fleetlog(config, {"query", "--format", "csv", "select count(*) as n from stl_query"});
  EXPECT_EQ(counted.out, fmt::format("n\n{}\n", kept)) << counted.err;
  auto verified = Fleetlog(config, {"verify"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // The machine is lost in the middle of a compaction, after it placed a merged file in its
  // table folder and before it committed it. The next writer, on a new machine with nothing
  // but the bucket, removes it itself: no `verify --repair` needed.
  for (const auto& db : dbs_) ASSERT_TRUE(pg_->Exec(db, "DELETE FROM stl_query WHERE query % 5 = 0").ok());
  for (int i = 0; i < 3; ++i) export_round();
  // Killed at the second placed file: the first partition's merge is committed, the second's
  // placed and not.
  auto killed = Fleetlog(config, {"compact"}, {{"FLEETLOG_CRASH_AT", "compact-placed:2"}});
  ASSERT_EQ(killed.signal, SIGKILL) << killed.out << killed.err;
  const std::set<std::string> committed = CommittedFiles(config);
  std::set<std::string> placed;
  for (const auto& key : ListedTableFiles())
    if (!committed.count(key)) placed.insert(key);
  EXPECT_EQ(placed.size(), 1u);
  EXPECT_EQ(ListedKeys("_fleetlog/intents/").size(), 1u);
  LoseTheMachine(config);
  export_round();
  for (const auto& key : placed) EXPECT_EQ(ListedTableFiles().count(key), 0u) << key;
  ExpectConsistent(config, "after the machine was lost mid-compaction");
}

// A cache smaller than one file: what needs the lake's files (the export's check for rows
// committed before, a query) fails saying how to fix it; nothing is lost, and a large enough
// cache catches up.
TEST_F(S3FaultsTest, ACacheTooSmallForAStatementSaysSoAndLosesNothing) {
  const Config small = S3Config(dbs_, "", {.file = "small.toml", .cache_size = "1KB"});
  const Config large = S3Config(dbs_);
  InsertRounds();
  auto first = Fleetlog(small, {"export"});  // nothing committed yet: nothing to read
  EXPECT_EQ(first.exit_code, 0) << first.err;
  InsertRounds();
  auto full = Fleetlog(small, {"export"});
  EXPECT_EQ(full.exit_code, 1) << full.err;
  EXPECT_NE(full.err.find("raise [lake] cache_size"), std::string::npos) << full.err;
  auto query = Fleetlog(small, {"query", "select count(*) from stl_query"});
  EXPECT_EQ(query.exit_code, 1) << query.out << query.err;
  EXPECT_NE(query.err.find("raise [lake] cache_size"), std::string::npos) << query.err;
  auto caught_up = Fleetlog(large, {"export"});
  EXPECT_EQ(caught_up.exit_code, 0) << caught_up.err;
  ExpectConsistent(large, "after a cache too small");
}

TEST_F(S3FaultsTest, AMissingBucketSaysSo) {
  const std::string missing = bucket_ + "-missing";
  bucket_ = missing;
  const Config config = S3Config(dbs_);
  auto refused = Fleetlog(config, {"export"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_NE(refused.err.find("\"" + missing + "\" does not exist"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("create it, or fix [lake] path"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace fleetlog::integration
