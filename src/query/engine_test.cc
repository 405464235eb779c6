#include "query/engine.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <optional>
#include <random>
#include <set>

#include "test_util.h"

namespace fleetlog {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const TableSchema kSchema = {{"query", ColumnType::kInt64}, {"starttime", ColumnType::kTimestamp}, {"label", ColumnType::kVarchar}};

RowBatch Rows(int64_t first, int n, const char* day) {
  RowBatch b(kSchema);
  const int64_t base = ParseTimestamp(day)->micros();
  for (int i = 0; i < n; ++i) {
    b.column(0).AppendInt(first + i);
    b.column(1).AppendInt(base + i * 1'000'000LL);
    b.column(2).AppendString("q" + std::to_string(first + i));
  }
  return b;
}

// A lake with stl_query rows of two clusters, and a Parquet file and a secret-looking text
// file outside it.
class QueryEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto state = OpenSqliteStateStore(dir_.Sub("fleetlog.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok());
    state_ = std::move(state).value();
    const test::LakeWrite c1{"stl_query", "c1", "starttime", {"query"}}, c2{"stl_query", "c2", "starttime", {"query"}};
    ASSERT_TRUE(test::WriteToLake(*state_, lake_, c1, Rows(1, 3, "2026-01-01")).ok());
    ASSERT_TRUE(test::WriteToLake(*state_, lake_, c2, Rows(100, 2, "2026-01-02")).ok());
    auto db = duck::Database::OpenInMemory({});
    auto conn = duck::Connection::Open(*db);
    ASSERT_TRUE((*conn)->Exec("COPY (SELECT 42 AS secret) TO " + duck::QuoteString(outside_parquet_) + " (FORMAT parquet)").ok());
    ASSERT_TRUE(test::WriteFile(outside_text_, "root:x:0:0\n"));
    auto engine = QueryEngine::Open(EngineOptions{.lake_root = lake_.root()}, state_.get());
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }

  // Runs `sql` and expects a refusal; returns the message.
  std::string Refused(const std::string& sql) {
    auto r = engine_->Run(sql);
    EXPECT_FALSE(r.ok()) << "not refused: " << sql;
    if (r.ok()) return "";
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << sql << " -> " << r.status().ToString();
    return r.status().message();
  }

  std::string One(const std::string& sql) {
    auto r = engine_->Run(sql);
    EXPECT_TRUE(r.ok()) << sql << " -> " << r.status().ToString();
    if (!r.ok() || r->row_count() == 0) return "<none>";
    return r->text(0, 0);
  }

  test::TempDir dir_;
  LakeLayout lake_{dir_.Sub("lake")};
  std::string outside_parquet_ = dir_.Sub("outside.parquet");
  std::string outside_text_ = dir_.Sub("passwd");
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<QueryEngine> engine_;
};

TEST_F(QueryEngineTest, DiagnosticQueriesWork) {
  auto r = engine_->Run("SELECT cluster, count(*) AS n, min(dt)::VARCHAR AS first_dt FROM stl_query GROUP BY cluster ORDER BY cluster");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->row_count(), 2u);
  EXPECT_EQ(r->text(0, 0), "c1");
  EXPECT_EQ(r->int64(1, 0), 3);
  EXPECT_EQ(r->text(2, 0), "2026-01-01");
  EXPECT_EQ(r->text(0, 1), "c2");
  EXPECT_EQ(r->int64(1, 1), 2);
  EXPECT_EQ(One("WITH x AS (SELECT * FROM stl_query WHERE cluster = 'c2') SELECT max(query) FROM x"), "101");
  ASSERT_EQ(engine_->tables().size(), 1u);
  EXPECT_EQ(engine_->tables()[0].name, "stl_query");
  EXPECT_EQ(engine_->tables()[0].rows, 5);
  EXPECT_EQ(engine_->tables()[0].files, 2);
}

TEST_F(QueryEngineTest, ReadOnlyCommandsWork) {
  auto describe = engine_->Run("DESCRIBE stl_query");
  ASSERT_TRUE(describe.ok()) << describe.status().ToString();
  std::vector<std::string> columns;
  for (size_t i = 0; i < describe->row_count(); ++i) columns.push_back(describe->text(0, i) + " " + describe->text(1, i));
  EXPECT_THAT(columns, ::testing::ElementsAre("query BIGINT", "starttime TIMESTAMP", "label VARCHAR", "cluster VARCHAR", "dt DATE"));
  auto summarize = engine_->Run("SUMMARIZE stl_query");
  ASSERT_TRUE(summarize.ok()) << summarize.status().ToString();
  EXPECT_EQ(summarize->row_count(), 5u);
  EXPECT_EQ(One("SHOW TABLES"), "stl_query");
  EXPECT_EQ(One("SELECT count(*) FROM (SHOW stl_query)"), "5");
  EXPECT_EQ(One("PRAGMA table_info('stl_query')"), "0");
  EXPECT_EQ(One("FROM stl_query SELECT count(*)"), "5");
  auto explain = engine_->Run("EXPLAIN SELECT * FROM stl_query");
  ASSERT_TRUE(explain.ok()) << explain.status().ToString();
  auto analyze = engine_->Run("explain analyze SELECT count(*) FROM stl_query");
  ASSERT_TRUE(analyze.ok()) << analyze.status().ToString();
  EXPECT_EQ(One("SELECT current_setting('enable_external_access')"), "false");
}

// Every type reads as DuckDB's own text, nested ones included, while the declared types
// stay those of the query (a LIST column is a LIST, not the VARCHAR it was read through).
TEST_F(QueryEngineTest, EveryTypeReadsAsText) {
  auto r = engine_->Run(
      "SELECT [1, 2] AS l, {'a': 1, 'b': 'x'} AS s, map([1], ['one']) AS m, 'y'::ENUM('x', 'y') AS e, "
      "[1, 2]::INTEGER[2] AS a, union_value(k := 3) AS u, '101'::BIT AS b, "
      "'00000000-0000-0000-0000-000000000001'::UUID AS id, 7 AS n, NULL::INTEGER[] AS nl, "
      "'2026-01-01 00:00:00.5'::TIMESTAMP_NS AS ns, 2::UHUGEINT AS uh, 'ab' AS v, 1.50::DECIMAL(9,2) AS d "
      "FROM range(2) ORDER BY ALL -- a comment at the end");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->row_count(), 2u);
  const std::vector<std::string> want = {"[1, 2]", "{'a': 1, 'b': x}", "{1=one}", "y", "[1, 2]", "3", "101",
                                         "00000000-0000-0000-0000-000000000001", "7", "", "2026-01-01 00:00:00.5",
                                         "2", "ab", "1.50"};
  for (size_t c = 0; c < want.size(); ++c) EXPECT_EQ(r->text(c, 0), want[c]) << r->column_name(c);
  EXPECT_TRUE(r->is_null(9, 0));
  EXPECT_EQ(r->column_type_name(0), "LIST");
  EXPECT_EQ(r->column_type_name(1), "STRUCT");
  EXPECT_EQ(r->column_type(0), DUCKDB_TYPE_LIST);
  EXPECT_EQ(r->column_type(8), DUCKDB_TYPE_INTEGER);
  EXPECT_EQ(r->column_type_name(13), "DECIMAL(9,2)");
  EXPECT_EQ(r->column_name(3), "e");

  // Duplicate names, and statements that are not view bodies.
  auto dup = engine_->Run("SELECT 1 AS x, [2] AS x");
  ASSERT_TRUE(dup.ok()) << dup.status().ToString();
  EXPECT_EQ(dup->text(0, 0), "1");
  EXPECT_EQ(dup->text(1, 0), "[2]");
  auto lists = engine_->Run("SELECT cluster, list(query ORDER BY query) AS queries FROM stl_query GROUP BY 1 ORDER BY 1;");
  ASSERT_TRUE(lists.ok()) << lists.status().ToString();
  EXPECT_EQ(lists->text(1, 1), "[100, 101]");
  auto two = engine_->Run("SELECT 1; SELECT 2");
  ASSERT_FALSE(two.ok());
  EXPECT_THAT(two.status().message(), HasSubstr("run one at a time"));
}

TEST_F(QueryEngineTest, ReadingFilesOutsideTheLakeIsRefused) {
  EXPECT_THAT(Refused("SELECT * FROM read_csv('/etc/passwd')"), HasSubstr("/etc/passwd"));
  Refused("SELECT * FROM read_csv_auto('" + outside_text_ + "')");
  Refused("SELECT * FROM read_text('/etc/passwd')");
  Refused("SELECT * FROM read_blob('/etc/passwd')");
  Refused("SELECT * FROM read_parquet('" + outside_parquet_ + "')");
  Refused("SELECT * FROM read_parquet('" + lake_.root() + "/../outside.parquet')");
  Refused("SELECT * FROM read_parquet('" + lake_.root() + "/*/../../outside.parquet')");
  Refused("SELECT * FROM parquet_metadata('" + outside_parquet_ + "')");
  Refused("SELECT * FROM read_json('/etc/passwd')");
  Refused("SELECT * FROM glob('/etc/*')");
  Refused("SELECT * FROM glob('" + dir_.path() + "/*')");
  // Named by a string alone (a replacement scan) the file is not read either.
  EXPECT_FALSE(engine_->Run("SELECT * FROM '" + outside_parquet_ + "'").ok());
  // Nor can the lake be listed or read past the views' files (issue 11).
  Refused("SELECT * FROM glob('" + lake_.root() + "/stl_query/*/*/*.parquet')");
  Refused("SELECT count(*) FROM read_parquet('" + lake_.root() + "/**/*.parquet')");
  Refused("SELECT count(*) FROM read_text('" + lake_.root() + "/_fleetlog/*')");
}

TEST_F(QueryEngineTest, WritingAttachingLoadingAndLooseningAreRefused) {
  const std::string target = lake_.Abs("stolen.csv");
  EXPECT_THAT(Refused("COPY stl_query TO '" + target + "'"), ::testing::AnyOf(HasSubstr("read-only"), HasSubstr("Permission")));
  Refused("COPY (SELECT 1) TO '" + dir_.Sub("x.csv") + "'");
  Refused("EXPORT DATABASE '" + lake_.Abs("export") + "'");
  Refused("ATTACH '" + lake_.Abs("x.db") + "' AS x");
  Refused("ATTACH ':memory:' AS m");
  Refused("INSTALL httpfs");
  Refused("LOAD httpfs");
  Refused("LOAD '" + dir_.Sub("evil.duckdb_extension") + "'");
  Refused("SET enable_external_access = true");
  Refused("SET lock_configuration = false");
  Refused("RESET lock_configuration");
  Refused("SET allowed_directories = ['/']");
  Refused("SET GLOBAL allowed_paths = ['/etc/passwd']");
  EXPECT_FALSE(engine_->Run("PRAGMA enable_external_access").ok());  // no such pragma, and a PRAGMA besides
  Refused("PRAGMA threads = 64");
  Refused("PRAGMA enable_profiling");
  Refused("CALL pragma_version()");
  Refused("CREATE TABLE t AS SELECT 1");
  Refused("CREATE OR REPLACE VIEW stl_query AS SELECT 1");
  Refused("DROP VIEW stl_query");
  EXPECT_FALSE(engine_->Run("CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')").ok());
  Refused("CREATE SECRET s (TYPE http, BEARER_TOKEN 'b')");
  // A read-only statement does not carry a second one through: one statement at a time.
  for (const std::string& two : {std::string("SELECT 1; SET enable_external_access = true"),
                                 "SELECT 1; COPY (SELECT 1) TO '" + target + "'", std::string("SELECT 1; EXPLAIN SELECT 1")}) {
    auto r = engine_->Run(two);
    EXPECT_FALSE(r.ok()) << two;
    if (!r.ok()) {
      EXPECT_THAT(r.status().message(), HasSubstr("run one at a time")) << two;
    }
  }
  // EXPLAIN ANALYZE runs what it explains.
  Refused("EXPLAIN ANALYZE COPY (SELECT 1) TO '" + target + "'");
  Refused("/* hi */ explain  analyse\nCOPY (SELECT 1) TO '" + target + "'");
  Refused("EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1");
  Refused("EXPLAIN COPY (SELECT 1) TO '" + target + "'");
  EXPECT_FALSE(fs::exists(target));
  // Preparing EXPORT DATABASE (how Run learns the statement type) would create its folder,
  // but the engine may create nothing (issue 11).
  EXPECT_FALSE(fs::exists(lake_.Abs("export")));
  EXPECT_FALSE(fs::exists(lake_.Abs("x.db")));
  // And the sandbox is still on.
  EXPECT_EQ(One("SELECT current_setting('enable_external_access')"), "false");
  EXPECT_EQ(One("SELECT current_setting('lock_configuration')"), "true");
  EXPECT_EQ(One("SELECT count(*) FROM stl_query"), "5");
}

// Issue 11: EXPLAIN's explained statement is classified by DuckDB, whatever comments,
// quoting, nesting or casing surround it; none of these writes anything.
TEST_F(QueryEngineTest, ExplainOfAWritingStatementIsRefusedInEverySpelling) {
  const std::string target = lake_.Abs("a.csv");
  const std::string copy = "copy (select 42) to '" + target + "'";
  const std::vector<std::string> spellings = {
      "explain ( /* ) select 1; -- */ analyze ) " + copy,  // the probe's
      "explain (/* ) */ analyze) " + copy,
      "explain (analyze, format json) " + copy,
      "EXPLAIN (ANALYZE) " + copy,
      "explain /* x */ analyze -- y\n" + copy,
      "explain analyze /* nested /* comment */ still */ " + copy,
      "eXpLaIn AnAlYzE cOpY (SELECT 42) TO '" + target + "'",
      "explain analyze copy (select $$)$$) to '" + target + "'",
      "explain analyze copy (select ')' as \"(\") to '" + target + "' (format csv)",
      "explain analyze\n\t" + copy + ";",
      "explain analyze copy stl_query to '" + target + "'",
      "explain analyze insert into stl_query select * from stl_query",
      "explain analyze create table t as select 42",
      "explain analyze export database '" + lake_.Abs("export") + "'",
      "explain analyze attach '" + lake_.Abs("x.db") + "' as x",
  };
  for (const auto& sql : spellings) {
    auto r = engine_->Run(sql);
    EXPECT_FALSE(r.ok()) << "not refused: " << sql;
    // Refused by the sandbox, or not even valid SQL to DuckDB (EXPLAIN ANALYZE ATTACH).
    if (!r.ok()) {
      EXPECT_THAT(r.status().code(), ::testing::AnyOf(StatusCode::kPermissionDenied, StatusCode::kInvalidArgument))
          << sql << " -> " << r.status().ToString();
    }
    if (!r.ok() && sql.find("copy") != std::string::npos) {
      EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << sql << " -> " << r.status().ToString();
    }
  }
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(fs::exists(lake_.Abs("export")));
  EXPECT_FALSE(fs::exists(lake_.Abs("x.db")));
  // EXPLAIN of a SELECT still works, with comments and options.
  for (const char* sql : {"explain analyze select count(*) from stl_query", "EXPLAIN (FORMAT json) SELECT 1",
                          "explain /* copy */ select 'copy' as x", "explain analyze (select 1)",
                          // Its FROM clause alone ("FROM stl_query GROUP BY cluster") does not bind.
                          "explain analyze select cluster, count(*) from stl_query group by cluster",
                          "EXPLAIN SELECT cluster, max(query) FILTER (WHERE query > 0) FROM stl_query GROUP BY cluster"}) {
    auto r = engine_->Run(sql);
    EXPECT_TRUE(r.ok()) << sql << " -> " << r.status().ToString();
  }
}

// Issue 11: the engine reads the views' committed files and nothing else, and can write
// nowhere, not even a spill folder.
TEST_F(QueryEngineTest, OnlyTheViewsFilesCanBeOpened) {
  ASSERT_EQ(engine_->readable_files().size(), 2u);
  EXPECT_GT(engine_->readable_bytes(), 0);
  const std::string committed = engine_->readable_files()[0];
  EXPECT_THAT(One("SELECT count(*) FROM read_parquet('" + committed + "')"), ::testing::AnyOf("2", "3"))
      << "a committed file may be read directly: it is lake data either way";
  Refused("SELECT * FROM read_text('" + lake_.root() + "/../fleetlog.db')");
  Refused("SELECT * FROM read_blob('" + dir_.Sub("fleetlog.db") + "')");
  Refused("SELECT * FROM read_csv('" + dir_.path() + "/*', auto_detect = true)");
  Refused("SELECT * FROM sniff_csv('" + outside_text_ + "')");
  Refused("SELECT * FROM parquet_schema('" + outside_parquet_ + "')");
  EXPECT_EQ(One("SELECT current_setting('temp_directory')"), "");
  // A statement that names no table gets no view and can open no file at all.
  auto bare = QueryEngine::Open({.lake_root = lake_.root(), .views_for_sql = "select 1"}, state_.get());
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ((*bare)->readable_bytes(), 0);
  auto r = (*bare)->Run("SELECT count(*) FROM read_parquet('" + committed + "')");
  EXPECT_FALSE(r.ok());
  // Names the view choice does not see are not readable: a computed name finds no view.
  auto computed = QueryEngine::Open({.lake_root = lake_.root(), .views_for_sql = "select * from query_table('stl_' || 'query')"},
                                    state_.get());
  ASSERT_TRUE(computed.ok());
  EXPECT_FALSE((*computed)->Run("select * from query_table('stl_' || 'query')").ok());
  // Every spelling that reaches a table makes its files count.
  for (const char* sql : {"select * from query_table('stl_query')", "select * from query_table($$stl_query$$)",
                          "select * from query_table($x$STL_QUERY$x$)", "from \"Stl_Query\""}) {
    auto engine = QueryEngine::Open({.lake_root = lake_.root(), .views_for_sql = sql}, state_.get());
    ASSERT_TRUE(engine.ok());
    EXPECT_EQ((*engine)->readable_bytes(), engine_->readable_bytes()) << sql;
    EXPECT_TRUE((*engine)->Run(sql).ok()) << sql;
  }
}

// Issue 11: a committed file that is a symlink, or reached through one, is never followed.
TEST_F(QueryEngineTest, SymlinksInTheLakeAreRefused) {
  auto files = state_->ListFiles({.states = {FileState::kPublished}});
  ASSERT_TRUE(files.ok() && !files->empty());
  // A committed file has two names, its table folder's and its reader name (what the engine
  // reads when it exists): both become symlinks.
  const std::string path = lake_.Abs(files->front().path);
  const std::string reader = lake_.Abs(LakeLayout::ReaderDir() + "/" + files->front().path);
  for (const std::string& name : {path, reader}) {
    if (name == reader && !fs::exists(reader)) continue;
    fs::remove(name);
    fs::create_symlink(outside_parquet_, name);
  }
  auto engine = QueryEngine::Open(EngineOptions{.lake_root = lake_.root()}, state_.get());
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(engine.status().message(), HasSubstr("symlink"));
  // A table folder that is a symlink is refused the same way.
  fs::remove(path);
  fs::remove(reader);
  const fs::path table_dir = lake_.Abs("stl_query");
  fs::rename(table_dir, dir_.Sub("elsewhere"));
  fs::create_directory_symlink(dir_.Sub("elsewhere"), table_dir);
  auto through = QueryEngine::Open(EngineOptions{.lake_root = lake_.root()}, state_.get());
  ASSERT_FALSE(through.ok());
  EXPECT_EQ(through.status().code(), StatusCode::kCorruption);
}

// The folders are checked once each, not each file's path whole: a partition folder deep in
// the lake that is a symlink (to a copy of itself, so the data looks right) is refused too.
TEST_F(QueryEngineTest, APartitionFolderThatIsASymlinkIsRefused) {
  auto files = state_->ListFiles({.states = {FileState::kPublished}});
  ASSERT_TRUE(files.ok() && !files->empty());
  int copies = 0;
  for (const std::string& name : {lake_.Abs(files->front().path),
                                  lake_.Abs(LakeLayout::ReaderDir() + "/" + files->front().path)}) {
    const fs::path folder = fs::path(name).parent_path();
    if (!fs::exists(folder)) continue;
    const std::string copy = dir_.Sub("partition-copy-" + std::to_string(copies++));
    fs::copy(folder, copy, fs::copy_options::recursive);
    fs::remove_all(folder);
    fs::create_directory_symlink(copy, folder);
  }
  ASSERT_GT(copies, 0);
  auto engine = QueryEngine::Open(EngineOptions{.lake_root = lake_.root()}, state_.get());
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kCorruption);
}

TEST_F(QueryEngineTest, BadSqlIsAnErrorNotACrash) {
  auto r = engine_->Run("SELEC 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(engine_->Run("").ok());
  EXPECT_FALSE(engine_->Run("SELECT * FROM no_such_table").ok());
}

TEST_F(QueryEngineTest, UnpublishedFilesAreInvisible) {
  // A committed but unpublished file (a crash before publish) is not read.
  CommitRequest req;
  NewFile f;
  f.table = "stl_query";
  f.cluster = "c3";
  f.dt = "2026-01-03";
  f.path = "stl_query/cluster=c3/dt=2026-01-03/x.parquet";
  f.staging_path = "_fleetlog/staging/x.parquet";
  req.add = {f};
  ASSERT_TRUE(state_->Commit(req).ok());
  auto engine = QueryEngine::Open(EngineOptions{.lake_root = lake_.root()}, state_.get());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto r = (*engine)->Run("SELECT count(*), count(DISTINCT cluster) FROM stl_query");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->int64(0, 0), 5);
  EXPECT_EQ(r->int64(1, 0), 2);
}

TEST_F(QueryEngineTest, EmptyLakeAndSchemaOnlyTables) {
  auto empty = QueryEngine::Open(EngineOptions{.lake_root = dir_.Sub("empty")}, nullptr);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  auto r = (*empty)->Run("SELECT 1");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(RecordSchema(*state_, "stl_scan", {{"query", ColumnType::kInt64}, {"rows", ColumnType::kInt64}}).ok());
  auto engine = QueryEngine::Open(EngineOptions{.lake_root = lake_.root()}, state_.get());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto scan = (*engine)->Run("SELECT count(*) FROM stl_scan WHERE cluster = 'x' AND dt > DATE '2020-01-01'");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->int64(0, 0), 0);
}

// stl_querytext pieces of query `query` on cluster c1: "select " and "1".
Status WriteQueryText(StateStore& state, const LakeLayout& lake, int64_t query) {
  const TableSchema schema = {{"query", ColumnType::kInt64}, {"sequence", ColumnType::kInt32},
                              {"text", ColumnType::kVarchar}, {"userid", ColumnType::kInt32},
                              {"starttime", ColumnType::kTimestamp}};
  RowBatch b(schema);
  for (int piece = 0; piece < 2; ++piece) {
    b.column(0).AppendInt(query);
    b.column(1).AppendInt(piece);
    b.column(2).AppendString(piece == 0 ? "select " : "1");
    b.column(3).AppendInt(100);
    b.column(4).AppendInt(ParseTimestamp("2026-01-01")->micros());
  }
  return test::WriteToLake(state, lake, {"stl_querytext", "c1", "starttime", {"query", "sequence"}}, b).status();
}

TEST_F(QueryEngineTest, ViewsOnlyForTheTablesTheStatementNames) {
  ASSERT_TRUE(WriteQueryText(*state_, lake_, 7).ok());
  auto open = [&](const std::string& sql) {
    auto engine = QueryEngine::Open({.lake_root = lake_.root(), .views_for_sql = sql}, state_.get());
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return std::move(engine).value();
  };
  // A helper view brings the table it reads.
  const std::string text_sql = "SELECT text FROM stl_querytext_full WHERE cluster = 'c1' AND query = 7";
  auto text = open(text_sql);
  auto r = text->Run(text_sql);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text(0, 0), "select 1");
  auto other = text->Run("SELECT count(*) FROM stl_query");
  ASSERT_FALSE(other.ok()) << "stl_query has no view when the statement does not name it";
  EXPECT_THAT(other.status().message(), HasSubstr("stl_query"));
  EXPECT_EQ(text->tables().size(), 2u) << "the list of tables holds every table";

  // Names match as words, in any case and quoted; strings count too (query_table).
  EXPECT_EQ(open("SELECT 1")->tables().size(), 2u);
  auto count = [&](const std::string& sql) -> int64_t {
    auto engine = open(sql);
    auto result = engine->Run(sql);
    EXPECT_TRUE(result.ok()) << sql << " -> " << result.status().ToString();
    return result.ok() ? result->int64(0, 0) : -1;
  };
  EXPECT_EQ(count("SELECT count(*) FROM \"STL_QUERY\""), 5);
  EXPECT_EQ(count("SELECT count(*) FROM query_table('stl_querytext')"), 2);
  // A statement that reads the catalog sees every table.
  EXPECT_EQ(count("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'stl_%'"), 3)
      << "stl_query, stl_querytext and stl_querytext_full";
}

// The text views join a statement's pieces as string_agg(text, '' ORDER BY sequence) would,
// the aggregate they replaced: pieces stored out of order, NULL pieces skipped, a statement
// of NULL pieces only NULL, a NULL sequence last, trailing blanks kept, \n turned into newlines.
TEST_F(QueryEngineTest, TextViewsJoinPiecesAsAnOrderedStringAggDoes) {
  const TableSchema schema = {{"query", ColumnType::kInt64},
                              {"sequence", ColumnType::kInt32},
                              {"text", ColumnType::kVarchar},
                              {"userid", ColumnType::kInt32},
                              {"starttime", ColumnType::kTimestamp}};
  std::mt19937 random(7);  // fixed: a failure reruns the same
  RowBatch b(schema);
  auto piece = [&](int64_t query, std::optional<int> sequence, std::optional<std::string> text) {
    b.column(0).AppendInt(query);
    sequence ? b.column(1).AppendInt(*sequence) : b.column(1).AppendNull();
    text ? b.column(2).AppendString(*text) : b.column(2).AppendNull();
    b.column(3).AppendInt(100);
    b.column(4).AppendInt(ParseTimestamp("2026-01-01")->micros());
  };
  for (int64_t query = 1; query <= 200; ++query) {
    std::vector<int> order(1 + random() % 12);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), random);
    for (int sequence : order) {
      const int kind = static_cast<int>(random() % 10);
      if (kind == 0)
        piece(query, sequence, std::nullopt);
      else
        piece(query, sequence, fmt::format("q{}p{}{}", query, sequence, kind == 1 ? "\\n  " : ""));
    }
  }
  piece(201, 0, std::nullopt);
  piece(201, 1, std::nullopt);
  piece(202, std::nullopt, "last");
  piece(202, 1, "first ");
  ASSERT_TRUE(test::WriteToLake(*state_, lake_, {"stl_querytext", "c1", "starttime", {"query", "sequence"}}, b).ok());
  auto engine = QueryEngine::Open(EngineOptions{.lake_root = lake_.root()}, state_.get());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto differ = (*engine)->Run(
      "SELECT count(*) FROM stl_querytext_full v FULL JOIN (SELECT cluster, query, "
      "replace(string_agg(text, '' ORDER BY sequence), '\\n', chr(10)) AS text, count(*) AS pieces "
      "FROM stl_querytext GROUP BY ALL) a USING (cluster, query) "
      "WHERE v.text IS DISTINCT FROM a.text OR v.pieces IS DISTINCT FROM a.pieces");
  ASSERT_TRUE(differ.ok()) << differ.status().ToString();
  EXPECT_EQ(differ->int64(0, 0), 0);
  auto text = [&](int64_t query) {
    auto r =
        (*engine)->Run(fmt::format("SELECT coalesce(text, '<null>') FROM stl_querytext_full WHERE query = {}", query));
    return r.ok() && r->row_count() == 1 ? r->text(0, 0) : "<error>";
  };
  EXPECT_EQ(text(201), "<null>");
  EXPECT_EQ(text(202), "first last");
  auto newlines = (*engine)->Run("SELECT count(*) FROM stl_querytext_full WHERE text LIKE '%' || chr(10) || '  %'");
  ASSERT_TRUE(newlines.ok());
  EXPECT_GT(newlines->int64(0, 0), 0);
}

// `fleetlog query` loads the files of the tables its statement can read, not the whole lake's;
// the answers are those of an engine over every file.
TEST_F(QueryEngineTest, ASnapshotOfTheTablesAStatementReadsAnswersTheSame) {
  ASSERT_TRUE(WriteQueryText(*state_, lake_, 7).ok());
  const std::string text_sql = "SELECT text FROM stl_querytext_full WHERE cluster = 'c1' AND query = 7";
  const auto tables = TablesReadBy(text_sql);
  ASSERT_TRUE(tables.has_value());
  EXPECT_TRUE(tables->count("stl_querytext")) << "read through the view it names";
  EXPECT_FALSE(tables->count("stl_query"));
  auto narrowed = LoadLakeSnapshot(state_.get(), tables);
  ASSERT_TRUE(narrowed.ok()) << narrowed.status().ToString();
  ASSERT_FALSE(narrowed->files.empty());
  for (const auto& f : narrowed->files) EXPECT_EQ(f.table, "stl_querytext");
  for (const auto& [table, columns] : narrowed->schemas) EXPECT_EQ(table, "stl_querytext");
  // What may read any table loads them all.
  EXPECT_FALSE(TablesReadBy("SELECT * FROM information_schema.tables").has_value());
  EXPECT_FALSE(TablesReadBy("SELECT * FROM workload_hourly").has_value());

  for (const std::string& sql : {text_sql, std::string("SELECT count(*) FROM \"STL_QUERY\""),
                                std::string("SELECT count(*) FROM query_table('stl_querytext')"),
                                std::string("SELECT count(*) FROM information_schema.tables"), std::string("SELECT 1")}) {
    auto snapshot = LoadLakeSnapshot(state_.get(), TablesReadBy(sql));
    ASSERT_TRUE(snapshot.ok()) << sql;
    auto few = QueryEngine::Open({.lake_root = lake_.root(), .views_for_sql = sql}, *snapshot);
    auto all = QueryEngine::Open({.lake_root = lake_.root(), .views_for_sql = sql}, state_.get());
    ASSERT_TRUE(few.ok() && all.ok()) << sql;
    auto a = (*few)->Run(sql), b = (*all)->Run(sql);
    ASSERT_TRUE(a.ok() && b.ok()) << sql;
    EXPECT_EQ(a->text(0, 0), b->text(0, 0)) << sql;
  }
}

// Files that record their columns are read without union_by_name in groups of equal
// columns; a later file with a new column, and a file whose columns are unknown (committed
// before they were recorded), still read together by name, the missing values NULL.
TEST_F(QueryEngineTest, FilesOfDifferentColumnsReadTogether) {
  TableSchema wider = kSchema;
  wider.push_back({"result_cache_hit", ColumnType::kBool});
  RowBatch b(wider);
  b.column(0).AppendInt(500);
  b.column(1).AppendInt(ParseTimestamp("2026-01-03")->micros());
  b.column(2).AppendString("q500");
  b.column(3).AppendInt(1);
  ASSERT_TRUE(test::WriteToLake(*state_, lake_, {"stl_query", "c1", "starttime", {"query"}}, b).ok());

  // A file written before fleetlog recorded columns: only the first two columns, unknown.
  const std::string path = "stl_query/cluster=c9/dt=2026-01-04/old.parquet";
  fs::create_directories(fs::path(lake_.Abs(path)).parent_path());
  auto db = duck::Database::OpenInMemory({});
  auto conn = duck::Connection::Open(*db);
  ASSERT_TRUE((*conn)->Exec("COPY (SELECT 900::BIGINT AS query, TIMESTAMP '2026-01-04 01:00:00' AS starttime) TO " +
                            duck::QuoteString(lake_.Abs(path)) + " (FORMAT parquet)").ok());
  NewFile old;
  old.table = "stl_query";
  old.cluster = "c9";
  old.dt = "2026-01-04";
  old.path = old.staging_path = path;
  old.rows = 1;
  old.checksum = "x";
  ASSERT_TRUE(state_->Commit({.add = {old}}).ok());

  auto files = state_->ListFiles({.table = std::string("stl_query"), .states = {FileState::kPublished}});
  ASSERT_TRUE(files.ok());
  std::set<std::string> columns;
  for (const auto& f : *files) columns.insert(f.columns);
  EXPECT_EQ(columns, (std::set<std::string>{"", SchemaToText(kSchema), SchemaToText(wider)}));

  const std::string sql =
      "SELECT count(*), count(result_cache_hit), count(label), count(DISTINCT cluster), max(dt) FROM stl_query";
  auto engine = QueryEngine::Open({.lake_root = lake_.root(), .views_for_sql = sql}, state_.get());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto r = (*engine)->Run(sql);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->int64(0, 0), 7);
  EXPECT_EQ(r->int64(1, 0), 1);
  EXPECT_EQ(r->int64(2, 0), 6) << "the old file has no label";
  EXPECT_EQ(r->int64(3, 0), 3);
  EXPECT_EQ(r->text(4, 0), "2026-01-04");
}

TEST(SchemaRecordTest, RecordsTheUnionOfColumns) {
  test::TempDir dir;
  auto state = OpenSqliteStateStore(dir.Sub("s.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(RecordSchema(**state, "t", {{"a", ColumnType::kInt32}, {"b", ColumnType::kVarchar}}).ok());
  ASSERT_TRUE(RecordSchema(**state, "t", {{"b", ColumnType::kVarchar}, {"c", ColumnType::kTimestamp}}).ok());
  auto schema = StoredSchema(**state, "t");
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(SchemaToText(*schema), "a INTEGER, b VARCHAR, c TIMESTAMP");
  EXPECT_TRUE(StoredSchema(**state, "nope")->empty());
}

}  // namespace
}  // namespace fleetlog
