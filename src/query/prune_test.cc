// File pruning: what bounds a statement sets, and, differentially, that an engine whose
// views read the pruned files answers every query exactly as one reading every file.
#include "query/prune.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <random>

#include "core/fs.h"
#include "query/engine.h"
#include "test_lake.h"

namespace fleetlog {
namespace {

const std::map<std::string, std::string> kCursors = {
    {"stl_query", "endtime"}, {"stl_wlm_query", "service_class_end_time"}, {"stl_alert_event_log", "event_time"}};

int64_t Micros(const char* at) { return ParseTimestamp(at)->micros(); }
constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
ValueSet Between(int64_t lo, int64_t hi) { return {{lo, hi}}; }

class RangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = duck::Database::OpenInMemory({{"autoload_known_extensions", "false"},
                                            {"autoinstall_known_extensions", "false"}});
    ASSERT_TRUE(db.ok());
    auto conn = duck::Connection::Open(*db);
    ASSERT_TRUE(conn.ok());
    db_ = *db;
    conn_ = std::move(conn).value();
  }
  StatementRanges Of(const std::string& sql) { return RangesOf(*conn_, sql, kCursors); }

  std::shared_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
};

TEST_F(RangesTest, BoundsFromTopLevelComparisonsWithConstants) {
  auto r = Of("SELECT count(*) FROM stl_query WHERE endtime >= TIMESTAMP '2026-01-10' - INTERVAL '1 day' "
              "AND cluster = 'a' AND endtime < '2026-01-10 06:00:00'");
  ASSERT_EQ(r.bounded.count("stl_query"), 1u);
  ASSERT_EQ(r.bounded["stl_query"].size(), 1u);
  EXPECT_EQ(r.bounded["stl_query"][0].ranges["endtime"],
            Between(Micros("2026-01-09 00:00:00"), Micros("2026-01-10 06:00:00")));

  auto flipped = Of("SELECT 1 FROM STL_QUERY q WHERE DATE '2026-01-05' <= q.EndTime");
  ASSERT_EQ(flipped.bounded.count("stl_query"), 1u);
  EXPECT_EQ(flipped.bounded["stl_query"][0].ranges["endtime"], Between(Micros("2026-01-05 00:00:00"), kMax));

  // Both sides of a join, each by its own alias; every reference of a table must be bounded.
  auto join = Of("SELECT 1 FROM stl_query q JOIN stl_wlm_query w USING (cluster, query) "
                 "WHERE q.endtime = TIMESTAMP '2026-01-02 03:04:05' AND w.service_class_end_time > '2026-01-01'");
  EXPECT_EQ(join.bounded["stl_query"][0].ranges["endtime"],
            Between(Micros("2026-01-02 03:04:05"), Micros("2026-01-02 03:04:05")));
  EXPECT_EQ(join.bounded["stl_wlm_query"][0].ranges["service_class_end_time"],
            Between(Micros("2026-01-01 00:00:00"), kMax));

  auto two = Of("WITH a AS (SELECT * FROM stl_query WHERE endtime >= '2026-01-03'), "
                "b AS (SELECT * FROM stl_query WHERE endtime <= '2026-01-01') SELECT * FROM a UNION ALL SELECT * FROM b");
  ASSERT_EQ(two.bounded["stl_query"].size(), 2u);
  EXPECT_TRUE(two.names.count("a"));
}

// A statement's time bounds are computed together, in one batch: one that DuckDB cannot
// compute (an overflow fails the batch's query) is left out alone, the others still bound.
TEST_F(RangesTest, AConstantThatCannotBeComputedLeavesTheOtherBounds) {
  auto r =
      Of("SELECT * FROM stl_query q JOIN stl_wlm_query w USING (cluster, query) "
         "WHERE q.endtime >= TIMESTAMP '2026-01-10' - INTERVAL '1 day' "
         "AND q.endtime < TIMESTAMP '2026-01-10' + INTERVAL '100000000 years' "
         "AND w.service_class_end_time <= TIMESTAMP '2026-01-11' + INTERVAL '1 month' AND q.query = 5");
  ASSERT_EQ(r.bounded["stl_query"].size(), 1u);
  EXPECT_EQ(r.bounded["stl_query"][0].ranges["endtime"], Between(Micros("2026-01-09 00:00:00"), kMax));
  EXPECT_EQ(r.bounded["stl_query"][0].ranges["query"], Between(5, 5));
  ASSERT_EQ(r.bounded["stl_wlm_query"].size(), 1u);
  EXPECT_EQ(r.bounded["stl_wlm_query"][0].ranges["service_class_end_time"],
            Between(kMin, Micros("2026-02-11 00:00:00")));
}

// Plain time bounds (a time as text, plus or minus whole seconds to weeks) are read without
// DuckDB, other forms computed by it: either way each bound is the value DuckDB gives it.
TEST_F(RangesTest, TimeBoundsAreTheValuesDuckDbComputes) {
  std::vector<std::string> exprs = {"TIMESTAMP '2026-12-02 18:03:25' - INTERVAL '2 hours'",
                                    "DATE '2024-02-29' + INTERVAL '1 week'",
                                    "'2026-01-10 06:00:00.5'",
                                    "'2026-01-10'",
                                    "INTERVAL '90 Minutes' + TIMESTAMP '2026-03-01 00:00:00.000001'",
                                    "TIMESTAMP '2026-01-01' - INTERVAL '1 day' - INTERVAL '30 seconds'",
                                    "TIMESTAMP '1999-12-31T23:59:59'",
                                    "TIMESTAMP '2026-01-31' + INTERVAL '1 month'",
                                    "TIMESTAMP '2026-01-10' - INTERVAL '1.5 hours'",
                                    "DATE '2026-03-01' - INTERVAL '999999 weeks'",
                                    "CAST('2026-05-05 05:05' AS TIMESTAMP)",
                                    "TIMESTAMP '2026-01-10 06:00:00+00'",
                                    "'2026-1-9'"};
  std::mt19937 random(7);
  const char* units[] = {"second", "minutes", "HOUR", "days", "week"};
  for (int i = 0; i < 40; ++i) {
    const auto day = std::uniform_int_distribution<int>(0, 40'000)(random);
    const auto second = std::uniform_int_distribution<int>(0, 86'399)(random);
    exprs.push_back(fmt::format("TIMESTAMP '{}' {} INTERVAL '{} {}'",
                                FormatTimestamp(Timestamp::FromMicros((day * 86'400LL + second) * 1'000'000)),
                                i % 2 ? "+" : "-", std::uniform_int_distribution<int>(0, 999'999)(random),
                                units[i % 5]));
  }
  for (const auto& expr : exprs) {
    auto duck = conn_->Query("SELECT epoch_us(CAST(" + expr + " AS TIMESTAMP))");
    ASSERT_TRUE(duck.ok()) << expr << ": " << duck.status().message();
    auto r = Of("SELECT 1 FROM stl_query WHERE endtime >= " + expr);
    ASSERT_EQ(r.bounded["stl_query"].size(), 1u) << expr;
    EXPECT_EQ(r.bounded["stl_query"][0].ranges["endtime"], Between(duck->int64(0, 0), kMax)) << expr;
  }
}

TEST_F(RangesTest, BoundsOnIdsByEqualityListsAndRanges) {
  auto r = Of("SELECT * FROM stl_query WHERE query = 42 AND xid BETWEEN 7 AND 9.5 AND cluster = 'a'");
  ASSERT_EQ(r.bounded["stl_query"].size(), 1u);
  EXPECT_EQ(r.bounded["stl_query"][0].ranges["query"], Between(42, 42));
  EXPECT_EQ(r.bounded["stl_query"][0].ranges["xid"], Between(7, 10)) << "a fraction widens to the integers around it";

  // IN: each item apart, NULL items match nothing; AND-ed bounds on one column intersect.
  auto in = Of("SELECT * FROM stl_query WHERE query IN (30, 10, NULL, 11, 20 + 1) AND query >= 11");
  EXPECT_EQ(in.bounded["stl_query"][0].ranges["query"], (ValueSet{{11, 11}, {21, 21}, {30, 30}}));
  auto nothing = Of("SELECT * FROM stl_query WHERE query = NULL");
  EXPECT_EQ(nothing.bounded["stl_query"][0].ranges["query"], ValueSet{}) << "no row can match";
  auto disjoint = Of("SELECT * FROM stl_query WHERE query = 1 AND query = 2");
  EXPECT_EQ(disjoint.bounded["stl_query"][0].ranges["query"], ValueSet{});
  auto less = Of("SELECT * FROM stl_query WHERE 100 > query");
  EXPECT_EQ(less.bounded["stl_query"][0].ranges["query"], Between(kMin, 100));

  // Through the views: the columns they pass through unchanged bound the tables under them.
  auto text = Of("SELECT text FROM stl_querytext_full WHERE cluster = 'beta' AND query = 17");
  EXPECT_EQ(text.bounded["stl_querytext"][0].ranges["query"], Between(17, 17));
  auto fleet = Of("SELECT * FROM fleet_queries f WHERE f.query_id IN (5, 6) AND f.end_time >= '2026-01-01'");
  EXPECT_EQ(fleet.bounded["stl_query"][0].ranges["query"], (ValueSet{{5, 5}, {6, 6}}));
  EXPECT_EQ(fleet.bounded["stl_query"][0].ranges["endtime"], Between(Micros("2026-01-01 00:00:00"), kMax));
  EXPECT_EQ(fleet.bounded["stl_wlm_query"][0].ranges["query"], (ValueSet{{5, 5}, {6, 6}}));
  EXPECT_EQ(fleet.bounded["stl_wlm_query"][0].ranges.count("service_class_end_time"), 0u) << "not what end_time is";
  EXPECT_EQ(fleet.bounded["sys_query_history"][0].ranges["query_id"], (ValueSet{{5, 5}, {6, 6}}));
  // A view column that is an aggregate bounds nothing: fleet_scans' start_time is min(starttime).
  EXPECT_EQ(Of("SELECT * FROM fleet_scans WHERE start_time >= '2026-01-01'").bounded.count("stl_scan"), 0u);
  // A table read directly and through a view: both references must be bounded.
  EXPECT_EQ(Of("SELECT * FROM stl_querytext_full WHERE query = 3 UNION ALL SELECT query, NULL, text, 1, dt, cluster "
               "FROM stl_querytext").bounded.count("stl_querytext"), 0u);
}

TEST_F(RangesTest, ClustersByEqualityAndListsOfTextLiterals) {
  using Clusters = std::optional<std::set<std::string>>;
  auto r = Of("SELECT * FROM stl_query WHERE cluster = 'a'");
  ASSERT_EQ(r.bounded["stl_query"].size(), 1u);
  EXPECT_EQ(r.bounded["stl_query"][0].clusters, Clusters({"a"}));
  EXPECT_TRUE(r.bounded["stl_query"][0].ranges.empty());
  auto in =
      Of("SELECT * FROM stl_query q WHERE q.cluster IN ('b', 'a', NULL, 'c') AND 'c' <> q.cluster "
         "AND cluster = 'b' AND q.query = 4");
  EXPECT_EQ(in.bounded["stl_query"][0].clusters, Clusters({"b"})) << "<> bounds nothing; the rest intersect";
  auto both = Of("SELECT * FROM stl_query WHERE cluster IN ('b', 'a') AND cluster = 'b'");
  EXPECT_EQ(both.bounded["stl_query"][0].clusters, Clusters({"b"}));
  EXPECT_EQ(Of("SELECT * FROM stl_query WHERE cluster = NULL").bounded["stl_query"][0].clusters,
            Clusters(std::set<std::string>{}));
  // Through every view, which passes the cluster through.
  auto fleet = Of("SELECT * FROM fleet_queries WHERE cluster = 'x'");
  EXPECT_EQ(fleet.bounded["stl_query"][0].clusters, Clusters({"x"}));
  EXPECT_EQ(fleet.bounded["stl_wlm_query"][0].clusters, Clusters({"x"}));
  EXPECT_EQ(fleet.bounded["sys_query_history"][0].clusters, Clusters({"x"}));
  EXPECT_EQ(Of("SELECT text FROM stl_querytext_full WHERE cluster = 'beta' AND query = 17")
                .bounded["stl_querytext"][0]
                .clusters,
            Clusters({"beta"}));
}

TEST_F(RangesTest, JoinsBoundTheSidesThatDropUnmatchedRows) {
  using Keys = std::vector<JoinKey>;
  const Keys by_query = {{"cluster", "stl_query", "cluster"}, {"query", "stl_query", "query"}};
  // The lookup of one cluster's hour: stl_wlm_query, on the side a LEFT JOIN does not keep,
  // needs only what stl_query's narrowed files hold; stl_query is bounded by its own filters.
  auto left =
      Of("SELECT * FROM stl_query q LEFT JOIN stl_wlm_query w ON w.cluster = q.cluster AND w.query = q.query "
         "WHERE q.cluster = 'a' AND q.endtime >= '2026-01-01'");
  ASSERT_EQ(left.bounded["stl_wlm_query"].size(), 1u);
  EXPECT_EQ(left.bounded["stl_wlm_query"][0].joins, by_query);
  EXPECT_TRUE(left.bounded["stl_query"][0].joins.empty()) << "a LEFT JOIN keeps every row of its left side";
  auto inner = Of("SELECT * FROM stl_wlm_query w JOIN stl_query q USING (cluster, query)");
  EXPECT_EQ(inner.bounded["stl_wlm_query"][0].joins, by_query);
  EXPECT_EQ(inner.bounded["stl_query"][0].joins,
            (Keys{{"cluster", "stl_wlm_query", "cluster"}, {"query", "stl_wlm_query", "query"}}));
  auto right = Of("SELECT * FROM stl_wlm_query w RIGHT JOIN stl_query q ON q.query = w.query");
  EXPECT_EQ(right.bounded["stl_wlm_query"][0].joins, (Keys{{"query", "stl_query", "query"}}));
  EXPECT_EQ(right.bounded.count("stl_query"), 0u);
  auto where = Of("SELECT * FROM stl_query q, stl_scan s WHERE s.query = q.query AND s.cluster = q.cluster");
  EXPECT_EQ(where.bounded["stl_scan"][0].joins,
            (Keys{{"query", "stl_query", "query"}, {"cluster", "stl_query", "cluster"}}));
  // Joins through a third table, in a subtree of joins.
  auto nested =
      Of("SELECT * FROM stl_query q JOIN (stl_scan s LEFT JOIN stl_explain e ON e.query = s.query) "
         "ON s.query = q.query");
  EXPECT_EQ(nested.bounded["stl_explain"][0].joins, (Keys{{"query", "stl_scan", "query"}}));
  EXPECT_EQ(nested.bounded["stl_scan"][0].joins, (Keys{{"query", "stl_query", "query"}}));
  const char* unjoined[] = {
      "SELECT * FROM stl_query q FULL JOIN stl_wlm_query w ON w.query = q.query",
      "SELECT * FROM stl_query q ANTI JOIN stl_wlm_query w ON w.query = q.query",
      "SELECT * FROM stl_query q LEFT JOIN stl_wlm_query w ON w.query = q.query OR w.xid = q.xid",
      "SELECT * FROM stl_query q LEFT JOIN stl_wlm_query w ON w.query = q.query + 1",
      "SELECT * FROM stl_query q LEFT JOIN stl_wlm_query w ON w.query <= q.query",
      "SELECT * FROM stl_query q LEFT JOIN stl_wlm_query w ON w.query = q.userid",  // not a column with ranges
      "SELECT * FROM stl_query q LEFT JOIN stl_wlm_query w ON w.query = q.endtime",
      "SELECT * FROM stl_query q LEFT JOIN stl_wlm_query AS w(query) ON w.query = q.query",
      "SELECT * FROM stl_query q LEFT JOIN stl_wlm_query w USING SAMPLE 5 ON w.query = q.query",
      "SELECT * FROM stl_query q LEFT JOIN (SELECT * FROM stl_wlm_query) w ON w.query = q.query",
      "SELECT * FROM stl_query q ASOF LEFT JOIN stl_wlm_query w ON w.query = q.query AND w.exec_start_time >= "
      "q.endtime",
      "SELECT * FROM stl_query q LEFT JOIN stl_wlm_query w ON w.query = q.query "
      "UNION ALL SELECT * FROM stl_query, stl_wlm_query",
  };
  for (const char* sql : unjoined) EXPECT_EQ(Of(sql).bounded.count("stl_wlm_query"), 0u) << sql;
  // A CTE is named, so that PruneTables can refuse a join to it.
  EXPECT_EQ(
      Of("WITH stl_query AS (SELECT 1 AS query) SELECT * FROM stl_query q JOIN stl_wlm_query w USING (query)").ctes,
      std::set<std::string>{"stl_query"});
}

TEST_F(RangesTest, AnythingInDoubtSetsNoBound) {
  const char* unbounded[] = {
      "SELECT 1 FROM stl_query WHERE endtime >= '2026-01-01' OR query = 3",             // OR
      "SELECT 1 FROM stl_query WHERE endtime >= now() - INTERVAL 1 HOUR",               // the clock
      "SELECT 1 FROM stl_query WHERE endtime >= (SELECT max(endtime) FROM stl_query)",  // not constant; 2nd reference
      "SELECT 1 FROM stl_query q, stl_wlm_query w WHERE endtime >= '2026-01-01'",       // unqualified in a join
      "SELECT 1 FROM stl_query WHERE starttime >= '2026-01-01'",                        // not the cursor
      "SELECT 1 FROM stl_query WHERE endtime >= '2026-01-01' UNION ALL SELECT 1 FROM stl_query",
      "SELECT 1 FROM stl_wlm_query w ASOF JOIN stl_query q ON w.exec_start_time >= q.endtime "
      "WHERE q.endtime <= '2026-01-01'",  // ASOF picks by what is there
      "SELECT 1 FROM stl_query USING SAMPLE 10 WHERE endtime >= '2026-01-01'",
      "SELECT 1 FROM main.stl_query WHERE endtime >= '2026-01-01'",
      "SELECT 1 FROM stl_query WHERE endtime::DATE >= '2026-01-01'",
      "SELECT 1 FROM stl_query WHERE endtime >= 42",
      "EXPLAIN SELECT 1 FROM stl_query WHERE endtime >= '2026-01-01'",
      "SELECT 1 FROM stl_query WHERE endtime >= '2026-01-01'; SELECT 2",
      "SELECT 1 FROM stl_query WHERE query NOT IN (1, 2)",
      "SELECT 1 FROM stl_query WHERE query NOT BETWEEN 1 AND 2",
      "SELECT 1 FROM stl_query WHERE query IN (SELECT 1)",
      "SELECT 1 FROM stl_query WHERE query = '42'",  // text against an id
      "SELECT 1 FROM stl_query WHERE query IN (1, random())",
      "SELECT 1 FROM stl_query WHERE query = 1 OR query = 2",
      "SELECT * FROM stl_query PIVOT (count(*) FOR aborted IN (0, 1) GROUP BY query) WHERE query = 1",
      "SELECT * FROM fleet_queries WHERE query_id = 1 OR end_time > '2026-01-01'",
      "SELECT 1 FROM stl_query AS q(endtime) WHERE q.endtime >= '2026-01-01'",  // renames the first column
      // Clusters: by equality with plain text literals only.
      "SELECT 1 FROM stl_query WHERE cluster >= 'a'",
      "SELECT 1 FROM stl_query WHERE cluster BETWEEN 'a' AND 'b'",
      "SELECT 1 FROM stl_query WHERE cluster = 'A' COLLATE nocase",
      "SELECT 1 FROM stl_query WHERE cluster COLLATE nocase = 'A'",
      "SELECT 1 FROM stl_query WHERE lower(cluster) = 'a'",
      "SELECT 1 FROM stl_query WHERE cluster = 'a' || ''",
      "SELECT 1 FROM stl_query WHERE cluster IN ('a', upper('b'))",
      "SELECT 1 FROM stl_query WHERE cluster NOT IN ('a')",
      "SELECT 1 FROM stl_query WHERE cluster = 'a' OR query = 1",
      "SELECT 1 FROM stl_query AS q(cluster) WHERE q.cluster = 'a'",
  };
  for (const char* sql : unbounded) EXPECT_EQ(Of(sql).bounded.count("stl_query"), 0u) << sql;
  EXPECT_TRUE(Of("SELECT * FROM query_table('stl_query') WHERE endtime > '2026-01-01'").table_function);
}

TEST(PruneFilesTest, KeepsFilesThatMeetARangeAndFilesWithoutOne) {
  CommittedFile day1, day2, unknown;
  day1.min_cursor = *ParseTimestamp("2026-01-01 00:00:00");
  day1.max_cursor = *ParseTimestamp("2026-01-01 23:59:59");
  day1.id_ranges = {{"query", {1, 100}}};
  day2.min_cursor = *ParseTimestamp("2026-01-02 00:00:00");
  day2.max_cursor = *ParseTimestamp("2026-01-02 23:59:59");
  day2.id_ranges = {{"query", {101, 200}}};
  const std::vector<const CommittedFile*> all = {&day1, &day2, &unknown};
  using V = std::vector<const CommittedFile*>;
  const auto from = [](const char* at) { return ReferenceBounds{.ranges = {{"endtime", Between(Micros(at), kMax)}}}; };
  const auto to = [](const char* at) { return ReferenceBounds{.ranges = {{"endtime", Between(kMin, Micros(at))}}}; };
  EXPECT_EQ(PruneFiles(all, "endtime", {from("2026-01-02 00:00:00")}), (V{&day2, &unknown}));
  EXPECT_EQ(PruneFiles(all, "endtime", {to("2026-01-01 23:59:59")}), (V{&day1, &unknown}));
  EXPECT_EQ(PruneFiles(all, "endtime", {from("2026-01-03 00:00:00")}), (V{&unknown}));
  EXPECT_EQ(PruneFiles(all, "endtime", {to("2025-12-01 00:00:00"), from("2026-01-02 12:00:00")}), (V{&day2, &unknown}));
  // Without its cursor column a table's files are not skipped by time.
  EXPECT_EQ(PruneFiles(all, "", {from("2026-01-03 00:00:00")}), all);

  // Ids: a file is kept when one of a reference's intervals meets its range, boundaries included.
  const auto ids = [](ValueSet set) { return ReferenceBounds{.ranges = {{"query", std::move(set)}}}; };
  EXPECT_EQ(PruneFiles(all, "endtime", {ids({{100, 100}})}), (V{&day1, &unknown}));
  EXPECT_EQ(PruneFiles(all, "endtime", {ids({{101, 101}})}), (V{&day2, &unknown}));
  EXPECT_EQ(PruneFiles(all, "endtime", {ids({{5, 5}, {150, 150}})}), all);
  EXPECT_EQ(PruneFiles(all, "endtime", {ids({{201, 300}})}), (V{&unknown}));
  EXPECT_EQ(PruneFiles(all, "endtime", {ids({})}), (V{&unknown})) << "no value can match";
  // Every bounded column of a reference must meet the file's range.
  ReferenceBounds both = ids({{150, 150}});
  both.ranges["endtime"] = Between(kMin, Micros("2026-01-01 12:00:00"));
  EXPECT_EQ(PruneFiles(all, "endtime", {both}), (V{&unknown}));
  // A column the files have no range of (another table's, or older files) skips nothing.
  EXPECT_EQ(PruneFiles(all, "endtime", {ReferenceBounds{.ranges = {{"xid", {{1, 1}}}}}}), all);

  // Clusters: a file of another cluster is skipped; one whose cluster is unknown is not.
  day1.cluster = "a";
  day2.cluster = "b";
  EXPECT_EQ(PruneFiles(all, "endtime", {ReferenceBounds{.clusters = std::set<std::string>{"b"}}}),
            (V{&day2, &unknown}));
  EXPECT_EQ(PruneFiles(all, "endtime", {ReferenceBounds{.clusters = std::set<std::string>{}}}), (V{&unknown}));
  ReferenceBounds b_early{.ranges = {{"query", {{1, 100}}}}, .clusters = std::set<std::string>{"b"}};
  EXPECT_EQ(PruneFiles(all, "endtime", {b_early}), (V{&unknown})) << "b's file holds other ids";
  EXPECT_EQ(PruneFiles(all, "endtime", {b_early, ids({{1, 1}})}), (V{&day1, &unknown}));
}

TEST(PruneTablesTest, AJoinTakesTheValuesOfTheOtherTablesNarrowedFiles) {
  // stl_query: a's and b's days; stl_wlm_query: the same, and a third day of a.
  const auto file = [](const char* table, const char* cluster, int64_t lo, int64_t hi, const char* day) {
    CommittedFile f;
    f.table = table;
    f.cluster = cluster;
    f.id_ranges = {{"query", {lo, hi}}};
    f.min_cursor = *ParseTimestamp(std::string(day) + " 00:00:00");
    f.max_cursor = *ParseTimestamp(std::string(day) + " 23:59:59");
    return f;
  };
  const CommittedFile qa = file("stl_query", "a", 1, 100, "2026-01-01"),
                      qb = file("stl_query", "b", 1, 90, "2026-01-01");
  const CommittedFile wa = file("stl_wlm_query", "a", 1, 100, "2026-01-01"),
                      wb = file("stl_wlm_query", "b", 1, 90, "2026-01-01"),
                      wa2 = file("stl_wlm_query", "a", 101, 200, "2026-01-02");
  using V = std::vector<const CommittedFile*>;
  const std::map<std::string, V> tables = {{"stl_query", {&qa, &qb}}, {"stl_wlm_query", {&wa, &wb, &wa2}}};
  const std::map<std::string, std::string> cursors = {{"stl_query", "endtime"}};
  const std::vector<JoinKey> keys = {{"cluster", "stl_query", "cluster"}, {"query", "stl_query", "query"}};

  StatementRanges ranges;
  ranges.bounded["stl_query"] = {ReferenceBounds{.clusters = std::set<std::string>{"a"}}};
  ranges.bounded["stl_wlm_query"] = {ReferenceBounds{.joins = keys}};
  auto read = PruneTables(tables, cursors, ranges);
  EXPECT_EQ(read["stl_query"], (V{&qa}));
  EXPECT_EQ(read["stl_wlm_query"], (V{&wa})) << "a's files holding a's queries of its first day";

  // Unnarrowed, the other table's files still bound: every cluster, queries 1-100.
  ranges.bounded.erase("stl_query");
  read = PruneTables(tables, cursors, ranges);
  EXPECT_EQ(read["stl_wlm_query"], (V{&wa, &wb}));
  // No join to a CTE of the same name, nor to what is not a table with files.
  ranges.ctes = {"stl_query"};
  EXPECT_EQ(PruneTables(tables, cursors, ranges).count("stl_wlm_query"), 0u);
  ranges.ctes.clear();
  ranges.bounded["stl_wlm_query"] = {ReferenceBounds{.joins = {{"query", "top", "query"}}}};
  EXPECT_EQ(PruneTables(tables, cursors, ranges).count("stl_wlm_query"), 0u);
  // A file of the other table without a range of the column: the join bounds nothing.
  CommittedFile unknown = qb;
  unknown.id_ranges.clear();
  const std::map<std::string, V> with_unknown = {{"stl_query", {&qa, &unknown}}, {"stl_wlm_query", {&wa, &wb, &wa2}}};
  ranges.bounded["stl_wlm_query"] = {ReferenceBounds{.joins = {{"query", "stl_query", "query"}}}};
  EXPECT_EQ(PruneTables(with_unknown, cursors, ranges).count("stl_wlm_query"), 0u);
  // A table function prunes nothing.
  ranges.table_function = true;
  EXPECT_TRUE(PruneTables(tables, cursors, ranges).empty());
}

// The same queries through an engine that prunes and one that reads every file.
class PruneDifferentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("fleetlog-prune-" + RandomHex())).string();
    std::filesystem::create_directories(dir_);
    auto state = OpenSqliteStateStore(dir_ + "/state.db", OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok());
    state_ = std::move(state).value();
    // Three clusters, four days ending at end_: one file per table, cluster and day.
    ASSERT_TRUE(testing::WriteDashboardLake(dir_ + "/lake", *state_, {"alpha", "beta", "gamma"}, 96, end_, 600).ok());
    auto snapshot = LoadLakeSnapshot(state_.get());
    ASSERT_TRUE(snapshot.ok());
    snapshot_ = std::move(snapshot).value();
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // The rows of `sql` on `engine`, each as its columns' text joined, sorted.
  static std::vector<std::string> Rows(QueryEngine& engine, const std::string& sql) {
    auto result = engine.Run(sql);
    EXPECT_TRUE(result.ok()) << sql << ": " << result.status().message();
    if (!result.ok()) return {};
    std::vector<std::string> rows;
    for (size_t r = 0; r < result->row_count(); ++r) {
      std::string row;
      for (size_t c = 0; c < result->column_count(); ++c)
        row += (result->is_null(c, r) ? std::string("NULL") : result->text(c, r)) + "|";
      rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end());
    return rows;
  }

  // The rows of `sql` on an engine made for it, and the files it could read.
  std::pair<std::vector<std::string>, size_t> Run(const std::string& sql, bool prune) {
    EngineOptions options{.lake_root = dir_ + "/lake", .memory_limit_bytes = 256LL << 20, .threads = 1,
                          .views_for_sql = sql};
    if (prune) options.cursor_columns = kCursors;
    auto engine = QueryEngine::Open(options, snapshot_);
    EXPECT_TRUE(engine.ok()) << engine.status().message();
    if (!engine.ok()) return {};
    return {Rows(**engine, sql), (*engine)->readable_files().size()};
  }

  // The long-lived engine (views over every file, narrowed per statement), as the server's
  // query workers keep: one for the whole test, so each statement also checks that the
  // views the one before narrowed are whole again. `in_memory`: it keeps every table in
  // memory (query/keeper.h), which then reads whole, not narrowed; else none.
  QueryEngine& Kept(bool in_memory = false) {
    auto& kept = in_memory ? in_memory_ : kept_;
    if (!kept) {
      auto engine = QueryEngine::Open({.lake_root = dir_ + "/lake",
                                       .memory_limit_bytes = 256LL << 20,
                                       .threads = 1,
                                       .cursor_columns = kCursors,
                                       .kept_table_bytes = in_memory ? 1LL << 30 : 0},
                                      snapshot_);
      EXPECT_TRUE(engine.ok()) << engine.status().message();
      kept = std::move(engine).value();
    }
    return *kept;
  }

  // Expects equal rows from a plain scan, an engine made for the statement and the kept
  // engines, the one that keeps tables in memory before and after it has copied those the
  // statement reads; returns whether pruning read fewer files (both ways).
  bool Same(const std::string& sql) {
    auto [plain, all_files] = Run(sql, false);
    auto [pruned, some_files] = Run(sql, true);
    EXPECT_EQ(pruned, plain) << sql;
    EXPECT_LE(some_files, all_files) << sql;
    EXPECT_EQ(Rows(Kept(), sql), plain) << "kept engine: " << sql;
    EXPECT_EQ(Kept().last_skipped_files() > 0, some_files < all_files) << sql;
    EXPECT_EQ(Rows(Kept(true), sql), plain) << "kept engine, copying tables into memory: " << sql;
    Kept(true).WaitForBackgroundWork();
    EXPECT_EQ(Rows(Kept(true), sql), plain) << "kept engine, tables in memory: " << sql;
    return some_files < all_files;
  }

  std::string dir_;
  Timestamp end_ = *ParseTimestamp("2026-01-10 00:00:00");
  std::unique_ptr<StateStore> state_;
  LakeSnapshot snapshot_;
  std::unique_ptr<QueryEngine> kept_, in_memory_;
};

TEST_F(PruneDifferentialTest, DiagnosticQueriesAnswerAsAPlainScan) {
  // The diagnostic queries of bench/lib/queries.sh over the tables this lake has.
  const std::string end = "TIMESTAMP '2026-01-10 00:00:00'";
  EXPECT_TRUE(Same("SELECT cluster, date_trunc('hour', endtime) AS hour, count(*) AS queries FROM stl_query "
                   "WHERE endtime >= " + end + " - INTERVAL '1 day' GROUP BY 1, 2"));
  EXPECT_TRUE(Same(
      "WITH top AS (SELECT cluster, query, starttime, endtime - starttime AS duration FROM stl_query "
      "WHERE endtime >= " + end + " - INTERVAL '1 day' ORDER BY duration DESC, cluster, query LIMIT 20) "
      "SELECT top.*, left(t.text, 100) AS text FROM top LEFT JOIN (SELECT cluster, query, string_agg(text, '' ORDER BY "
      "sequence) AS text FROM stl_querytext WHERE query IN (SELECT query FROM top) GROUP BY 1, 2) t USING (cluster, query)"));
  Same("SELECT cluster, service_class, CAST(service_class_end_time AS DATE) AS day, count(*) AS queries, "
       "quantile_cont(total_queue_time, 0.95) / 1e6 AS p95_wait_s FROM stl_wlm_query GROUP BY 1, 2, 3");
  Same("SELECT split_part(trim(event), ':', 1) AS event, count(*) AS alerts, count(DISTINCT cluster) AS clusters, "
       "count(DISTINCT query) AS queries FROM stl_alert_event_log GROUP BY 1");
  EXPECT_TRUE(Same("SELECT text FROM stl_querytext_full WHERE cluster = 'beta' AND query = 17"));
  const std::string hour =
      "SELECT q.query, q.starttime, q.endtime, w.service_class, w.total_queue_time, w.total_exec_time, "
      "left(q.querytxt, 60) AS statement FROM stl_query q LEFT JOIN stl_wlm_query w ON w.cluster = q.cluster AND "
      "w.query = q.query WHERE q.cluster = 'alpha' AND q.endtime >= " +
      end +
      " - INTERVAL '2 hours' "
      "AND q.endtime < " +
      end + " - INTERVAL '1 hour'";
  EXPECT_TRUE(Same(hour));
  // One cluster's day of stl_query, and of stl_wlm_query the files that join it (one or two).
  EXPECT_LE(Run(hour, true).second, 3u);
  EXPECT_EQ(Run("SELECT text FROM stl_querytext_full WHERE cluster = 'beta' AND query = 17", true).second, 1u);
}

TEST_F(PruneDifferentialTest, RandomFiltersAnswerAsAPlainScan) {
  std::mt19937 random(18);  // fixed: a failure names the query, and reruns the same
  const char* ops[] = {">=", ">", "<=", "<", "="};
  const auto at = [&] {
    // Mostly inside the lake's four days, sometimes outside, sometimes a row's exact time.
    const int64_t span = 120LL * 3600 * 1'000'000;
    const int64_t us = end_.micros() - span + static_cast<int64_t>(random() % static_cast<uint64_t>(span + 3600LL * 1'000'000));
    return "TIMESTAMP '" + FormatTimestamp(Timestamp::FromMicros(us - us % 60'000'000)) + "'";
  };
  int pruned = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string a = at(), b = at(), op1 = ops[random() % 5], op2 = ops[random() % 5];
    const std::string sql = [&]() -> std::string {
      switch (i % 5) {
        case 0: return "SELECT cluster, count(*), min(endtime), max(endtime) FROM stl_query WHERE endtime " + op1 + " " + a +
                       " GROUP BY 1";
        case 1: return "SELECT cluster, query FROM stl_query WHERE " + a + " " + op1 + " endtime AND endtime " + op2 + " " +
                       b;
        case 2: return "SELECT q.cluster, q.query, w.total_queue_time FROM stl_query q JOIN stl_wlm_query w "
                       "ON w.cluster = q.cluster AND w.query = q.query WHERE q.endtime " + op1 + " " + a +
                       " AND w.service_class_end_time " + op2 + " " + b;
        case 3: return "SELECT count(*) FROM stl_query WHERE endtime " + op1 + " " + a + " OR endtime " + op2 + " " + b;
        default: return "SELECT e.cluster, count(*) FROM stl_alert_event_log e WHERE e.event_time " + op1 + " " + a +
                        " AND e.query > 5 GROUP BY 1 UNION ALL SELECT cluster, count(*) FROM stl_query WHERE endtime " + op2 +
                        " " + b + " GROUP BY 1";
      }
    }();
    pruned += Same(sql);
  }
  EXPECT_GT(pruned, 10);  // the filters did let files be skipped
}

// The kept engine keeps a narrowed view while statements need the same files of its table,
// and every other statement runs without it: it neither reads through it nor sees it.
TEST_F(PruneDifferentialTest, ANarrowedViewServesOnlyStatementsThatNeedItsFiles) {
  const std::string alpha = "SELECT cluster, count(*), max(endtime) FROM stl_query WHERE cluster = 'alpha' GROUP BY 1";
  const std::string temporary = "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal";
  EXPECT_TRUE(Same(alpha));
  EXPECT_TRUE(Same(alpha));  // the view kept from the statement before
  EXPECT_TRUE(Same("SELECT cluster, count(*) FROM stl_query WHERE cluster = 'beta' GROUP BY 1"));  // replaced
  EXPECT_TRUE(Same(alpha));
  EXPECT_EQ(Rows(Kept(), temporary), std::vector<std::string>{});
  EXPECT_FALSE(Same("SELECT cluster, count(*) FROM stl_query GROUP BY 1"));  // the whole table again
  EXPECT_TRUE(Same(alpha));
  EXPECT_FALSE(Same("SELECT count(*) FROM stl_query WHERE cluster = 'alpha' OR query > 0"));  // no bound: whole
  EXPECT_EQ(Rows(Kept(), temporary), std::vector<std::string>{});
}

// The kept engine remembers each SELECT's ranges by its text: a statement asked again reads
// the files it read the first time, statements between them get their own, and a text of
// several statements is refused every time.
TEST_F(PruneDifferentialTest, AStatementAskedAgainIsNarrowedAsTheFirstTime) {
  const std::vector<std::string> statements = {
      "SELECT cluster, count(*), max(endtime) FROM stl_query WHERE cluster = 'alpha' GROUP BY 1",
      "SELECT cluster, count(*), max(endtime) FROM stl_query WHERE cluster = 'beta' GROUP BY 1",
      "SELECT text FROM stl_querytext_full WHERE cluster = 'beta' AND query = 17",
      "SELECT cluster, count(*) FROM stl_query WHERE endtime >= TIMESTAMP '2026-01-09 00:00:00' GROUP BY 1",
      "SELECT cluster, count(*) FROM stl_query GROUP BY 1"};
  std::vector<int64_t> skipped;
  for (const auto& sql : statements) {
    Same(sql);
    skipped.push_back(Kept().last_skipped_files());
  }
  EXPECT_GT(skipped[0], 0);
  EXPECT_EQ(skipped.back(), 0);
  for (int round = 0; round < 2; ++round)
    for (size_t i = statements.size(); i-- > 0;) {  // in another order than the first time
      Same(statements[i]);
      EXPECT_EQ(Kept().last_skipped_files(), skipped[i]) << statements[i];
    }
  for (int i = 0; i < 2; ++i) {
    auto both = Kept().Run("SELECT 1; SELECT 2");
    ASSERT_FALSE(both.ok());
    EXPECT_NE(both.status().message().find("2 statements given"), std::string::npos) << both.status().message();
  }
}

// EXPLAIN ANALYZE runs the statement it explains over the files that statement reads
// alone, so that the plan it shows is the one that runs; a form it does not recognise reads
// every file, and an EXPLAIN of a write is still refused.
TEST_F(PruneDifferentialTest, ExplainAnalyzeReadsTheFilesItsStatementReads) {
  const std::vector<std::string> statements = {
      "SELECT cluster, count(*), max(endtime) FROM stl_query WHERE cluster = 'alpha' GROUP BY 1",
      "SELECT text FROM stl_querytext_full WHERE cluster = 'beta' AND query = 17",
      "SELECT cluster, count(*) FROM stl_query WHERE endtime >= TIMESTAMP '2026-01-09 00:00:00' GROUP BY 1"};
  for (const auto& sql : statements) {
    Same(sql);
    const int64_t skipped = Kept().last_skipped_files();
    ASSERT_GT(skipped, 0) << sql;
    for (const std::string& explain : {"EXPLAIN ANALYZE " + sql, "explain\n  analyse\t" + sql, "EXPLAIN " + sql}) {
      auto plan = Kept().Run(explain);
      ASSERT_TRUE(plan.ok()) << explain << ": " << plan.status().ToString();
      EXPECT_EQ(Kept().last_skipped_files(), skipped) << explain;
    }
    auto commented = Kept().Run("/* c */ EXPLAIN ANALYZE " + sql);
    ASSERT_TRUE(commented.ok()) << commented.status().ToString();
    EXPECT_EQ(Kept().last_skipped_files(), 0);
    // A one-statement engine (`fleetlog query` in process) makes its views for the same files.
    const size_t files = Run(sql, true).second;
    EXPECT_LT(files, Run(sql, false).second) << sql;
    EXPECT_EQ(Run("EXPLAIN ANALYZE " + sql, true).second, files) << sql;
  }
  auto write = Kept().Run("EXPLAIN ANALYZE COPY (SELECT 1) TO '/tmp/fleetlog-explain.csv'");
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), StatusCode::kPermissionDenied) << write.status().ToString();
}

}  // namespace
}  // namespace fleetlog

namespace fleetlog {
namespace {

// Filters on query and transaction ids, drawn at random: ids in the lake, absent ones,
// each file's boundary values, NULL; =, IN, BETWEEN, < and >; directly and through views.
TEST_F(PruneDifferentialTest, RandomIdFiltersAnswerAsAPlainScan) {
  std::mt19937 random(1802);  // fixed: a failure names the query, and reruns the same
  std::vector<int64_t> boundaries;
  for (const auto& f : snapshot_.files)
    for (const auto& [column, range] : f.id_ranges) {
      ASSERT_TRUE(column == "query" || column == "xid") << column;
      boundaries.insert(boundaries.end(), {range.min - 1, range.min, range.max, range.max + 1});
    }
  ASSERT_FALSE(boundaries.empty()) << "the writer recorded no id ranges";
  const auto id = [&]() -> std::string {
    switch (random() % 4) {
      case 0: return std::to_string(boundaries[random() % boundaries.size()]);
      case 1: return std::to_string(static_cast<int64_t>(random() % 700));  // mostly present
      case 2: return std::to_string(100000 + static_cast<int64_t>(random() % 1000));  // absent
      default: return random() % 3 ? std::to_string(random() % 300) + ".5" : "NULL";
    }
  };
  const auto list = [&] {
    std::string out;
    for (int n = 1 + static_cast<int>(random() % 5); n > 0; --n) out += (out.empty() ? "" : ", ") + id();
    return out;
  };
  const char* ops[] = {"=", "<", "<=", ">", ">="};
  int pruned = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string a = id(), b = id(), op = ops[random() % 5];
    const std::string sql = [&]() -> std::string {
      switch (i % 8) {
        case 0: return "SELECT cluster, query, endtime FROM stl_query WHERE query " + op + " " + a;
        case 1: return "SELECT cluster, query FROM stl_query WHERE query IN (" + list() + ")";
        case 2: return "SELECT cluster, count(*) FROM stl_query WHERE query BETWEEN " + a + " AND " + b + " GROUP BY 1";
        case 3: return "SELECT cluster, query, text FROM stl_querytext_full WHERE query = " + a;
        case 4: return "SELECT cluster, query_id, event, event_time FROM fleet_alerts WHERE query_id IN (" + list() +
                       ") AND cluster = 'beta'";
        case 5: return "SELECT cluster, query_id, length(text) FROM fleet_query_text WHERE query_id " + op + " " + a;
        case 6: return "SELECT q.cluster, q.query, w.total_queue_time FROM stl_query q LEFT JOIN stl_wlm_query w "
                       "ON w.cluster = q.cluster AND w.query = q.query WHERE q.query = " + a + " AND w.query IN (" +
                       list() + ")";
        default: return "SELECT cluster, xid, count(*) FROM stl_querytext WHERE xid " + op + " " + a + " GROUP BY 1, 2";
      }
    }();
    pruned += Same(sql);
  }
  EXPECT_GT(pruned, 20);  // the filters did let files be skipped
  // Unbounded statements after all those narrowed ones still read every file.
  EXPECT_EQ(Rows(Kept(), "SELECT count(*) FROM stl_querytext_full"), Run("SELECT count(*) FROM stl_querytext_full", false).first);
  EXPECT_EQ(Kept().last_skipped_files(), 0);
}

// Filters on clusters and joins, drawn at random: clusters present, absent or NULL, every
// kind of join, equalities in ON, USING and WHERE, through views, and a CTE that takes the
// name of a table the statement joins.
TEST_F(PruneDifferentialTest, RandomClusterAndJoinFiltersAnswerAsAPlainScan) {
  // stl_wlm_query without gamma's files and the last day's, and stl_alert_event_log without
  // beta's: a join that bounded the side it must keep whole would lose rows.
  std::erase_if(snapshot_.files, [](const CommittedFile& f) {
    return (f.table == "stl_wlm_query" && (f.cluster == "gamma" || f.dt == "2026-01-09")) ||
           (f.table == "stl_alert_event_log" && f.cluster == "beta");
  });
  std::mt19937 random(1803);  // fixed: a failure names the query, and reruns the same
  const char* clusters[] = {"'alpha'", "'beta'", "'gamma'", "'Alpha'", "'delta'", "NULL"};
  const char* joins[] = {"JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "SEMI JOIN", "ANTI JOIN"};
  const auto cluster = [&] { return std::string(clusters[random() % 6]); };
  const auto at = [&] {
    const int64_t us = end_.micros() - static_cast<int64_t>(random() % (100ULL * 3600)) * 1'000'000;
    return "TIMESTAMP '" + FormatTimestamp(Timestamp::FromMicros(us - us % 60'000'000)) + "'";
  };
  const auto id = [&] { return std::to_string(random() % 700); };
  int pruned = 0;
  for (int i = 0; i < 48; ++i) {
    const std::string join = joins[random() % 6], c = cluster(), c2 = cluster();
    const bool semi = join == "SEMI JOIN" || join == "ANTI JOIN";
    const std::string sql = [&]() -> std::string {
      switch (i % 8) {
        case 0:
          return "SELECT q.cluster, q.query, " + std::string(semi ? "q.starttime" : "w.total_queue_time") +
                 " FROM stl_query q " + join +
                 " stl_wlm_query w ON w.cluster = q.cluster AND w.query = q.query "
                 "WHERE q.cluster = " +
                 c + " AND q.endtime >= " + at();
        case 1:
          return "SELECT cluster, query, text FROM stl_querytext_full WHERE cluster IN (" + c + ", " + c2 +
                 ") AND query >= " + id();
        case 2:
          return "SELECT w.cluster, count(*) FROM stl_wlm_query w " + join +
                 " stl_query q USING (cluster, query) "
                 "WHERE w.cluster = " +
                 c + " GROUP BY 1";
        case 3:
          return "SELECT count(*), min(e.query) FROM stl_query q, stl_alert_event_log e WHERE e.query = q.query "
                 "AND e.cluster = q.cluster AND q.cluster = " +
                 c + " AND q.endtime < " + at();
        // The CTE's rows claim another cluster than the files of the table it reads.
        case 4:
          return "WITH stl_query AS (SELECT " + c + " AS cluster, query FROM stl_query WHERE cluster = " + c2 +
                 ") SELECT w.cluster, w.query FROM stl_query q JOIN stl_wlm_query w USING (cluster, query)";
        case 5:
          return "SELECT cluster, query_id, event FROM fleet_alerts WHERE cluster = " + c + " AND query_id BETWEEN " +
                 id() + " AND " + id();
        case 6:
          return "SELECT q.cluster, q.query, w.query, e.event FROM stl_query q " + std::string(semi ? "JOIN" : join) +
                 " (stl_wlm_query w LEFT JOIN stl_alert_event_log e ON e.cluster = w.cluster AND e.query = w.query) "
                 "ON w.query = q.query AND w.cluster = q.cluster WHERE q.query = " +
                 id();
        default:
          return "SELECT q.cluster, count(w.query) FROM stl_query q " + std::string(semi ? "LEFT JOIN" : join) +
                 " stl_wlm_query w ON w.query = q.query AND w.cluster = " + c + " WHERE q.cluster = " + c2 +
                 " GROUP BY 1";
      }
    }();
    pruned += Same(sql);
  }
  EXPECT_GT(pruned, 20);  // the filters did let files be skipped
}

}  // namespace
}  // namespace fleetlog

namespace fleetlog {
namespace {

// A long-lived engine keeps the tables a statement names in memory (query/keeper.h), and the
// text tables as their reassembled statements: the copies start with the first statement
// that names them, answer as the files did, and are read whole (DuckDB skips their row
// groups by the filters) where the files were narrowed.
TEST_F(PruneDifferentialTest, TablesKeptInMemoryAnswerAsTheirFiles) {
  using ::testing::ElementsAre;
  using ::testing::IsEmpty;
  using ::testing::UnorderedElementsAre;
  QueryEngine& engine = Kept(true);
  const std::string alpha = "SELECT cluster, count(*), max(endtime) FROM stl_query WHERE cluster = 'alpha' GROUP BY 1";
  EXPECT_TRUE(Same(alpha));
  EXPECT_THAT(engine.kept_relations(), ElementsAre("stl_query"));
  EXPECT_EQ(engine.last_skipped_files(), 0);  // read whole, from memory
  EXPECT_TRUE(Same("SELECT cluster, query, text FROM stl_querytext_full WHERE cluster = 'beta' AND query = 17"));
  EXPECT_THAT(engine.kept_relations(), UnorderedElementsAre("stl_query", "stl_querytext_full"));
  // The pieces stay in their files, narrowed as before.
  EXPECT_TRUE(Same("SELECT cluster, query, sequence FROM stl_querytext WHERE cluster = 'beta' AND query = 17"));
  EXPECT_GT(engine.last_skipped_files(), 0);
  // A fleet view starts the copies of the tables it reads; a table function, every copy.
  Same("SELECT cluster, count(*) FROM fleet_alerts GROUP BY 1");
  EXPECT_THAT(engine.kept_relations(), UnorderedElementsAre("stl_query", "stl_querytext_full", "stl_alert_event_log"));
  Same("SELECT count(*) FROM query('SELECT * FROM stl_wlm_query')");
  EXPECT_THAT(engine.kept_relations(),
              UnorderedElementsAre("stl_query", "stl_querytext_full", "stl_alert_event_log", "stl_wlm_query"));
  EXPECT_THAT(Rows(engine, "SELECT table_name FROM duckdb_tables()"),
              ElementsAre("stl_alert_event_log_kept_rows|", "stl_query_kept_rows|", "stl_querytext_full_kept_rows|",
                          "stl_wlm_query_kept_rows|", "workload_hourly_raw_rows|"));
  // An engine whose memory holds none keeps none; one destroyed while it copies ends the copy.
  EXPECT_THAT(Kept().kept_relations(), IsEmpty());
  auto going = QueryEngine::Open({.lake_root = dir_ + "/lake", .threads = 1, .kept_table_bytes = 1LL << 30}, snapshot_);
  ASSERT_TRUE(going.ok());
  EXPECT_EQ(Rows(**going, "SELECT count(*) FROM query('SELECT 1')"), std::vector<std::string>{"1|"});
  going->reset();
}

}  // namespace
}  // namespace fleetlog
