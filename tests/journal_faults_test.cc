// The commit journal's two records of a commit (the journal record in the lake, the local
// state store's transaction) never disagree for longer than recovery takes, for every protocol
// that commits: the export commit, compaction, purge, roll-up and expiry. Each protocol runs
// once per fault on either side of the commit point (lake/commit.h):
//   - the local commit fails right after the journal record landed, once (caught up at once)
//     or until the process restarts (a broken database; the process may die there);
//   - the journal record's put lands but its answer is lost (a timeout);
//   - that, and the bucket refuses the withdrawal too, until the process restarts;
//   - the put fails (it may have landed) and the withdrawal is refused.
// Then the process carries on (another cluster's export commits), restarts (the journal
// opened again, Recover, RecoverUpkeep), and must show: the commit applied exactly when its
// record stands, the lake's files equal to the catalog (verify clean, staging empty), and a
// restore from the journal alone into a fresh state store naming the same files and giving
// the same rows. No row lost, none doubled.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "journal_faults.h"
#include "lake/commit.h"
#include "lake/commit_window.h"
#include "lake/journal.h"
#include "lake/replace.h"
#include "upkeep/compaction.h"
#include "upkeep/policy.h"
#include "upkeep/purge.h"
#include "upkeep/rollup.h"
#include "upkeep/retention.h"
#include "upkeep/verify.h"
#include "upkeep_test_util.h"

namespace fleetlog::upkeep::testing {
namespace {

using test::FaultyStateStore;
using test::JournalFaultEnv;

enum class Fault { kLocalFailsOnce, kLocalFailsUntilRestart, kAnswerLost, kAnswerLostNotWithdrawn, kFailedNotWithdrawn };

const char* FaultName(Fault f) {
  switch (f) {
    case Fault::kLocalFailsOnce: return "the local commit fails once after the journal record landed";
    case Fault::kLocalFailsUntilRestart: return "the local commit fails until restart after the journal record landed";
    case Fault::kAnswerLost: return "the journal put lands but its answer is lost";
    case Fault::kAnswerLostNotWithdrawn: return "the journal put lands, its answer is lost, the withdrawal refused";
    case Fault::kFailedNotWithdrawn: return "the journal put fails and the withdrawal is refused";
  }
  return "?";
}

// Whether the commit under the fault stands in the end (its journal record is the truth).
bool Stands(Fault f) { return f == Fault::kLocalFailsOnce || f == Fault::kLocalFailsUntilRestart; }

// A lake whose state store is the SQLite one wrapped in the lake's journal, as an S3 lake's
// writer has it, with faults on both sides.
class JournaledLake {
 public:
  JournaledLake() { Open(); }

  UpkeepLake& lake() { return lake_; }
  FaultyStateStore& local() { return *local_; }
  JournalFaultEnv& env() { return env_; }

  // A new writer process: the journal opened again over the same SQLite file, then the
  // recovery every writer runs first.
  void Restart() {
    lake_.set_state(nullptr);
    env_.lose_answers = 0;
    env_.refuse_records = env_.refuse_withdrawals = false;
    Open();
    auto upkeep = RecoverUpkeep(lake_.state(), lake_.lake());
    ASSERT_TRUE(upkeep.ok()) << upkeep.status().ToString();
    auto recovered = Recover(lake_.state(), lake_.lake());
    ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  }

 private:
  void Open() {
    auto sqlite = OpenSqliteStateStore(lake_.db_path(), OpenMode::kReadWrite);
    ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
    auto local = std::make_unique<FaultyStateStore>(std::move(sqlite).value());
    local_ = local.get();
    auto journaled = JournaledStateStore::Open(std::move(local), &env_, lake_.lake().root());
    ASSERT_TRUE(journaled.ok()) << journaled.status().ToString();
    lake_.set_state(std::move(journaled).value());
  }

  JournalFaultEnv env_;  // outlives the journal that writes through it
  UpkeepLake lake_;
  FaultyStateStore* local_ = nullptr;
};

// Commits rows first..last of `cluster` through the export's commit, as the exporter does
// (rows committed before are dropped), with the cursor at `upper` (a day after `start` when
// unset).
Status ExportWindow(UpkeepLake& lake, const std::string& cluster, int64_t first, int64_t last, Timestamp start,
                    std::optional<Timestamp> upper = std::nullopt) {
  ASSIGN_OR_RETURN(auto writer, LakeWriter::Open(lake.lake(), 64LL << 20, 1));
  CommitWindow window(*writer, lake.state(),
                      {.table = "stl_query", .cluster = cluster, .partition_column = "endtime", .key = {"query"}});
  RETURN_IF_ERROR(window.Append(UpkeepLake::QueryRows(first, last, start)));
  ASSIGN_OR_RETURN(WindowCommitted done, window.Commit(SystemClock(), {.cluster = cluster, .table = "stl_query"},
                                                       upper.value_or(start + Duration::Days(1))));
  return done.publish_error;
}

// What cluster c1 holds, through `state`: its stl_query rows (count, distinct ids, the ids),
// its published files per table, and its cursor.
std::string Snapshot(StateStore& state, const LakeLayout& lake) {
  const auto rows = UpkeepLake::RowsOf(
      state, lake,
      "SELECT count(*), count(DISTINCT query), string_agg(query::VARCHAR, ',' ORDER BY query) FROM stl_query "
      "WHERE cluster = 'c1'");
  std::string out = rows.empty() ? "?" : rows[0];
  for (const char* table : {"stl_query", "rollup_hourly"}) {
    auto files = state.ListFiles({.table = table, .cluster = "c1", .states = {FileState::kPublished}});
    out += fmt::format(" {}={}", table, files.ok() ? std::to_string(files->size()) : files.status().ToString());
  }
  auto cursor = state.GetCursor("c1", "stl_query");
  out += " cursor=" + (!cursor.ok() ? cursor.status().ToString() : *cursor ? FormatTimestampIso(**cursor) : "none");
  return out;
}

// The catalog as "<state> <path>" lines, sorted.
std::set<std::string> Catalog(StateStore& state) {
  std::set<std::string> out;
  auto files = state.ListFiles({});
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  if (files.ok()) {
    for (const auto& f : *files) out.insert(fmt::format("{} {}", static_cast<int>(f.state), f.path));
  }
  return out;
}

void ExpectVerifyClean(StateStore& state, const LakeLayout& lake, const char* which) {
  auto report = VerifyLake(state, lake, {.read_parquet = true});
  ASSERT_TRUE(report.ok()) << which << ": " << report.status().ToString();
  for (const auto& issue : report->issues)
    ADD_FAILURE() << which << ": " << IssueKindName(issue.kind) << " " << issue.path << ": " << issue.detail;
}

struct Protocol {
  std::function<void(UpkeepLake&)> setup;  // run healthy, through the journal
  std::function<Status(UpkeepLake&)> run;  // the commit under test
};

const Timestamp kToday = *DayStart(DateOf(Timestamp::Now()));
const Timestamp kRecent = kToday - Duration::Days(10);
const Timestamp kOld = kToday - Duration::Days(500);

// Runs `p` once healthy (the expected outcome), then once per fault, and checks each.
void ForEveryFault(const Protocol& p) {
  std::string before, after;
  {
    JournaledLake clean;
    p.setup(clean.lake());
    if (::testing::Test::HasFatalFailure()) return;
    before = Snapshot(clean.lake().state(), clean.lake().lake());
    const Status ran = p.run(clean.lake());
    ASSERT_TRUE(ran.ok()) << ran.ToString();
    after = Snapshot(clean.lake().state(), clean.lake().lake());
    ASSERT_NE(before, after) << "the protocol changed nothing to tell apart";
  }
  for (Fault fault : {Fault::kLocalFailsOnce, Fault::kLocalFailsUntilRestart, Fault::kAnswerLost,
                      Fault::kAnswerLostNotWithdrawn, Fault::kFailedNotWithdrawn}) {
    SCOPED_TRACE(FaultName(fault));
    JournaledLake j;
    UpkeepLake& lake = j.lake();
    p.setup(lake);
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_EQ(Snapshot(lake.state(), lake.lake()), before);
    switch (fault) {
      case Fault::kLocalFailsOnce: j.local().fail_commits = 1; break;
      case Fault::kLocalFailsUntilRestart: j.local().fail_commits = -1; break;
      case Fault::kAnswerLost: j.env().lose_answers = 1; break;
      case Fault::kAnswerLostNotWithdrawn:
        j.env().lose_answers = 1;
        j.env().refuse_withdrawals = true;
        break;
      case Fault::kFailedNotWithdrawn:
        j.env().refuse_records = true;
        j.env().refuse_withdrawals = true;
        break;
    }
    const Status ran = p.run(lake);
    if (fault == Fault::kLocalFailsOnce) {
      EXPECT_TRUE(ran.ok()) << "caught up from the journal at once: " << ran.ToString();
      EXPECT_EQ(j.local().failed, 1);
    } else {
      EXPECT_FALSE(ran.ok());
    }
    // The process carries on: another cluster's window (refused while the fault lasts).
    j.env().refuse_records = false;
    (void)ExportWindow(lake, "c2", 1001, 1005, kRecent);
    j.Restart();
    if (::testing::Test::HasFatalFailure()) return;

    EXPECT_EQ(Snapshot(lake.state(), lake.lake()), Stands(fault) ? after : before);
    ExpectVerifyClean(lake.state(), lake.lake(), "the writer's catalog");
    auto staged = lake.lake().env().ListFiles(lake.lake().Abs(LakeLayout::StagingDir()));
    ASSERT_TRUE(staged.ok());
    EXPECT_TRUE(staged->empty()) << staged->front().name << " left in staging";
    auto intents = lake.lake().env().ListFiles(lake.lake().Abs(LakeLayout::IntentsDir()));
    ASSERT_TRUE(intents.ok());
    EXPECT_TRUE(intents->empty()) << intents->front().name << " left behind";

    // A new machine given only the lake.
    test::TempDir elsewhere;
    auto restored = OpenSqliteStateStore(elsewhere.Sub("restored.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(restored.ok());
    auto report = RestoreFromJournal(&lake.lake().env(), lake.lake().root(), **restored);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(Catalog(**restored), Catalog(lake.state()));
    EXPECT_EQ(Snapshot(**restored, lake.lake()), Snapshot(lake.state(), lake.lake()));
    ExpectVerifyClean(**restored, lake.lake(), "the restored catalog");
    EXPECT_EQ(UpkeepLake::RowsOf(**restored, lake.lake(), kAllQueries), lake.Rows(kAllQueries));

    // And the writer goes on: the change that did not stand, run again, lands once.
    if (!Stands(fault)) {
      const Status again = p.run(lake);
      EXPECT_TRUE(again.ok()) << again.ToString();
    }
    EXPECT_EQ(Snapshot(lake.state(), lake.lake()), after);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(JournalFaultsTest, ExportCommit) {
  ForEveryFault({
      .setup = [](UpkeepLake& lake) { ASSERT_TRUE(ExportWindow(lake, "c1", 1, 20, kRecent).ok()); },
      // The next window overlaps the committed one (11-20 again) and crosses midnight.
      .run = [](UpkeepLake& lake) { return ExportWindow(lake, "c1", 11, 40, kRecent + Duration::Hours(23)); },
  });
}

TEST(JournalFaultsTest, Compaction) {
  ForEveryFault({
      .setup =
          [](UpkeepLake& lake) {
            for (int w = 0; w < 4; ++w)
              ASSERT_TRUE(ExportWindow(lake, "c1", w * 10 + 1, w * 10 + 10, kRecent + Duration::Hours(w)).ok());
          },
      .run = [](UpkeepLake& lake) -> Status {
        ASSIGN_OR_RETURN(auto report, CompactLake(lake.state(), lake.lake(), lake.config(), {.clusters = {"c1"}},
                                                  lake.lake().env().Now()));
        return report.files_in == 4 ? Status::Ok() : Internal("{} files compacted, not 4", report.files_in);
      },
  });
}

TEST(JournalFaultsTest, Purge) {
  ForEveryFault({
      .setup =
          [](UpkeepLake& lake) {
            for (int w = 0; w < 2; ++w)
              ASSERT_TRUE(ExportWindow(lake, "c1", w * 10 + 1, w * 10 + 10, kRecent + Duration::Days(w)).ok());
          },
      .run = [](UpkeepLake& lake) {
        return PurgeRows(lake.state(), lake.lake(), lake.config(),
                         {.table = "stl_query", .predicate = "query % 2 = 0 AND query < 1000", .who = "test"})
            .status();
      },
  });
}

TEST(JournalFaultsTest, Rollup) {
  ForEveryFault({
      // The cursor is today: the day is closed, ready for its roll-up.
      .setup = [](UpkeepLake& lake) { ASSERT_TRUE(ExportWindow(lake, "c1", 1, 30, kRecent, kToday).ok()); },
      .run = [](UpkeepLake& lake) -> Status {
        ASSIGN_OR_RETURN(auto report, BuildRollups(lake.state(), lake.lake(), lake.config(), Timestamp::Now()));
        return report.days >= 1 ? Status::Ok() : Internal("no day rolled up");
      },
  });
}

TEST(JournalFaultsTest, Expiry) {
  ForEveryFault({
      .setup =
          [](UpkeepLake& lake) {
            ASSERT_TRUE(ExportWindow(lake, "c1", 1, 30, kOld).ok());
            ASSERT_TRUE(ExportWindow(lake, "c1", 101, 130, kRecent, kToday).ok());
            lake.config().table_overrides["stl_query"].keep = Duration::Days(400);
            ASSERT_TRUE(BuildRollups(lake.state(), lake.lake(), lake.config(), Timestamp::Now()).ok());
          },
      .run = [](UpkeepLake& lake) -> Status {
        ASSIGN_OR_RETURN(auto report, ExpirePartitions(lake.state(), lake.lake(), lake.config(), Timestamp::Now()));
        return report.partitions == 1 ? Status::Ok() : Internal("{} partitions expired, not 1", report.partitions);
      },
  });
}

}  // namespace
}  // namespace fleetlog::upkeep::testing
