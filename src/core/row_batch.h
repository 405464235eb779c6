// Typed, columnar batches of rows: what sources produce and the lake writer consumes.
// Types follow the lake contract: INT -> INTEGER, BIGINT -> BIGINT, TIMESTAMP -> TIMESTAMP
// (µs), CHAR/VARCHAR -> VARCHAR, BOOL -> BOOLEAN, FLOAT -> DOUBLE.
// Thread-safety: plain values; hand a batch from one thread to another, do not share it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace fleetlog {

enum class ColumnType { kInt32, kInt64, kDouble, kBool, kTimestamp, kVarchar };
const char* ColumnTypeSql(ColumnType type);  // "INTEGER", "BIGINT", ...
Result<ColumnType> ColumnTypeFromSql(std::string_view sql);

struct ColumnSchema {
  std::string name;  // lower case
  ColumnType type = ColumnType::kVarchar;
  bool operator==(const ColumnSchema&) const = default;
};

using TableSchema = std::vector<ColumnSchema>;
// "name TYPE, name TYPE" and back; how schemas are kept in the state store.
std::string SchemaToText(const TableSchema& schema);
Result<TableSchema> SchemaFromText(std::string_view text);
// Index of `name` in `schema`, or -1.
int FindColumn(const TableSchema& schema, std::string_view name);

// One column of values. Integers, booleans and timestamps (µs) live in `ints`, doubles in
// `doubles`, text in `strings`; `valid[i]` is 0 for NULL.
struct Column {
  ColumnType type = ColumnType::kVarchar;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  std::vector<uint8_t> valid;

  size_t size() const { return valid.size(); }
  void Reserve(size_t n);
  void AppendNull();
  void AppendInt(int64_t v);
  void AppendDouble(double v);
  void AppendString(std::string v);
  void Clear();
};

class RowBatch {
 public:
  RowBatch() = default;
  explicit RowBatch(TableSchema schema);

  const TableSchema& schema() const { return schema_; }
  size_t rows() const { return columns_.empty() ? partition_ts_.size() : columns_[0].size(); }
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  // For tables with no time column of their own (stl_querytext, stl_explain): the
  // per-row timestamp that decides the row's `dt` partition. Empty when the schema's cursor
  // column decides.
  std::vector<int64_t>& partition_ts() { return partition_ts_; }
  const std::vector<int64_t>& partition_ts() const { return partition_ts_; }
  void Clear();
  // Approximate heap bytes held, for memory-bounded buffering.
  size_t ApproxBytes() const;

 private:
  TableSchema schema_;
  std::vector<Column> columns_;
  std::vector<int64_t> partition_ts_;
};

}  // namespace fleetlog
