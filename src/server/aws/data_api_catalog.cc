// The catalog operations of the Data API (ListDatabases, ListSchemas, ListTables,
// DescribeTable): the lake as one database with one schema, "public", holding the lake's
// tables and the text-reassembly views over them.
#include <algorithm>

#include "query/engine.h"
#include "server/api_json.h"
#include "server/aws/data_api.h"
#include "server/aws/data_api_shapes.h"
#include "server/aws/request_members.h"

namespace fleetlog {
namespace {

using nlohmann::json;

constexpr const char* kSchema = "public";
constexpr int kMaxCatalogResults = 1000;  // the model's MaxResults range for these calls

struct CatalogEntry {
  std::string name;
  const char* type;  // "TABLE" or "VIEW"
  std::vector<ResultColumn> columns;
};

// SQL LIKE: '%' any run, '_' any one character; an empty pattern matches everything.
bool Like(std::string_view text, std::string_view pattern) {
  if (pattern.empty()) return true;
  size_t t = 0, p = 0, star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '_' || pattern[p] == text[t])) {
      ++t, ++p;
    } else if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++, star_t = t;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1, t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

std::vector<CatalogEntry> Catalog(const std::vector<LakeTable>& tables) {
  std::vector<CatalogEntry> out;
  for (const auto& t : tables) {
    CatalogEntry e{.name = t.name, .type = "TABLE"};
    for (const auto& c : t.columns) e.columns.push_back({c.name, ColumnTypeSql(c.type)});
    e.columns.push_back({"cluster", "VARCHAR"});
    e.columns.push_back({"dt", "DATE"});
    out.push_back(std::move(e));
  }
  for (const auto& v : TextViews()) {
    auto base = std::find_if(tables.begin(), tables.end(), [&](const LakeTable& t) { return t.name == v.table; });
    if (base == tables.end()) continue;
    const auto type_of = [&](const std::string& column) -> std::string {
      if (column == "cluster") return "VARCHAR";
      const int i = FindColumn(base->columns, column);
      return i < 0 ? "INTEGER" : ColumnTypeSql(base->columns[static_cast<size_t>(i)].type);
    };
    CatalogEntry e{.name = v.view, .type = "VIEW"};
    std::string group = v.group;
    for (size_t pos = 0; pos < group.size();) {
      const size_t comma = group.find(',', pos);
      std::string column = group.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      column.erase(0, column.find_first_not_of(' '));
      e.columns.push_back({column, type_of(column)});
      pos = comma == std::string::npos ? group.size() : comma + 1;
    }
    e.columns.push_back({v.user, type_of(v.user)});
    e.columns.push_back({"text", "VARCHAR"});
    e.columns.push_back({"pieces", "BIGINT"});
    e.columns.push_back({"dt", "DATE"});
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

// One page of `items` from the offset NextToken names: [begin, end) and the next token.
struct Window {
  size_t begin = 0, end = 0;
  std::optional<std::string> next;
};
Result<Window> PageOf(size_t count, const json& in, int page_size) {
  ASSIGN_OR_RETURN(const std::string token, OptionalString(in, "NextToken"));
  Window w;
  if (!token.empty()) {
    auto offset = DecodeListToken(token);
    if (!offset.ok() || *offset > count) return InvalidArgument("NextToken is not one this call gave out");
    w.begin = static_cast<size_t>(*offset);
  }
  const size_t size = page_size > 0 ? static_cast<size_t>(page_size) : static_cast<size_t>(kMaxCatalogResults);
  w.end = std::min(count, w.begin + size);
  if (w.end < count) w.next = EncodeListToken(w.end);
  return w;
}

}  // namespace

DataApi::Reply DataApi::ListDatabases(const Principal&, const json& in) {
  const std::vector<std::string> names = {options_.config.database};
  auto size = PageSize(in, kMaxCatalogResults);
  if (!size.ok()) return Reply::Fail(AwsErrorFromStatus(size.status()));
  auto window = PageOf(names.size(), in, *size);
  if (!window.ok()) return Reply::Fail(AwsErrorFromStatus(window.status()));
  json out = {{"Databases", json::array()}};
  for (size_t i = window->begin; i < window->end; ++i) out["Databases"].push_back(names[i]);
  if (window->next) out["NextToken"] = *window->next;
  return Reply::Of(std::move(out));
}

DataApi::Reply DataApi::ListSchemas(const Principal&, const json& in) {
  auto pattern = OptionalString(in, "SchemaPattern");
  auto size = PageSize(in, kMaxCatalogResults);
  if (!pattern.ok()) return Reply::Fail(AwsErrorFromStatus(pattern.status()));
  if (!size.ok()) return Reply::Fail(AwsErrorFromStatus(size.status()));
  std::vector<std::string> names;
  if (Like(kSchema, *pattern)) names.push_back(kSchema);
  auto window = PageOf(names.size(), in, *size);
  if (!window.ok()) return Reply::Fail(AwsErrorFromStatus(window.status()));
  json out = {{"Schemas", json::array()}};
  for (size_t i = window->begin; i < window->end; ++i) out["Schemas"].push_back(names[i]);
  if (window->next) out["NextToken"] = *window->next;
  return Reply::Of(std::move(out));
}

DataApi::Reply DataApi::ListTables(const Principal&, const json& in) {
  auto schema_pattern = OptionalString(in, "SchemaPattern");
  auto table_pattern = OptionalString(in, "TablePattern");
  auto size = PageSize(in, kMaxCatalogResults);
  for (const Status* s : {&schema_pattern.status(), &table_pattern.status(), &size.status()})
    if (!s->ok()) return Reply::Fail(AwsErrorFromStatus(*s));
  auto tables = statements_.Tables();
  if (!tables.ok()) return Reply::Fail(AwsErrorFromStatus(tables.status()));
  std::vector<CatalogEntry> matching;
  if (Like(kSchema, *schema_pattern))
    for (auto& e : Catalog(*tables))
      if (Like(e.name, *table_pattern)) matching.push_back(std::move(e));
  auto window = PageOf(matching.size(), in, *size);
  if (!window.ok()) return Reply::Fail(AwsErrorFromStatus(window.status()));
  json out = {{"Tables", json::array()}};
  for (size_t i = window->begin; i < window->end; ++i)
    out["Tables"].push_back({{"name", matching[i].name}, {"schema", kSchema}, {"type", matching[i].type}});
  if (window->next) out["NextToken"] = *window->next;
  return Reply::Of(std::move(out));
}

DataApi::Reply DataApi::DescribeTable(const Principal&, const json& in) {
  auto schema = OptionalString(in, "Schema");
  auto table = OptionalString(in, "Table");
  auto size = PageSize(in, kMaxCatalogResults);
  for (const Status* s : {&schema.status(), &table.status(), &size.status()})
    if (!s->ok()) return Reply::Fail(AwsErrorFromStatus(*s));
  auto tables = statements_.Tables();
  if (!tables.ok()) return Reply::Fail(AwsErrorFromStatus(tables.status()));
  json columns = json::array();
  if (schema->empty() || *schema == kSchema)
    for (const auto& e : Catalog(*tables))
      if (table->empty() || e.name == *table)
        for (const auto& c : e.columns) columns.push_back(ColumnMetadataJson(c, kSchema, e.name));
  if (!table->empty() && columns.empty())
    return Reply::Fail(AwsError::NotFound(fmt::format("no table \"{}\" in schema \"{}\" of the lake", *table,
                                                      schema->empty() ? kSchema : *schema),
                                          *table));
  auto window = PageOf(columns.size(), in, *size);
  if (!window.ok()) return Reply::Fail(AwsErrorFromStatus(window.status()));
  json out = {{"ColumnList", json::array()}};
  for (size_t i = window->begin; i < window->end; ++i) out["ColumnList"].push_back(columns[i]);
  if (!table->empty()) out["TableName"] = *table;
  if (window->next) out["NextToken"] = *window->next;
  return Reply::Of(std::move(out));
}

}  // namespace fleetlog
