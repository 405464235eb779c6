#include "query/format.h"

#include <gtest/gtest.h>

#include <sstream>

namespace fleetlog {
namespace {

class FormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = duck::Database::OpenInMemory({});
    ASSERT_TRUE(db.ok());
    db_ = *db;
    auto conn = duck::Connection::Open(db_);
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
  }

  std::string Format(const std::string& sql, OutputFormat format) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    std::ostringstream out;
    WriteResult(*r, format, out, {.csv_line_end = "\r\n"});  // RFC 4180 line ends, as --crlf asks
    return out.str();
  }

  std::shared_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
};

const char* const kMixed =
    "SELECT * FROM (VALUES (1, 'plain', 1.5::DOUBLE, true, TIMESTAMP '2026-01-02 03:04:05.000006'), "
    "(NULL, NULL, NULL, NULL, NULL), (-3, '', 'nan'::DOUBLE, false, TIMESTAMP '2026-01-02 00:00:00'), "
    "(4, 'a,b \"c\"' || chr(10) || 'd', 'inf'::DOUBLE, true, NULL)) t(n, s, d, b, ts) ORDER BY n NULLS LAST";

TEST_F(FormatTest, Json) {
  EXPECT_EQ(Format(kMixed, OutputFormat::kJson),
            "[\n"
            "{\"n\":-3,\"s\":\"\",\"d\":null,\"b\":false,\"ts\":\"2026-01-02 00:00:00\"},\n"
            "{\"n\":1,\"s\":\"plain\",\"d\":1.5,\"b\":true,\"ts\":\"2026-01-02 03:04:05.000006\"},\n"
            "{\"n\":4,\"s\":\"a,b \\\"c\\\"\\nd\",\"d\":null,\"b\":true,\"ts\":null},\n"
            "{\"n\":null,\"s\":null,\"d\":null,\"b\":null,\"ts\":null}\n"
            "]\n");
  EXPECT_EQ(Format("SELECT 1 AS x WHERE false", OutputFormat::kJson), "[]\n");
}

TEST_F(FormatTest, Csv) {
  EXPECT_EQ(Format(kMixed, OutputFormat::kCsv),
            "n,s,d,b,ts\r\n"
            "-3,\"\",nan,false,2026-01-02 00:00:00\r\n"
            "1,plain,1.5,true,2026-01-02 03:04:05.000006\r\n"
            "4,\"a,b \"\"c\"\"\nd\",inf,true,\r\n"
            ",,,,\r\n");
  EXPECT_EQ(Format("SELECT 1 AS \"odd,name\"", OutputFormat::kCsv), "\"odd,name\"\r\n1\r\n");
}

TEST_F(FormatTest, Table) {
  EXPECT_EQ(Format("SELECT * FROM (VALUES (1, 'x'), (22, 'caf\xC3\xA9' || chr(10) || 'z'), (NULL, NULL)) t(n, s) ORDER BY n",
                   OutputFormat::kTable),
            "  n | s      \n"
            "----+---------\n"
            "  1 | x      \n"
            " 22 | caf\xC3\xA9\\nz\n"
            "    |        \n"
            "(3 rows)\n");
  EXPECT_EQ(Format("SELECT 1 AS one", OutputFormat::kTable), " one\n-----\n   1\n(1 row)\n");
}

TEST_F(FormatTest, TimestampWithTimeZone) {
  const std::string sql =
      "SELECT TIMESTAMPTZ '2024-01-02 03:04:05.123456+00' AS a, TIMESTAMPTZ '2024-01-02 03:04:05+02' AS b, "
      "TIMESTAMPTZ '1969-12-31 23:59:59.5+00' AS c, 'infinity'::TIMESTAMPTZ AS d, NULL::TIMESTAMPTZ AS e";
  EXPECT_EQ(Format(sql, OutputFormat::kCsv),
            "a,b,c,d,e\r\n2024-01-02 03:04:05.123456+00,2024-01-02 01:04:05+00,1969-12-31 23:59:59.5+00,infinity,\r\n");
  EXPECT_EQ(Format("SELECT TIMESTAMPTZ '2024-01-02 03:04:05.1+00' AS a", OutputFormat::kJson),
            "[\n{\"a\":\"2024-01-02 03:04:05.1+00\"}\n]\n");
  const std::string now = Format("SELECT now() AS now", OutputFormat::kCsv);
  EXPECT_TRUE(now.size() > 10 && now.find("+00\r\n") != std::string::npos) << now;
  auto r = conn_->Query("SELECT now()");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->column_type_name(0), "TIMESTAMP WITH TIME ZONE");
  EXPECT_FALSE(r->text(0, 0).empty());
}

TEST_F(FormatTest, NumericTypesAreBareInJson) {
  EXPECT_EQ(Format("SELECT 1::TINYINT a, 2::HUGEINT b, 1.25::DECIMAL(5,2) c, 0.5::FLOAT d, '7' e, DATE '2026-01-01' f",
                   OutputFormat::kJson),
            "[\n{\"a\":1,\"b\":2,\"c\":1.25,\"d\":0.5,\"e\":\"7\",\"f\":\"2026-01-01\"}\n]\n");
  EXPECT_TRUE(IsNumericType(DUCKDB_TYPE_BIGINT));
  EXPECT_FALSE(IsNumericType(DUCKDB_TYPE_VARCHAR));
  EXPECT_FALSE(IsNumericType(DUCKDB_TYPE_BOOLEAN));
}

TEST(OutputFormatTest, Parses) {
  EXPECT_EQ(*ParseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_EQ(*ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_EQ(*ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(ParseOutputFormat("xml").status().code(), StatusCode::kInvalidArgument);
}

TEST(GridTest, WritesTableCsvAndJson) {
  Grid grid{.columns = {{"name"}, {"n", true}}};
  grid.rows = {{"\xE4\xB8\x96\xE7\x95\x8C", "1"}, {"a,\"b\"", std::nullopt}, {std::nullopt, "22"}};
  std::ostringstream table, csv, json;
  WriteGrid(grid, OutputFormat::kTable, table);
  WriteGrid(grid, OutputFormat::kCsv, csv);
  WriteGrid(grid, OutputFormat::kJson, json);
  EXPECT_EQ(table.str(),
            " name  |  n\n"
            "-------+----\n"
            " \xE4\xB8\x96\xE7\x95\x8C  |  1\n"
            " a,\"b\" |   \n"
            "       | 22\n"
            "(3 rows)\n");
  EXPECT_EQ(csv.str(), "name,n\n\xE4\xB8\x96\xE7\x95\x8C,1\n\"a,\"\"b\"\"\",\n,22\n");
  EXPECT_EQ(json.str(), "[\n{\"name\":\"\xE4\xB8\x96\xE7\x95\x8C\",\"n\":1},\n{\"name\":\"a,\\\"b\\\"\",\"n\":null},\n"
                        "{\"name\":null,\"n\":22}\n]\n");
}

}  // namespace
}  // namespace fleetlog
