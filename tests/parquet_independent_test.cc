// The lake's Parquet files read correctly with a reader that shares no code with DuckDB:
// hyparquet (JavaScript), through tests/node/hyparquet_check.mjs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fleetlog {
namespace {

using json = nlohmann::json;

TEST(ParquetIndependentTest, HyparquetReadsExactlyWhatWasWritten) {
  const std::string script = test::SourceDir() + "/tests/node/hyparquet_check.mjs";
  if (!test::HaveProgram("node")) GTEST_SKIP() << "node is not installed";
  if (!std::filesystem::exists(test::SourceDir() + "/node_modules/hyparquet/package.json"))
    GTEST_SKIP() << "node_modules/hyparquet is missing: run npm install in " << test::SourceDir();

  const TableSchema schema = {{"i", ColumnType::kInt32}, {"big", ColumnType::kInt64}, {"d", ColumnType::kDouble},
                              {"b", ColumnType::kBool},  {"ts", ColumnType::kTimestamp}, {"s", ColumnType::kVarchar}};
  RowBatch batch(schema);
  const auto row = [&](std::optional<int64_t> i, std::optional<int64_t> big, std::optional<double> d, std::optional<bool> b,
                       const char* ts, std::optional<std::string> s) {
    i ? batch.column(0).AppendInt(*i) : batch.column(0).AppendNull();
    big ? batch.column(1).AppendInt(*big) : batch.column(1).AppendNull();
    d ? batch.column(2).AppendDouble(*d) : batch.column(2).AppendNull();
    b ? batch.column(3).AppendInt(*b ? 1 : 0) : batch.column(3).AppendNull();
    batch.column(4).AppendInt(ParseTimestamp(ts)->micros());
    s ? batch.column(5).AppendString(*s) : batch.column(5).AppendNull();
  };
  row(2147483647, std::numeric_limits<int64_t>::max(), 0.1, true, "2026-05-01 00:00:00.000001", "plain");
  row(-2147483647 - 1, std::numeric_limits<int64_t>::min() + 1, -1.5e300, false, "2026-05-01 23:59:59.999999",
      "Gr\xC3\xBC\xC3\x9F" "e \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80");
  row(std::nullopt, std::nullopt, std::nullopt, std::nullopt, "2026-05-01 12:00:00", std::nullopt);
  row(0, 9007199254740993LL, 1e-300, true, "2026-05-01 06:00:00.5", std::string("bad \xFF end") + std::string(1, '\0') + "nul");

  test::TempDir dir;
  auto state = OpenSqliteStateStore(dir.Sub("fleetlog.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(state.ok());
  LakeLayout lake(dir.Sub("lake"));
  auto written = test::WriteToLake(**state, lake, {"t", "c1", "ts", {"ts"}, std::nullopt}, batch);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->files.size(), 1u);

  auto r = test::RunProcess({"node", script, lake.Abs(written->files[0].path)});
  if (r.exit_code == 3) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json got = json::parse(r.out);

  const json expected_columns = json::parse(R"json([
    {"name": "i", "type": "INT32", "converted": "INT_32", "logical": null, "codec": "ZSTD"},
    {"name": "big", "type": "INT64", "converted": "INT_64", "logical": null, "codec": "ZSTD"},
    {"name": "d", "type": "DOUBLE", "converted": null, "logical": null, "codec": "ZSTD"},
    {"name": "b", "type": "BOOLEAN", "converted": null, "logical": null, "codec": "ZSTD"},
    {"name": "ts", "type": "INT64", "converted": "TIMESTAMP_MICROS", "logical": "TIMESTAMP(MICROS)", "codec": "ZSTD"},
    {"name": "s", "type": "BYTE_ARRAY", "converted": "UTF8", "logical": null, "codec": "ZSTD"}
  ])json");
  EXPECT_EQ(got["columns"], expected_columns) << got["columns"].dump(1);

  // Rows come in cursor order within the file.
  json expected = json::parse(R"([
    [2147483647, 9223372036854775807, 0.1, true, "2026-05-01 00:00:00.000001", "plain"],
    [0, 9007199254740993, 1e-300, true, "2026-05-01 06:00:00.500000", "BAD"],
    [null, null, null, null, "2026-05-01 12:00:00.000000", null],
    [-2147483648, -9223372036854775807, -1.5e300, false, "2026-05-01 23:59:59.999999", "UNICODE"]
  ])");
  expected[1][5] = std::string("bad \xEF\xBF\xBD end") + std::string(1, '\0') + "nul";
  expected[3][5] = "Gr\xC3\xBC\xC3\x9F" "e \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80";
  ASSERT_EQ(got["rows"].size(), expected.size()) << r.out;
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(got["rows"][i], expected[i]) << "row " << i;
  // Exact on the wire too: integers are not rounded through doubles.
  EXPECT_THAT(r.out, ::testing::HasSubstr("9007199254740993,"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("-9223372036854775807,"));
}

}  // namespace
}  // namespace fleetlog
