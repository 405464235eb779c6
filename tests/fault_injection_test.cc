// Fault injection over the lake's three replacement protocols: the export commit
// (CommitWindow), compaction and purge. Each runs once per fault: the n-th write, publish
// (rename) or sync failing, for every n the protocol reaches, once as an I/O error the process
// survives and once as the process dying there (then what was not synced is lost). After
// each fault the writer restarts (RecoverUpkeep, Recover) and the lake must equal the source
// with the change either complete or fully absent: never partial, never doubled, no orphan
// file, nothing left in staging, every file's checksum as catalogued.
#include <gtest/gtest.h>

#include <functional>

#include "fault_env.h"
#include "lake/commit.h"
#include "lake/commit_window.h"
#include "lake/replace.h"
#include "upkeep/compaction.h"
#include "upkeep/purge.h"
#include "upkeep/verify.h"
#include "upkeep_test_util.h"

namespace fleetlog::upkeep::testing {
namespace {

using test::FaultEnv;

const Timestamp kDay = Day("2025-04-01");

// "rows|distinct ids|min|max|ids in order" of the stl_query rows in the lake.
std::string QueryIds(UpkeepLake& lake, const std::string& where = "true") {
  const auto rows = lake.Rows("SELECT count(*), count(DISTINCT query), min(query), max(query), "
                              "string_agg(query::VARCHAR, ',' ORDER BY query) FROM stl_query WHERE " + where);
  return rows.empty() ? "?" : rows[0];
}

std::string Expected(int64_t first, int64_t last, int64_t step = 1) {
  std::string ids;
  int64_t n = 0;
  for (int64_t i = first; i <= last; i += step, ++n) ids += (ids.empty() ? "" : ",") + std::to_string(i);
  return fmt::format("{}|{}|{}|{}|{}", n, n, first, last - (last - first) % step, ids);
}

// What a new writer process does first.
void Restart(UpkeepLake& lake) {
  auto upkeep = RecoverUpkeep(lake.state(), lake.lake());
  ASSERT_TRUE(upkeep.ok()) << upkeep.status().ToString();
  auto recovered = Recover(lake.state(), lake.lake());
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
}

// The lake holds exactly what the catalog names, whole, and staging is empty.
void ExpectConsistent(UpkeepLake& lake) {
  auto report = VerifyLake(lake.state(), lake.lake(), {.read_parquet = true});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const auto& issue : report->issues) ADD_FAILURE() << IssueKindName(issue.kind) << " " << issue.path << ": " << issue.detail;
  auto staged = lake.lake().env().ListFiles(lake.lake().Abs(LakeLayout::StagingDir()));
  ASSERT_TRUE(staged.ok());
  EXPECT_TRUE(staged->empty()) << staged->front().name;
}

using Body = std::function<Status(UpkeepLake&, const LakeLayout& faulty)>;
using Check = std::function<void(UpkeepLake&)>;

// Runs `body` against a fresh lake made by `setup` once per fault, for every fault point the
// body reaches; `check` judges the lake after the restart. Returns how many faults ran.
int ForEveryFault(const std::function<void(UpkeepLake&)>& setup, const Body& body, const Check& check) {
  int faults = 0;
  for (FaultEnv::Op op : {FaultEnv::Op::kWrite, FaultEnv::Op::kPublish, FaultEnv::Op::kSync}) {
    for (bool dies : {false, true}) {
      for (int n = 1;; ++n) {
        SCOPED_TRACE(fmt::format("{} fault at the {}. {}, {}", FaultOpName(op), n, FaultOpName(op),
                                 dies ? "process dies" : "error returned"));
        UpkeepLake lake;
        setup(lake);
        FaultEnv env;
        const LakeLayout faulty(lake.lake().root(), &env);
        env.FailAt(op, n, dies);
        const Status status = body(lake, faulty);
        if (!env.fired()) {  // past the last operation of this kind: the body ran clean
          EXPECT_TRUE(status.ok()) << status.ToString();
          break;
        }
        if (dies) {
          EXPECT_TRUE(env.LoseUnsynced().ok());
        }
        Restart(lake);
        check(lake);
        ExpectConsistent(lake);
        ++faults;
        if (::testing::Test::HasFailure()) return faults;
      }
    }
  }
  return faults;
}

TEST(FaultInjectionTest, ExportCommitIsAllOrNothingAtEveryFault) {
  const auto setup = [](UpkeepLake& lake) { lake.WriteQueries("c1", 1, 20, kDay); };
  // The window overlaps the committed one (11-20 again) and crosses midnight: two files.
  const Timestamp start = kDay + Duration::Hours(23) + Duration::Minutes(50) - Duration::Minutes(20);
  const Timestamp upper = kDay + Duration::Days(2);
  const Body body = [&](UpkeepLake& lake, const LakeLayout& faulty) -> Status {
    ASSIGN_OR_RETURN(auto writer, LakeWriter::Open(faulty, 64LL << 20, 1));
    CommitWindow window(*writer, lake.state(),
                        {.table = "stl_query", .cluster = "c1", .partition_column = "endtime", .key = {"query"}});
    RETURN_IF_ERROR(window.Append(UpkeepLake::QueryRows(11, 40, start + Duration::Minutes(10))));
    ASSIGN_OR_RETURN(WindowCommitted done, window.Commit(faulty.env().clock(), {.cluster = "c1", .table = "stl_query"}, upper));
    if (done.files.size() != 2) return Internal("committed {} files, not 2", done.files.size());
    return done.publish_error;
  };
  const Check check = [&](UpkeepLake& lake) {
    auto cursor = lake.state().GetCursor("c1", "stl_query");
    ASSERT_TRUE(cursor.ok());
    // Committed: every row once. Not committed: only the earlier window.
    EXPECT_EQ(QueryIds(lake), cursor->has_value() ? Expected(1, 40) : Expected(1, 20));
    // The exporter retries the window: then the lake equals the source, each row once.
    auto writer = LakeWriter::Open(lake.lake(), 64LL << 20, 1);
    ASSERT_TRUE(writer.ok());
    CommitWindow retry(**writer, lake.state(),
                       {.table = "stl_query", .cluster = "c1", .partition_column = "endtime", .key = {"query"}});
    ASSERT_TRUE(retry.Append(UpkeepLake::QueryRows(11, 40, start + Duration::Minutes(10))).ok());
    auto again = retry.Commit(SystemClock(), {.cluster = "c1", .table = "stl_query"}, upper);
    ASSERT_TRUE(again.ok() && again->publish_error.ok()) << again.status().ToString();
    EXPECT_EQ(QueryIds(lake), Expected(1, 40));
  };
  EXPECT_GE(ForEveryFault(setup, body, check), 12);
}

TEST(FaultInjectionTest, CompactionReplacesAllOrNothingAtEveryFault) {
  const auto setup = [](UpkeepLake& lake) {
    for (int w = 0; w < 4; ++w) lake.WriteQueries("c1", w * 10 + 1, w * 10 + 10, kDay + Duration::Hours(w));
  };
  const Body body = [](UpkeepLake& lake, const LakeLayout& faulty) -> Status {
    // CompactLake reports a partition it could not compact in its report, and goes on.
    ASSIGN_OR_RETURN(auto report, CompactLake(lake.state(), faulty, lake.config(), {}, faulty.env().Now()));
    return report.files_in == 4 ? Status::Ok() : Internal("{} files compacted, not 4", report.files_in);
  };
  const Check check = [](UpkeepLake& lake) {
    EXPECT_EQ(QueryIds(lake), Expected(1, 40));
    const size_t published = lake.Files("stl_query").size();
    EXPECT_TRUE(published == 4 || published == 1) << published << " files: neither the old ones nor the merged one";
  };
  EXPECT_GE(ForEveryFault(setup, body, check), 6);
}

TEST(FaultInjectionTest, PurgeRemovesAllOrNothingAtEveryFault) {
  const auto setup = [](UpkeepLake& lake) {
    for (int w = 0; w < 2; ++w) lake.WriteQueries("c1", w * 10 + 1, w * 10 + 10, kDay + Duration::Days(w));
  };
  const Body body = [](UpkeepLake& lake, const LakeLayout& faulty) -> Status {
    return PurgeRows(lake.state(), faulty, lake.config(), {.table = "stl_query", .predicate = "query % 2 = 0", .who = "test"})
        .status();
  };
  const Check check = [](UpkeepLake& lake) {
    const std::string ids = QueryIds(lake);
    EXPECT_TRUE(ids == Expected(1, 20) || ids == Expected(1, 19, 2)) << "partly purged: " << ids;
  };
  EXPECT_GE(ForEveryFault(setup, body, check), 6);
}

}  // namespace
}  // namespace fleetlog::upkeep::testing
