// `fleetlog ddl`: the statements for each engine against golden files (reviewed by eye once;
// FLEETLOG_UPDATE_GOLDEN=1 rewrites them), and the DuckDB form run against a real lake.
#include "query/ddl.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/fs.h"
#include "duck/duck.h"
#include "test_lake.h"
#include "source/table_spec.h"

namespace fleetlog {
namespace {

DdlInput GoldenInput(std::string location) {
  DdlInput in{.clusters = {"product-warehouse", "analytics"}, .location = std::move(location), .first_day = "2026-01-01"};
  for (const auto& spec : RedshiftTables()) in.tables.push_back({.name = spec.name, .columns = spec.columns});
  return in;
}

std::string GoldenPath(const std::string& name) { return std::string(FLEETLOG_SOURCE_DIR) + "/tests/golden/ddl/" + name; }

void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = GoldenPath(name);
  if (std::getenv("FLEETLOG_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "no golden file " << path << " (FLEETLOG_UPDATE_GOLDEN=1 writes it)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "differs from " << path;
}

TEST(DdlTest, EachEngineMatchesItsGoldenFile) {
  const std::pair<DdlEngine, const char*> engines[] = {{DdlEngine::kAthena, "athena.sql"},
                                                       {DdlEngine::kGlue, "glue.sh"},
                                                       {DdlEngine::kTrino, "trino.sql"},
                                                       {DdlEngine::kSpark, "spark.sql"}};
  for (const auto& [engine, file] : engines) {
    auto text = TableDefinitions(engine, GoldenInput("s3://fleetlog-lake/prod"));
    ASSERT_TRUE(text.ok()) << text.status().message();
    ExpectGolden(file, *text);
  }
  auto duck = TableDefinitions(DdlEngine::kDuckDb, GoldenInput("/srv/fleetlog/lake"));
  ASSERT_TRUE(duck.ok());
  ExpectGolden("duckdb.sql", *duck);
}

TEST(DdlTest, ReservedWordsAreQuotedInEveryDialect) {
  const std::pair<DdlEngine, const char*> quoted[] = {{DdlEngine::kAthena, "`database` string"},
                                                      {DdlEngine::kAthena, "`rows` bigint"},
                                                      {DdlEngine::kGlue, "{\"Name\":\"rows\",\"Type\":\"bigint\"}"},
                                                      {DdlEngine::kTrino, "\"database\" varchar"},
                                                      {DdlEngine::kTrino, "\"rows\" bigint"},
                                                      {DdlEngine::kSpark, "`rows` BIGINT"}};
  for (const auto& [engine, needle] : quoted) {
    auto text = TableDefinitions(engine, GoldenInput("s3://b/p"));
    ASSERT_TRUE(text.ok());
    EXPECT_NE(text->find(needle), std::string::npos) << needle;
  }
}

TEST(DdlTest, AthenaAndGlueNeedAnObjectStoreLocation) {
  for (auto engine : {DdlEngine::kAthena, DdlEngine::kGlue}) {
    auto text = TableDefinitions(engine, GoldenInput("/srv/lake"));
    ASSERT_FALSE(text.ok());
    EXPECT_NE(text.status().message().find("--location s3://"), std::string::npos);
  }
  EXPECT_FALSE(ParseDdlEngine("hive").ok());
  EXPECT_EQ(*ParseDdlEngine("spark"), DdlEngine::kSpark);
}

// The DuckDB statements, run in a plain DuckDB over a lake that fleetlog wrote, read what
// fleetlog's own engine reads.
TEST(DdlTest, DuckDbStatementsRunAgainstARealLake) {
  const std::string dir = (std::filesystem::temp_directory_path() / ("fleetlog-ddl-" + RandomHex())).string();
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  auto state = OpenSqliteStateStore(dir + "/state.db", OpenMode::kReadWrite);
  ASSERT_TRUE(state.ok()) << state.status().message();
  ASSERT_TRUE(testing::WriteDashboardLake(dir + "/lake", **state, {"alpha", "beta"}, 3,
                                          *ParseTimestamp("2026-01-10 00:00:00"))
                  .ok());
  // SYS text too: 4000-character pieces, the last one short, with a piece's trailing blanks.
  {
    auto writer = LakeWriter::Open(LakeLayout(dir + "/lake"), 256LL << 20, 1);
    ASSERT_TRUE(writer.ok());
    const TableSchema schema = {{"user_id", ColumnType::kInt32}, {"query_id", ColumnType::kInt64},
                                {"start_time", ColumnType::kTimestamp}, {"sequence", ColumnType::kInt32},
                                {"text", ColumnType::kVarchar}};
    const Timestamp end = *ParseTimestamp("2026-01-10 00:00:00");
    ASSERT_TRUE(testing::CommitTestRows(**writer, **state, "sys_query_text", "alpha", schema, "", {"query_id", "sequence"},
                                        end, [&](RowBatch& b) {
      for (int q = 1; q <= 3; ++q) {
        for (int piece = 0; piece < q; ++piece) {
          b.column(0).AppendInt(100);
          b.column(1).AppendInt(q);
          b.column(2).AppendInt(end.micros() - q * 1'000'000);
          b.column(3).AppendInt(piece);
          b.column(4).AppendString(piece + 1 < q ? std::string(3990, 'a' + piece) + "\\n    " : "select 1");
          b.partition_ts().push_back(end.micros() - q * 1'000'000);
        }
      }
    }).ok());
  }
  auto ours = QueryEngine::Open({.lake_root = dir + "/lake", .threads = 1}, state->get());
  ASSERT_TRUE(ours.ok()) << ours.status().message();
  DdlInput in{.tables = (*ours)->tables(), .clusters = {"alpha", "beta"}, .location = dir + "/lake"};
  auto ddl = TableDefinitions(DdlEngine::kDuckDb, in);
  ASSERT_TRUE(ddl.ok());

  auto db = duck::Database::OpenInMemory({});
  ASSERT_TRUE(db.ok());
  auto conn = duck::Connection::Open(*db);
  ASSERT_TRUE(conn.ok());
  Status s = (*conn)->Exec(*ddl);
  ASSERT_TRUE(s.ok()) << s.message() << "\n" << *ddl;

  const char* checks[] = {
      "SELECT count(*), count(DISTINCT cluster), min(dt)::VARCHAR, max(dt)::VARCHAR FROM stl_query",
      "SELECT count(*), sum(length(text)), sum(pieces), max(pieces) FROM stl_querytext_full",
      "SELECT md5(string_agg(text, '|' ORDER BY cluster, query)) FROM stl_querytext_full",
      "SELECT count(*), sum(length(text)), sum(pieces), max(user_id) FROM sys_query_text_full",
      "SELECT md5(string_agg(text, '|' ORDER BY cluster, query_id)) FROM sys_query_text_full",
  };
  for (const char* sql : checks) {
    auto theirs = (*conn)->Query(sql);
    auto mine = (*ours)->Run(sql);
    ASSERT_TRUE(theirs.ok()) << sql << ": " << theirs.status().message();
    ASSERT_TRUE(mine.ok()) << sql << ": " << mine.status().message();
    ASSERT_EQ(theirs->row_count(), 1u);
    for (size_t c = 0; c < theirs->column_count(); ++c) EXPECT_EQ(theirs->text(c, 0), mine->text(c, 0)) << sql;
  }
  auto count = (*conn)->Query("SELECT count(*) FROM stl_querytext_full");
  ASSERT_TRUE(count.ok());
  EXPECT_GT(count->int64(0, 0), 0);
  auto sys = (*conn)->Query("SELECT pieces, length(text) FROM sys_query_text_full WHERE query_id = 3");
  ASSERT_TRUE(sys.ok()) << sys.status().message();
  ASSERT_EQ(sys->row_count(), 1u);
  EXPECT_EQ(sys->int64(0, 0), 3);
  EXPECT_EQ(sys->int64(1, 0), 2 * (3990 + 5) + 8);  // each piece's literal \n decoded to one character
}

}  // namespace
}  // namespace fleetlog
