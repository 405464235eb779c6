#include "core/row_batch.h"

#include <algorithm>

namespace fleetlog {

const char* ColumnTypeSql(ColumnType type) {
  switch (type) {
    case ColumnType::kInt32: return "INTEGER";
    case ColumnType::kInt64: return "BIGINT";
    case ColumnType::kDouble: return "DOUBLE";
    case ColumnType::kBool: return "BOOLEAN";
    case ColumnType::kTimestamp: return "TIMESTAMP";
    case ColumnType::kVarchar: return "VARCHAR";
  }
  return "VARCHAR";
}

Result<ColumnType> ColumnTypeFromSql(std::string_view sql) {
  for (auto t : {ColumnType::kInt32, ColumnType::kInt64, ColumnType::kDouble, ColumnType::kBool, ColumnType::kTimestamp,
                 ColumnType::kVarchar})
    if (sql == ColumnTypeSql(t)) return t;
  return InvalidArgument("unknown column type \"{}\"", sql);
}

std::string SchemaToText(const TableSchema& schema) {
  std::string out;
  for (const auto& c : schema) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", c.name, ColumnTypeSql(c.type));
  return out;
}

Result<TableSchema> SchemaFromText(std::string_view text) {
  TableSchema schema;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(", ", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    const size_t space = item.rfind(' ');
    if (space == std::string_view::npos) return InvalidArgument("bad schema entry \"{}\"", item);
    ASSIGN_OR_RETURN(ColumnType type, ColumnTypeFromSql(item.substr(space + 1)));
    schema.push_back({std::string(item.substr(0, space)), type});
    pos = end + 2;
  }
  return schema;
}

int FindColumn(const TableSchema& schema, std::string_view name) {
  for (size_t i = 0; i < schema.size(); ++i)
    if (schema[i].name == name) return static_cast<int>(i);
  return -1;
}

void Column::Reserve(size_t n) {
  valid.reserve(n);
  if (type == ColumnType::kVarchar) strings.reserve(n);
  else if (type == ColumnType::kDouble) doubles.reserve(n);
  else ints.reserve(n);
}

void Column::AppendNull() {
  valid.push_back(0);
  if (type == ColumnType::kVarchar) strings.emplace_back();
  else if (type == ColumnType::kDouble) doubles.push_back(0);
  else ints.push_back(0);
}
void Column::AppendInt(int64_t v) {
  valid.push_back(1);
  ints.push_back(v);
}
void Column::AppendDouble(double v) {
  valid.push_back(1);
  doubles.push_back(v);
}
void Column::AppendString(std::string v) {
  valid.push_back(1);
  strings.push_back(std::move(v));
}
void Column::Clear() {
  ints.clear();
  doubles.clear();
  strings.clear();
  valid.clear();
}

RowBatch::RowBatch(TableSchema schema) : schema_(std::move(schema)) {
  columns_.resize(schema_.size());
  for (size_t i = 0; i < schema_.size(); ++i) columns_[i].type = schema_[i].type;
}

void RowBatch::Clear() {
  for (auto& c : columns_) c.Clear();
  partition_ts_.clear();
}

size_t RowBatch::ApproxBytes() const {
  size_t bytes = partition_ts_.capacity() * 8;
  for (const auto& c : columns_) {
    bytes += c.valid.capacity() + c.ints.capacity() * 8 + c.doubles.capacity() * 8 + c.strings.capacity() * sizeof(std::string);
    for (const auto& s : c.strings) bytes += s.capacity() > 15 ? s.capacity() : 0;
  }
  return bytes;
}

}  // namespace fleetlog
