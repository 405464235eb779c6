#include "query/ddl.h"

#include <algorithm>
#include <functional>

#include <nlohmann/json.hpp>

#include "duck/duck.h"

namespace fleetlog {
namespace {

using duck::QuoteString;
using nlohmann::json;

// The quoting and type names of one SQL dialect.
struct Dialect {
  char quote;  // '`' or '"'
  const char* types[6];  // by ColumnType: int32, int64, double, bool, timestamp, varchar

  std::string Q(std::string_view name) const {
    std::string out(1, quote);
    for (char c : name) {
      if (c == quote) out += quote;
      out += c;
    }
    return out + quote;
  }
  const char* Type(ColumnType t) const { return types[static_cast<int>(t)]; }
};

constexpr Dialect kHive{'`', {"int", "bigint", "double", "boolean", "timestamp", "string"}};
constexpr Dialect kTrino{'"', {"integer", "bigint", "double", "boolean", "timestamp", "varchar"}};
constexpr Dialect kSpark{'`', {"INT", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMP", "STRING"}};
constexpr Dialect kDuck{'"', {"INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMP", "VARCHAR"}};

// `text` between single quotes for a POSIX shell.
std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string TableLocation(const DdlInput& in, const std::string& table) {
  std::string root = in.location;
  while (!root.empty() && root.back() == '/') root.pop_back();
  return root + "/" + table + "/";
}

bool IsObjectStore(std::string_view location) {
  return location.rfind("s3://", 0) == 0 || location.rfind("s3a://", 0) == 0 || location.rfind("gs://", 0) == 0;
}

std::vector<std::string> GroupColumns(const TextView& v) {
  std::vector<std::string> out;
  std::string_view group = v.group;
  while (!group.empty()) {
    const size_t comma = group.find(',');
    std::string_view column = group.substr(0, comma);
    while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
    out.emplace_back(column);
    group = comma == std::string_view::npos ? std::string_view() : group.substr(comma + 1);
  }
  return out;
}

std::string Joined(const std::vector<std::string>& columns, const Dialect& d) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + d.Q(c);
  return out;
}

// The column list of a table, one per line, partition columns included when `with_partitions`.
std::string ColumnLines(const LakeTable& t, const Dialect& d, const char* cluster_type, const char* dt_type) {
  std::string out;
  for (const auto& c : t.columns) out += fmt::format("  {} {},\n", d.Q(c.name), d.Type(c.type));
  if (cluster_type != nullptr) out += fmt::format("  {} {},\n  {} {},\n", d.Q("cluster"), cluster_type, d.Q("dt"), dt_type);
  out.resize(out.size() - 2);  // the last ",\n"
  return out + "\n";
}

// The text-reassembly views whose tables are in the lake, in `dialect`; `text_of` is the
// expression that concatenates the pieces of one group in `sequence` order.
std::string TextViewsSql(const DdlInput& in, const Dialect& d, const char* any_value,
                         const std::function<std::string(const Dialect&)>& text_of, const char* newline) {
  std::string out;
  for (const auto& v : TextViews()) {
    if (std::none_of(in.tables.begin(), in.tables.end(), [&](const LakeTable& t) { return t.name == v.table; })) continue;
    const std::string group = Joined(GroupColumns(v), d);
    out += fmt::format(
        "CREATE OR REPLACE VIEW {view} AS\n"
        "SELECT {group},\n"
        "       {any}({userid}) AS {userid},\n"
        "       replace({text}, {backslash_n}, {newline}) AS {text_col},\n"
        "       count(*) AS {pieces},\n"
        "       min({dt}) AS {dt}\n"
        "FROM {table}\n"
        "GROUP BY {group};\n\n",
        fmt::arg("view", d.Q(v.view)), fmt::arg("group", group), fmt::arg("any", any_value),
        fmt::arg("userid", d.Q(v.user)), fmt::arg("text", text_of(d)), fmt::arg("backslash_n", newline),
        fmt::arg("newline", "chr(10)"),
        fmt::arg("text_col", d.Q("text")), fmt::arg("pieces", d.Q("pieces")), fmt::arg("dt", d.Q("dt")),
        fmt::arg("table", d.Q(v.table)));
  }
  return out;
}

std::string TrinoText(const Dialect& d) {
  return fmt::format("array_join(array_agg({} ORDER BY {}), '')", d.Q("text"), d.Q("sequence"));
}

std::string AthenaTable(const DdlInput& in, const LakeTable& t) {
  std::string clusters;
  for (const auto& c : in.clusters) clusters += (clusters.empty() ? "" : ",") + c;
  const std::string location = TableLocation(in, t.name);
  return fmt::format(
      "CREATE EXTERNAL TABLE IF NOT EXISTS {db}.{table} (\n{columns})\n"
      "PARTITIONED BY ({cluster} string, {dt} string)\n"
      "STORED AS PARQUET\n"
      "LOCATION {location}\n"
      "TBLPROPERTIES (\n"
      "  'projection.enabled' = 'true',\n"
      "  'projection.cluster.type' = 'enum',\n"
      "  'projection.cluster.values' = {clusters},\n"
      "  'projection.dt.type' = 'date',\n"
      "  'projection.dt.format' = 'yyyy-MM-dd',\n"
      "  'projection.dt.range' = {range},\n"
      "  'projection.dt.interval' = '1',\n"
      "  'projection.dt.interval.unit' = 'DAYS',\n"
      "  'storage.location.template' = {template}\n"
      ");\n\n",
      fmt::arg("db", kHive.Q(in.database)), fmt::arg("table", kHive.Q(t.name)),
      fmt::arg("columns", ColumnLines(t, kHive, nullptr, nullptr)), fmt::arg("cluster", kHive.Q("cluster")),
      fmt::arg("dt", kHive.Q("dt")), fmt::arg("location", QuoteString(location)), fmt::arg("clusters", QuoteString(clusters)),
      fmt::arg("range", QuoteString(in.first_day + ",NOW")),
      fmt::arg("template", QuoteString(location + "cluster=${cluster}/dt=${dt}/")));
}

std::string Athena(const DdlInput& in) {
  std::string out = fmt::format("CREATE DATABASE IF NOT EXISTS {};\n\n", kHive.Q(in.database));
  for (const auto& t : in.tables) out += AthenaTable(in, t);
  return out + TextViewsSql(in, kTrino, "arbitrary", TrinoText, "'\\n'");
}

std::string Glue(const DdlInput& in) {
  std::string out = fmt::format("aws glue create-database --database-input {}\n\n",
                                ShellQuote(json({{"Name", in.database}}).dump()));
  std::string clusters;
  for (const auto& c : in.clusters) clusters += (clusters.empty() ? "" : ",") + c;
  for (const auto& t : in.tables) {
    json columns = json::array();
    for (const auto& c : t.columns) columns.push_back({{"Name", c.name}, {"Type", kHive.Type(c.type)}});
    const std::string location = TableLocation(in, t.name);
    json input = {
        {"Name", t.name},
        {"TableType", "EXTERNAL_TABLE"},
        {"PartitionKeys", {{{"Name", "cluster"}, {"Type", "string"}}, {{"Name", "dt"}, {"Type", "string"}}}},
        {"Parameters",
         {{"EXTERNAL", "TRUE"}, {"classification", "parquet"}, {"projection.enabled", "true"},
          {"projection.cluster.type", "enum"}, {"projection.cluster.values", clusters}, {"projection.dt.type", "date"},
          {"projection.dt.format", "yyyy-MM-dd"}, {"projection.dt.range", in.first_day + ",NOW"},
          {"projection.dt.interval", "1"}, {"projection.dt.interval.unit", "DAYS"},
          {"storage.location.template", location + "cluster=${cluster}/dt=${dt}/"}}},
        {"StorageDescriptor",
         {{"Columns", columns},
          {"Location", location},
          {"InputFormat", "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"},
          {"OutputFormat", "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"},
          {"SerdeInfo", {{"SerializationLibrary", "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}}}},
    };
    out += fmt::format("aws glue create-table --database-name {} --table-input {}\n\n", ShellQuote(in.database),
                       ShellQuote(input.dump()));
  }
  std::string views = TextViewsSql(in, kTrino, "arbitrary", TrinoText, "'\\n'");
  for (size_t start = 0; start < views.size();) {
    const size_t end = views.find(";\n\n", start);
    if (end == std::string::npos) break;
    out += fmt::format("aws athena start-query-execution --query-execution-context Database={} --query-string {}\n\n",
                       ShellQuote(in.database), ShellQuote(views.substr(start, end - start)));
    start = end + 3;
  }
  return out;
}

std::string Trino(const DdlInput& in) {
  std::string out = fmt::format("CREATE SCHEMA IF NOT EXISTS {};\n\n", kTrino.Q(in.database));
  for (const auto& t : in.tables) {
    out += fmt::format(
        "CREATE TABLE IF NOT EXISTS {db}.{table} (\n{columns})\n"
        "WITH (\n"
        "  external_location = {location},\n"
        "  format = 'PARQUET',\n"
        "  partitioned_by = ARRAY['cluster', 'dt']\n"
        ");\n\n"
        "CALL system.sync_partition_metadata({db_literal}, {table_literal}, 'FULL');\n\n",
        fmt::arg("db", kTrino.Q(in.database)), fmt::arg("table", kTrino.Q(t.name)),
        fmt::arg("columns", ColumnLines(t, kTrino, "varchar", "date")),
        fmt::arg("location", QuoteString(TableLocation(in, t.name))), fmt::arg("db_literal", QuoteString(in.database)),
        fmt::arg("table_literal", QuoteString(t.name)));
  }
  return out + TextViewsSql(in, kTrino, "arbitrary", TrinoText, "'\\n'");
}

std::string Spark(const DdlInput& in) {
  std::string out = fmt::format("CREATE DATABASE IF NOT EXISTS {};\nUSE {};\n\n", kSpark.Q(in.database),
                                kSpark.Q(in.database));
  for (const auto& t : in.tables) {
    out += fmt::format(
        "CREATE TABLE IF NOT EXISTS {table} (\n{columns})\n"
        "USING parquet\n"
        "PARTITIONED BY ({cluster}, {dt})\n"
        "LOCATION {location};\n\n"
        "MSCK REPAIR TABLE {table};\n\n",
        fmt::arg("table", kSpark.Q(t.name)), fmt::arg("columns", ColumnLines(t, kSpark, "STRING", "DATE")),
        fmt::arg("cluster", kSpark.Q("cluster")), fmt::arg("dt", kSpark.Q("dt")),
        fmt::arg("location", QuoteString(TableLocation(in, t.name))));
  }
  // Spark has no ordered aggregate: sort (sequence, text) pairs, then keep the text.
  const auto text_of = [](const Dialect& d) {
    return fmt::format("array_join(transform(array_sort(collect_list(struct({}, {}))), x -> x.{}), '')",
                       d.Q("sequence"), d.Q("text"), d.Q("text"));
  };
  // Spark reads backslash escapes in literals: '\\n' is the two characters \ and n.
  return out + TextViewsSql(in, kSpark, "first", text_of, "'\\\\n'");
}

std::string DuckDb(const DdlInput& in) {
  std::string out;
  for (const auto& t : in.tables) {
    out += fmt::format(
        "CREATE OR REPLACE VIEW {table} AS\n"
        "SELECT * FROM read_parquet({glob}, hive_partitioning = true, union_by_name = true,\n"
        "                           hive_types = {{'cluster': VARCHAR, 'dt': DATE}});\n\n",
        fmt::arg("table", kDuck.Q(t.name)), fmt::arg("glob", QuoteString(TableLocation(in, t.name) + "*/*/*.parquet")));
  }
  const auto text_of = [](const Dialect& d) { return PiecesInOrderSql(d.Q("text"), d.Q("sequence")); };
  return out + TextViewsSql(in, kDuck, "any_value", text_of, "'\\n'");
}

}  // namespace

Result<DdlEngine> ParseDdlEngine(std::string_view name) {
  if (name == "athena") return DdlEngine::kAthena;
  if (name == "glue") return DdlEngine::kGlue;
  if (name == "trino") return DdlEngine::kTrino;
  if (name == "spark") return DdlEngine::kSpark;
  if (name == "duckdb") return DdlEngine::kDuckDb;
  return InvalidArgument("unknown engine \"{}\": use athena, glue, trino, spark or duckdb", name);
}

Result<std::string> TableDefinitions(DdlEngine engine, const DdlInput& input) {
  if ((engine == DdlEngine::kAthena || engine == DdlEngine::kGlue) && !IsObjectStore(input.location))
    return InvalidArgument("Athena and Glue read the lake from S3: pass --location s3://bucket/prefix (the lake is at {})",
                           input.location);
  switch (engine) {
    case DdlEngine::kAthena:
      return "-- The fleetlog lake in Amazon Athena: run each statement (they are separated by blank lines).\n"
             "-- Partition projection finds new days and clusters without MSCK REPAIR.\n\n" + Athena(input);
    case DdlEngine::kGlue:
      return "# The fleetlog lake in the AWS Glue Data Catalog, with partition projection for Athena.\n"
             "# The views are created through Athena: add --work-group or --result-configuration as your account needs.\n\n" +
             Glue(input);
    case DdlEngine::kTrino:
      return "-- The fleetlog lake in Trino's Hive connector: run in a session on your Hive catalog\n"
             "-- (USE hive." + input.database + "), and call sync_partition_metadata again after exports add days.\n\n" +
             Trino(input);
    case DdlEngine::kSpark:
      return "-- The fleetlog lake in Spark SQL: run MSCK REPAIR TABLE again after exports add days.\n\n" + Spark(input);
    case DdlEngine::kDuckDb:
      return "-- The fleetlog lake in DuckDB: views over its files; partitions are found at each query.\n\n" + DuckDb(input);
  }
  return Internal("unknown engine");
}

}  // namespace fleetlog
