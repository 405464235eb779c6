// Round trip through the real binary: rows written through the lake writer for several
// clusters and days come back from `fleetlog query` exactly, in JSON and CSV.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "test_util.h"

namespace fleetlog {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

const TableSchema kQuerySchema = {{"query", ColumnType::kInt64},     {"userid", ColumnType::kInt32},
                                  {"starttime", ColumnType::kTimestamp}, {"elapsed", ColumnType::kDouble},
                                  {"aborted", ColumnType::kBool},        {"querytxt", ColumnType::kVarchar}};
const TableSchema kScanSchema = {{"query", ColumnType::kInt64}, {"starttime", ColumnType::kTimestamp}, {"rows", ColumnType::kInt64}};

std::string LongText() {
  std::string s;
  for (int i = 0; i < 400; ++i) s += "abcdefghi" + std::to_string(i % 10);
  return s;  // 4000 characters
}
const std::string kUnicode = "Gr\xC3\xBC\xC3\x9F" "e, \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80 \"quoted\"\nnew line, comma\ttab";
const std::string kInvalid = "bad \xFF\xFE end \xC3";
const std::string kInvalidFixed = "bad \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD";

struct QueryRow {
  int64_t query;
  std::optional<int32_t> userid;
  const char* starttime;
  std::optional<double> elapsed;
  std::optional<bool> aborted;
  std::optional<std::string> text;
};

RowBatch QueryBatch(const std::vector<QueryRow>& rows) {
  RowBatch b(kQuerySchema);
  for (const auto& r : rows) {
    b.column(0).AppendInt(r.query);
    r.userid ? b.column(1).AppendInt(*r.userid) : b.column(1).AppendNull();
    b.column(2).AppendInt(ParseTimestamp(r.starttime)->micros());
    r.elapsed ? b.column(3).AppendDouble(*r.elapsed) : b.column(3).AppendNull();
    r.aborted ? b.column(4).AppendInt(*r.aborted ? 1 : 0) : b.column(4).AppendNull();
    r.text ? b.column(5).AppendString(*r.text) : b.column(5).AppendNull();
  }
  return b;
}

class CliQueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    config_ = test::WriteMinimalConfig(dir_->path());
    auto state = OpenSqliteStateStore(dir_->Sub("fleetlog.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok());
    LakeLayout lake(dir_->Sub("lake"));
    const auto write = [&](const std::string& table, const std::string& cluster, const RowBatch& batch) {
      auto r = test::WriteToLake(**state, lake, {table, cluster, "starttime", {"query"}, std::nullopt}, batch);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    };
    write("stl_query", "alpha", QueryBatch({{1, 100, "2026-03-01 00:00:00.000001", 1.5, false, "select 1"},
                                            {2, std::nullopt, "2026-03-01 23:59:59.999999", std::nullopt, std::nullopt, std::nullopt},
                                            {3, 101, "2026-03-02 12:34:56.789012", -0.25, true, kUnicode}}));
    write("stl_query", "beta-2", QueryBatch({{4, 102, "2026-03-02 00:00:00", 1e-7, true, kInvalid},
                                             {5, -2147483647, "2026-03-01 06:00:00.5", 3.0, false, LongText()},
                                             {6, 0, "2026-03-03 00:00:00", 0.0, false, ""}}));
    RowBatch scan(kScanSchema);
    scan.column(0).AppendInt(1);
    scan.column(1).AppendInt(ParseTimestamp("2026-03-01 00:00:01")->micros());
    scan.column(2).AppendInt(9'000'000'000'000LL);
    write("stl_scan", "alpha", scan);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static test::ProcessResult Query(const std::string& sql, const std::string& format) {
    return test::RunFleetlog({"--config", config_, "query", "--format", format, sql});
  }

  static json QueryJson(const std::string& sql) {
    auto r = Query(sql, "json");
    EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.err;
    EXPECT_EQ(r.err, "");
    try {
      return json::parse(r.out);
    } catch (const json::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.out;
      return json();
    }
  }

  static test::TempDir* dir_;
  static std::string config_;
};
test::TempDir* CliQueryTest::dir_ = nullptr;
std::string CliQueryTest::config_;

TEST_F(CliQueryTest, JsonRoundTripIsExact) {
  json rows = QueryJson("SELECT cluster, dt, query, userid, starttime, elapsed, aborted, querytxt FROM stl_query ORDER BY query");
  const json expected = json::parse(R"([
    {"cluster": "alpha", "dt": "2026-03-01", "query": 1, "userid": 100, "starttime": "2026-03-01 00:00:00.000001",
     "elapsed": 1.5, "aborted": false, "querytxt": "select 1"},
    {"cluster": "alpha", "dt": "2026-03-01", "query": 2, "userid": null, "starttime": "2026-03-01 23:59:59.999999",
     "elapsed": null, "aborted": null, "querytxt": null},
    {"cluster": "alpha", "dt": "2026-03-02", "query": 3, "userid": 101, "starttime": "2026-03-02 12:34:56.789012",
     "elapsed": -0.25, "aborted": true, "querytxt": "UNICODE"},
    {"cluster": "beta-2", "dt": "2026-03-02", "query": 4, "userid": 102, "starttime": "2026-03-02 00:00:00",
     "elapsed": 1e-7, "aborted": true, "querytxt": "INVALID"},
    {"cluster": "beta-2", "dt": "2026-03-01", "query": 5, "userid": -2147483647, "starttime": "2026-03-01 06:00:00.5",
     "elapsed": 3.0, "aborted": false, "querytxt": "LONG"},
    {"cluster": "beta-2", "dt": "2026-03-03", "query": 6, "userid": 0, "starttime": "2026-03-03 00:00:00",
     "elapsed": 0.0, "aborted": false, "querytxt": ""}
  ])");
  json want = expected;
  want[2]["querytxt"] = kUnicode;
  want[3]["querytxt"] = kInvalidFixed;
  want[4]["querytxt"] = LongText();
  ASSERT_EQ(rows.size(), want.size()) << rows.dump(2);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(rows[i], want[i]) << "row " << i;
  EXPECT_EQ(rows[4]["querytxt"].get<std::string>().size(), 4000u);
  // Invalid UTF-8 became exactly one U+FFFD per bad byte.
  EXPECT_EQ(rows[3]["querytxt"].get<std::string>(), "bad \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD");
}

TEST_F(CliQueryTest, JsonTextIsExactOnTheWire) {
  auto r = Query("SELECT query, starttime, querytxt FROM stl_query WHERE query IN (2, 3) ORDER BY query", "json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "[\n{\"query\":2,\"starttime\":\"2026-03-01 23:59:59.999999\",\"querytxt\":null},\n"
            "{\"query\":3,\"starttime\":\"2026-03-02 12:34:56.789012\",\"querytxt\":\"Gr\xC3\xBC\xC3\x9F" "e, "
            "\xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80 \\\"quoted\\\"\\nnew line, comma\\ttab\"}\n]\n");
}

TEST_F(CliQueryTest, CsvRoundTripIsExact) {
  auto r = Query("SELECT cluster, dt, query, userid, starttime, aborted, querytxt FROM stl_query WHERE query <> 5 ORDER BY query",
                 "csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "cluster,dt,query,userid,starttime,aborted,querytxt\n"
            "alpha,2026-03-01,1,100,2026-03-01 00:00:00.000001,false,select 1\n"
            "alpha,2026-03-01,2,,2026-03-01 23:59:59.999999,,\n"
            "alpha,2026-03-02,3,101,2026-03-02 12:34:56.789012,true,\"Gr\xC3\xBC\xC3\x9F" "e, \xE4\xB8\x96\xE7\x95\x8C "
            "\xF0\x9F\x98\x80 \"\"quoted\"\"\nnew line, comma\ttab\"\n"
            "beta-2,2026-03-02,4,102,2026-03-02 00:00:00,true,bad \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD\n"
            "beta-2,2026-03-03,6,0,2026-03-03 00:00:00,false,\"\"\n");
  auto long_text = Query("SELECT querytxt FROM stl_query WHERE query = 5", "csv");
  ASSERT_EQ(long_text.exit_code, 0);
  EXPECT_EQ(long_text.out, "querytxt\n" + LongText() + "\n");
  // --crlf: RFC 4180 line ends; a line break inside a quoted field stays as it is.
  auto crlf = test::RunFleetlog({"--config", config_, "query", "--format", "csv", "--crlf",
                                 "SELECT query, querytxt FROM stl_query WHERE query IN (1, 3) ORDER BY query"});
  ASSERT_EQ(crlf.exit_code, 0) << crlf.err;
  EXPECT_EQ(crlf.out, "query,querytxt\r\n1,select 1\r\n3,\"Gr\xC3\xBC\xC3\x9F" "e, \xE4\xB8\x96\xE7\x95\x8C "
                      "\xF0\x9F\x98\x80 \"\"quoted\"\"\nnew line, comma\ttab\"\r\n");
  // Without --format, a pipe (as here) gets CSV.
  auto piped = test::RunFleetlog({"--config", config_, "query", "SELECT query FROM stl_query WHERE query < 3 ORDER BY 1"});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, "query\n1\n2\n");
}

// Columns line up by display width: CJK and emoji take two columns, combining marks none.
TEST_F(CliQueryTest, TableAlignsWideCharacters) {
  auto r = Query("SELECT * FROM (VALUES ('\xE4\xB8\x96\xE7\x95\x8C', 1), ('ab', 22), ('\xF0\x9F\x98\x80x', 333), "
                 "('e\xCC\x81', 4)) t(name, n) ORDER BY n", "table");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = r.out.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(r.out.substr(start, end - start));
  ASSERT_EQ(lines.size(), 7u) << r.out;  // header, rule, 4 rows, footer
  const size_t bar = DisplayWidth(lines[0].substr(0, lines[0].find('|')));
  EXPECT_EQ(bar, DisplayWidth(" name "));  // 世界 is 4 columns wide, as wide as "name"
  for (size_t i = 2; i < 6; ++i) {
    EXPECT_EQ(DisplayWidth(lines[i].substr(0, lines[i].find('|'))), bar) << lines[i];
    EXPECT_EQ(DisplayWidth(lines[i]), DisplayWidth(lines[0])) << lines[i];
  }
  EXPECT_EQ(lines[2], " \xE4\xB8\x96\xE7\x95\x8C |   1");
  EXPECT_EQ(lines[3], " e\xCC\x81    |   4");
  EXPECT_EQ(lines[5], " \xF0\x9F\x98\x80x  | 333");
}



TEST_F(CliQueryTest, EveryTableCarriesClusterAndDt) {
  json tables = QueryJson(
      "SELECT table_name, string_agg(column_name, ',' ORDER BY ordinal_position) AS columns "
      "FROM information_schema.columns GROUP BY table_name ORDER BY table_name");
  EXPECT_EQ(tables, json::parse(R"([
    {"table_name": "stl_query", "columns": "query,userid,starttime,elapsed,aborted,querytxt,cluster,dt"},
    {"table_name": "stl_scan", "columns": "query,starttime,rows,cluster,dt"}
  ])"));
  EXPECT_EQ(QueryJson("SELECT cluster, dt, rows FROM stl_scan"),
            json::parse(R"([{"cluster": "alpha", "dt": "2026-03-01", "rows": 9000000000000}])"));
  EXPECT_EQ(QueryJson("SELECT typeof(cluster) AS c, typeof(dt) AS d FROM stl_query LIMIT 1"),
            json::parse(R"([{"c": "VARCHAR", "d": "DATE"}])"));
}

TEST_F(CliQueryTest, DiagnosticGroupByAndJoinAcrossTables) {
  EXPECT_EQ(QueryJson("SELECT cluster, count(*) AS n FROM stl_query GROUP BY cluster ORDER BY cluster"),
            json::parse(R"([{"cluster": "alpha", "n": 3}, {"cluster": "beta-2", "n": 3}])"));
  EXPECT_EQ(QueryJson("SELECT q.query, s.rows FROM stl_query q JOIN stl_scan s USING (cluster, query)"),
            json::parse(R"([{"query": 1, "rows": 9000000000000}])"));
  auto table = Query("SELECT cluster, count(*) AS n FROM stl_query GROUP BY cluster ORDER BY cluster", "table");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out, " cluster | n\n---------+---\n alpha   | 3\n beta-2  | 3\n(2 rows)\n");
}

TEST_F(CliQueryTest, TimestampWithTimeZoneIsPrinted) {
  EXPECT_EQ(QueryJson("SELECT TIMESTAMPTZ '2024-01-02 03:04:05.123456+00' AS a, TIMESTAMPTZ '2024-01-02 05:04:05+02' AS b, "
                      "NULL::TIMESTAMPTZ AS c"),
            json::parse(R"([{"a": "2024-01-02 03:04:05.123456+00", "b": "2024-01-02 03:04:05+00", "c": null}])"));
  auto now = Query("select now()", "table");
  ASSERT_EQ(now.exit_code, 0) << now.err;
  EXPECT_THAT(now.out, ::testing::MatchesRegex(
                           " now\\(\\) +\n-+\n [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?\\+00\n\\(1 row\\)\n"));
}

TEST_F(CliQueryTest, SandboxEscapesAreRefused) {
  const std::string lake = dir_->Sub("lake");
  for (const std::string& sql : {std::string("SELECT * FROM read_csv('/etc/passwd')"),
                                 "SELECT * FROM read_parquet('" + dir_->Sub("fleetlog.db") + "')",
                                 std::string("SELECT * FROM glob('/etc/*')"),
                                 "COPY (SELECT 1) TO '" + lake + "/evil.csv'",
                                 "EXPLAIN ANALYZE COPY (SELECT 1) TO '" + lake + "/evil.csv'",
                                 "ATTACH '" + lake + "/evil.db' AS e",
                                 std::string("INSTALL httpfs"),
                                 std::string("LOAD httpfs"),
                                 std::string("SET enable_external_access = true"),
                                 std::string("SET lock_configuration = false"),
                                 std::string("SET allowed_directories = ['/']"),
                                 std::string("PRAGMA enable_profiling")}) {
    auto r = Query(sql, "json");
    EXPECT_EQ(r.exit_code, 1) << sql << "\n" << r.out << r.err;
    EXPECT_EQ(r.out, "") << sql;
    EXPECT_THAT(r.err, HasSubstr("fleetlog: query failed: ")) << sql;
    EXPECT_THAT(r.err, ::testing::Not(HasSubstr("root:"))) << sql;
  }
  EXPECT_FALSE(std::filesystem::exists(lake + "/evil.csv"));
  EXPECT_FALSE(std::filesystem::exists(lake + "/evil.db"));
  EXPECT_EQ(QueryJson("SELECT count(*) AS n FROM (DESCRIBE stl_query)"), json::parse(R"([{"n": 8}])"));
  EXPECT_EQ(QueryJson("SELECT count(*) AS n FROM (SHOW TABLES)"), json::parse(R"([{"n": 2}])"));
  auto summarize = Query("SUMMARIZE stl_scan", "csv");
  EXPECT_EQ(summarize.exit_code, 0) << summarize.err;
}

TEST_F(CliQueryTest, SqlFromStdinAndErrors) {
  test::ProcessOptions options;
  options.stdin_data = "SELECT count(*) AS n FROM stl_query WHERE dt = DATE '2026-03-02'";
  auto r = test::RunFleetlog({"--config", config_, "query", "--format", "csv", "-"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n\n2\n");

  auto bad = Query("SELEC 1", "json");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("syntax error"));
  auto usage = Query("SELECT 1", "xml");
  EXPECT_EQ(usage.exit_code, 2);
  auto no_config = test::RunFleetlog({"--config", dir_->Sub("nope.toml"), "query", "SELECT 1"});
  EXPECT_EQ(no_config.exit_code, 2);
  EXPECT_THAT(no_config.err, HasSubstr("fleetlog init"));
}

TEST(CliQueryEmptyLakeTest, QueryWithoutAnyExportWorks) {
  test::TempDir dir;
  const std::string config = test::WriteMinimalConfig(dir.path());
  auto r = test::RunFleetlog({"--config", config, "query", "--format", "csv", "SELECT 42 AS answer"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "answer\n42\n");
  // FLEETLOG_CONFIG names the config when --config is absent.
  test::ProcessOptions options;
  options.env["FLEETLOG_CONFIG"] = config;
  auto env = test::RunFleetlog({"query", "--format", "csv", "SELECT 1 AS x"}, options);
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(env.out, "x\n1\n");
}

}  // namespace
}  // namespace fleetlog
