#include "server/aws/data_api_shapes.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "core/text.h"

namespace fleetlog {
namespace {

using nlohmann::json;

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Which Field member a column's cells use.
enum class FieldKind { kBool, kLong, kDouble, kString };

FieldKind KindOf(std::string_view duckdb_type) {
  const std::string t = Upper(duckdb_type);
  if (t == "BOOLEAN") return FieldKind::kBool;
  if (t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT" || t == "UTINYINT" || t == "USMALLINT" ||
      t == "UINTEGER" || t == "UBIGINT" || t == "HUGEINT" || t == "UHUGEINT")
    return FieldKind::kLong;  // values beyond a long become stringValue, cell by cell
  if (t == "FLOAT" || t == "DOUBLE") return FieldKind::kDouble;
  return FieldKind::kString;  // DECIMAL too: Redshift sends numeric as text, exactly
}

// Writes Fields while a SAX parse walks the stored rows: no DOM, and numbers keep the exact
// text DuckDB printed.
class FieldWriter : public json::json_sax_t {
 public:
  FieldWriter(const std::vector<FieldKind>& kinds, std::string* out) : kinds_(kinds), out_(out) {}

  bool null() override { return Cell(R"({"isNull":true})"); }
  bool boolean(bool v) override { return Cell(v ? R"({"booleanValue":true})" : R"({"booleanValue":false})"); }
  bool number_integer(json::number_integer_t v) override { return Number(std::to_string(v), true); }
  bool number_unsigned(json::number_unsigned_t v) override {
    return Number(std::to_string(v), v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  }
  bool number_float(json::number_float_t, const std::string& text) override { return Number(text, false); }
  bool string(std::string& s) override {
    std::string cell = R"({"stringValue":)";
    AppendJsonString(&cell, s);
    cell += '}';
    return Cell(cell);
  }
  bool binary(json::binary_t&) override { return false; }
  bool start_object(std::size_t) override { return false; }
  bool key(std::string&) override { return false; }
  bool end_object() override { return false; }
  // Depth 1 is the page, depth 2 a row; rows hold scalars only.
  bool start_array(std::size_t) override {
    if (++depth_ == 1) {
      *out_ += '[';
      return true;
    }
    if (depth_ != 2) return false;
    *out_ += rows_++ ? ",[" : "[";
    column_ = 0;
    return true;
  }
  bool end_array() override {
    *out_ += ']';
    return --depth_ != 1 || column_ == kinds_.size();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  bool Number(const std::string& text, bool fits_long) {
    if (column_ >= kinds_.size()) return false;
    switch (kinds_[column_]) {
      case FieldKind::kDouble: return Cell(R"({"doubleValue":)" + text + "}");
      case FieldKind::kLong:
        if (fits_long && text.find_first_of(".eE") == std::string::npos) return Cell(R"({"longValue":)" + text + "}");
        [[fallthrough]];
      default: return Cell(R"({"stringValue":")" + text + "\"}");
    }
  }
  bool Cell(std::string_view field) {
    if (depth_ != 2 || column_ >= kinds_.size()) return false;
    if (column_++) *out_ += ',';
    *out_ += field;
    return true;
  }

  const std::vector<FieldKind>& kinds_;
  std::string* out_;
  int depth_ = 0;
  size_t column_ = 0;
  size_t rows_ = 0;
};

void AddStatementCommon(const StatementInfo& info, json* j) {
  json& o = *j;
  o["Id"] = info.id;
  o["Status"] = StatementStatusName(info.status);
  o["CreatedAt"] = EpochSeconds(info.created_at);
  o["UpdatedAt"] = EpochSeconds(info.updated_at);
  o["QueryString"] = info.sql;
}

}  // namespace

double EpochSeconds(Timestamp t) {
  // Milliseconds are what AWS returns; more digits only add rounding noise to a double.
  return static_cast<double>(t.micros() / 1000) / 1000.0;
}

// What DescribeStatement and its SubStatements share: times, sizes (-1 until known), error.
json DescribedRun(const StatementInfo& info) {
  json j = json::object();
  AddStatementCommon(info, &j);
  const bool known = info.status == StatementStatus::kFinished && info.has_result_set;
  j["Duration"] = info.duration.micros() * 1000;
  j["HasResultSet"] = info.has_result_set;
  j["ResultRows"] = known ? info.result_rows : -1;
  j["ResultSize"] = known ? info.result_bytes : -1;
  j["RedshiftQueryId"] = 0;
  if (!info.error.empty()) j["Error"] = info.error;
  return j;
}

json DescribeStatementJson(const StatementInfo& info) {
  json j = DescribedRun(info);
  j["RedshiftPid"] = 0;
  j["WorkgroupName"] = info.workgroup;
  if (info.is_batch) {
    j["SubStatements"] = json::array();
    for (const auto& sub : info.sub_statements) j["SubStatements"].push_back(DescribedRun(sub));
  }
  return j;
}

json StatementDataJson(const StatementInfo& info) {
  json j = json::object();
  AddStatementCommon(info, &j);
  j["IsBatchStatement"] = info.is_batch;
  if (!info.name.empty()) j["StatementName"] = info.name;
  if (info.is_batch) {
    j.erase("QueryString");
    j["QueryStrings"] = json::array();
    for (const auto& sub : info.sub_statements) j["QueryStrings"].push_back(sub.sql);
  }
  return j;
}

std::string RedshiftTypeName(std::string_view duckdb_type) {
  const std::string t = Upper(duckdb_type);
  static const std::pair<const char*, const char*> kNames[] = {
      {"BOOLEAN", "bool"},     {"TINYINT", "int2"},     {"SMALLINT", "int2"},   {"UTINYINT", "int2"},
      {"INTEGER", "int4"},     {"USMALLINT", "int4"},   {"BIGINT", "int8"},     {"UINTEGER", "int8"},
      {"UBIGINT", "numeric"},  {"HUGEINT", "numeric"},  {"UHUGEINT", "numeric"}, {"FLOAT", "float4"},
      {"DOUBLE", "float8"},    {"VARCHAR", "varchar"},  {"DATE", "date"},       {"TIME", "time"},
      {"TIMESTAMP", "timestamp"}, {"TIMESTAMP WITH TIME ZONE", "timestamptz"}, {"BLOB", "varbyte"},
      {"INTERVAL", "interval"},
  };
  for (const auto& [duck, redshift] : kNames)
    if (t == duck) return redshift;
  if (StartsWith(t, "DECIMAL")) return "numeric";
  if (StartsWith(t, "TIMESTAMP")) return "timestamp";
  std::string lower(duckdb_type);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

json ColumnMetadataJson(const ResultColumn& column, const std::string& schema, const std::string& table) {
  const std::string type = RedshiftTypeName(column.type);
  int precision = 0, scale = 0;
  if (type == "int2") precision = 5;
  else if (type == "int4") precision = 10;
  else if (type == "int8") precision = 19;
  else if (type == "float4") precision = 8, scale = 8;
  else if (type == "float8") precision = 17, scale = 17;
  else if (type == "bool") precision = 1;
  else if (type == "varchar") precision = 65535;
  else if (type == "timestamp" || type == "timestamptz") precision = 29, scale = 6;
  else if (type == "date") precision = 13;
  else if (type == "numeric") {
    precision = 38;
    // "DECIMAL(18,3)"
    if (const size_t open = column.type.find('('); open != std::string::npos)
      if (std::sscanf(column.type.c_str() + open, "(%d,%d)", &precision, &scale) < 1) precision = 38;
  }
  const bool is_signed = type == "int2" || type == "int4" || type == "int8" || type == "float4" ||
                         type == "float8" || type == "numeric";
  return {{"name", column.name},        {"label", column.name},
          {"typeName", type},           {"nullable", 1},
          {"isSigned", is_signed},      {"isCaseSensitive", type == "varchar"},
          {"isCurrency", false},        {"precision", precision},
          {"scale", scale},             {"length", 0},
          {"schemaName", schema},       {"tableName", table}};
}

Result<std::string> FieldRecords(std::string_view page_records, const std::vector<ResultColumn>& columns) {
  std::vector<FieldKind> kinds;
  for (const auto& c : columns) kinds.push_back(KindOf(c.type));
  std::string out;
  FieldWriter writer(kinds, &out);
  const std::string page = "[" + std::string(page_records) + "]";
  if (!json::sax_parse(page, &writer)) return Status(StatusCode::kCorruption, "a stored result page is not what was written");
  return out;
}

}  // namespace fleetlog
