// Purge removes exactly the matching rows, rewrites only the files that hold them, audits
// who, what and how many, and refuses predicates that are not one expression.
#include "upkeep/purge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "duck/duck.h"

#include <nlohmann/json.hpp>

#include "lake/replace.h"
#include "upkeep_test_util.h"
#include "upkeep/verify.h"

namespace fleetlog::upkeep {
namespace {

using testing::Day;
using testing::kAllQueries;
using testing::UpkeepLake;

std::vector<std::string> Without(const std::vector<std::string>& rows, const std::vector<std::string>& gone) {
  std::vector<std::string> out;
  for (const auto& r : rows)
    if (std::find(gone.begin(), gone.end(), r) == gone.end()) out.push_back(r);
  return out;
}

TEST(PurgeShapeTest, AcceptsExpressionsRefusesStatements) {
  EXPECT_TRUE(CheckPredicateShape("userid = 3").ok());
  EXPECT_TRUE(CheckPredicateShape("querytxt LIKE '%;--%' AND (query > 5 OR \"aborted\" = 1)").ok());
  EXPECT_TRUE(CheckPredicateShape("querytxt = 'it''s'").ok());
  for (const char* bad : {"1=1; DROP TABLE x", "1=1) UNION ALL (SELECT 1", "1=1 -- x", "1=1 /* x */", "(1=1",
                          "querytxt = 'open", "", "   ", "query = $1", "querytxt = E'\\''"}) {
    Status s = CheckPredicateShape(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
}

class PurgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Three files a cluster: queries 1-30, 31-60, 61-90 (days apart), for two clusters.
    for (const char* cluster : {"c1", "c2"})
      for (int w = 0; w < 3; ++w) lake_.WriteQueries(cluster, w * 30 + 1, w * 30 + 30, Day("2025-04-01") + Duration::Days(w));
  }
  Result<PurgeReport> Purge(const std::string& where, bool dry_run = false) {
    return PurgeRows(lake_.state(), lake_.lake(), lake_.config(),
                     {.table = "stl_query", .predicate = where, .dry_run = dry_run, .who = "auditor"});
  }
  UpkeepLake lake_;
};

TEST_F(PurgeTest, DryRunCountsAndChangesNothing) {
  const auto before = lake_.Rows(kAllQueries);
  auto report = Purge("query BETWEEN 25 AND 35 AND cluster = 'c1'", true);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->rows_matched, 11);
  EXPECT_EQ(report->files_affected, 2);
  EXPECT_EQ(report->files_total, 6);
  EXPECT_FALSE(report->commit_id.has_value());
  EXPECT_EQ(lake_.Rows(kAllQueries), before);
  EXPECT_TRUE(lake_.state().ListKeys("purge/")->empty());
}

TEST_F(PurgeTest, RemovesExactlyTheMatchingRowsAndRewritesOnlyTheirFiles) {
  const auto before = lake_.Rows(kAllQueries);
  const auto gone = lake_.Rows(std::string(kAllQueries).replace(std::string(kAllQueries).find(" ORDER"), 0,
                                                                " WHERE query BETWEEN 25 AND 35 AND cluster = 'c1'"));
  ASSERT_EQ(gone.size(), 11u);
  auto untouched = lake_.Files("stl_query");
  std::erase_if(untouched, [](const CommittedFile& f) { return f.cluster == "c1" && f.dt != "2025-04-03"; });

  auto report = Purge("query BETWEEN 25 AND 35 AND cluster = 'c1'");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->rows_matched, 11);
  EXPECT_EQ(report->files_affected, 2);
  EXPECT_EQ(report->files_written, 2);
  EXPECT_EQ(report->rows_kept, 49);
  EXPECT_EQ(lake_.Rows(kAllQueries), Without(before, gone));

  // Files without matching rows keep their ids: they were not rewritten.
  auto now = lake_.Files("stl_query");
  for (const auto& f : untouched)
    EXPECT_TRUE(std::any_of(now.begin(), now.end(), [&](const CommittedFile& n) { return n.id == f.id; })) << f.path;

  // The audit: a purge run in the commit, and the who/what/how-many record.
  auto runs = lake_.state().RecentRuns(1);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->front().kind, "purge");
  EXPECT_EQ(runs->front().rows_written, 49);
  auto audit = lake_.state().GetValue(report->audit_key);
  ASSERT_TRUE(audit.ok() && audit->has_value());
  auto j = nlohmann::json::parse(**audit);
  EXPECT_EQ(j["who"], "auditor");
  EXPECT_EQ(j["table"], "stl_query");
  EXPECT_EQ(j["predicate"], "query BETWEEN 25 AND 35 AND cluster = 'c1'");
  EXPECT_EQ(j["rows"], 11);
  EXPECT_EQ(j["files"], 2);
  EXPECT_EQ(j["status"], "committed");

  // The purged rows stay on disk only in retired files, until the sweep.
  auto swept = SweepRetired(lake_.state(), lake_.lake(), Timestamp::Now(), Duration());
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->files_deleted, 2);
  // A folder-listing reader, as other engines read the lake: not the sandboxed engine,
  // which lists no folder (issue 11).
  auto db = duck::Database::OpenInMemory({});
  ASSERT_TRUE(db.ok());
  auto conn = duck::Connection::Open(*db);
  ASSERT_TRUE(conn.ok());
  auto raw = (*conn)->Query(fmt::format(
      "SELECT count(*) FROM read_parquet('{}/stl_query/**/*.parquet') WHERE query BETWEEN 25 AND 35", lake_.lake().root()));
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->int64(0, 0), 11) << "only c2's rows are left on disk";
  auto verified = VerifyLake(lake_.state(), lake_.lake(), {});
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->clean());
}

TEST_F(PurgeTest, AFileLeftEmptyIsRetiredWithoutSuccessor) {
  auto report = Purge("query <= 30");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->rows_matched, 60);
  EXPECT_EQ(report->files_affected, 2);
  EXPECT_EQ(report->files_written, 0);
  EXPECT_EQ(lake_.Files("stl_query").size(), 4u);
  EXPECT_EQ(lake_.Rows("SELECT count(*), min(query) FROM stl_query"), std::vector<std::string>{"120|31"});
}

TEST_F(PurgeTest, RefusesBadPredicatesAndUnknownTables) {
  const auto before = lake_.Rows(kAllQueries);
  auto bad_column = Purge("no_such_column = 1");
  EXPECT_EQ(bad_column.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_column.status().message(), ::testing::HasSubstr("no_such_column"));
  EXPECT_EQ(Purge("1=1) UNION ALL (SELECT 1").status().code(), StatusCode::kInvalidArgument);
  auto unknown = PurgeRows(lake_.state(), lake_.lake(), lake_.config(), {.table = "nope", .predicate = "true"});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(lake_.Rows(kAllQueries), before);
  // Nothing matched: nothing to do, nothing audited.
  auto none = Purge("query > 1000");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->rows_matched, 0);
  EXPECT_FALSE(none->commit_id.has_value());
}

}  // namespace
}  // namespace fleetlog::upkeep
