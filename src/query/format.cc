#include "query/format.h"

#include <algorithm>
#include <vector>

#include "core/text.h"

namespace fleetlog {
namespace {

void WriteTable(duck::QueryResult& r, std::ostream& out) {
  const size_t cols = r.column_count(), rows = r.row_count();
  std::vector<Grid::Column> columns(cols);
  for (size_t c = 0; c < cols; ++c) columns[c] = {r.column_name(c), IsNumericType(r.column_type(c))};
  std::vector<std::vector<std::string>> cells(rows, std::vector<std::string>(cols));
  for (size_t row = 0; row < rows; ++row)
    for (size_t c = 0; c < cols; ++c)
      if (!r.is_null(c, row)) cells[row][c] = ForDisplay(r.text(c, row));
  WriteTextTable(columns, cells, out);
}

void WriteCsv(duck::QueryResult& r, std::ostream& out, const char* line_end) {
  const size_t cols = r.column_count(), rows = r.row_count();
  std::string line;
  for (size_t c = 0; c < cols; ++c) {
    if (c) line += ',';
    AppendCsvField(&line, r.column_name(c));
  }
  out << line << line_end;
  for (size_t row = 0; row < rows; ++row) {
    line.clear();
    for (size_t c = 0; c < cols; ++c) {
      if (c) line += ',';
      // An empty string is quoted ("") so that it differs from NULL (nothing).
      if (!r.is_null(c, row)) AppendCsvField(&line, r.text(c, row));
    }
    out << line << line_end;
  }
}

void WriteJson(duck::QueryResult& r, std::ostream& out) {
  const size_t cols = r.column_count(), rows = r.row_count();
  std::vector<std::string> keys(cols);
  std::vector<duckdb_type> types(cols);
  for (size_t c = 0; c < cols; ++c) {
    AppendJsonString(&keys[c], r.column_name(c));
    types[c] = r.column_type(c);
  }
  out << "[";
  std::string obj;
  for (size_t row = 0; row < rows; ++row) {
    obj = row ? ",\n{" : "\n{";
    for (size_t c = 0; c < cols; ++c) {
      obj += (c ? "," : "") + keys[c] + ":";
      if (r.is_null(c, row)) obj += "null";
      else if (IsNumericType(types[c]) || types[c] == DUCKDB_TYPE_BOOLEAN) {
        std::string v = r.text(c, row);
        obj += (v == "nan" || v == "inf" || v == "-inf") ? "null" : v;
      } else AppendJsonString(&obj, r.text(c, row));
    }
    out << obj << "}";
  }
  out << (rows ? "\n]\n" : "]\n");
}

}  // namespace

bool IsNumericType(duckdb_type type) {
  switch (type) {
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
      return true;
    default:
      return false;
  }
}

void WriteResult(duck::QueryResult& result, OutputFormat format, std::ostream& out, const FormatOptions& options) {
  switch (format) {
    case OutputFormat::kTable: return WriteTable(result, out);
    case OutputFormat::kCsv: return WriteCsv(result, out, options.csv_line_end);
    case OutputFormat::kJson: return WriteJson(result, out);
  }
}

void AppendRowJson(duck::QueryResult& r, size_t row, const std::vector<duckdb_type>& types, std::string* out) {
  *out += '[';
  for (size_t col = 0; col < types.size(); ++col) {
    if (col) *out += ',';
    if (r.is_null(col, row)) {
      *out += "null";
    } else if (IsNumericType(types[col]) || types[col] == DUCKDB_TYPE_BOOLEAN) {
      const std::string v = r.text(col, row);
      *out += (v == "nan" || v == "inf" || v == "-inf" || v.empty()) ? "null" : v;
    } else {
      AppendJsonString(out, r.text(col, row));
    }
  }
  *out += ']';
}

}  // namespace fleetlog
