#include "query/format.h"

#include <algorithm>
#include <vector>

#include "core/text.h"

namespace fleetlog {
namespace {

// Display width in code points (good enough for aligned columns of mostly-ASCII logs).
size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string ForDisplay(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

void WriteTable(duck::QueryResult& r, std::ostream& out) {
  const size_t cols = r.column_count(), rows = r.row_count();
  std::vector<std::vector<std::string>> cells(rows, std::vector<std::string>(cols));
  std::vector<size_t> width(cols);
  std::vector<bool> right(cols);
  for (size_t c = 0; c < cols; ++c) {
    width[c] = Width(r.column_name(c));
    right[c] = IsNumericType(r.column_type(c));
  }
  for (size_t row = 0; row < rows; ++row)
    for (size_t c = 0; c < cols; ++c) {
      if (!r.is_null(c, row)) cells[row][c] = ForDisplay(r.text(c, row));
      width[c] = std::max(width[c], Width(cells[row][c]));
    }
  const auto pad = [&](const std::string& s, size_t c) {
    const std::string fill(width[c] - Width(s), ' ');
    return right[c] ? fill + s : s + fill;
  };
  std::string line;
  for (size_t c = 0; c < cols; ++c) line += (c ? " | " : " ") + pad(r.column_name(c), c);
  out << line << "\n";
  line.clear();
  for (size_t c = 0; c < cols; ++c) line += (c ? "-+-" : "-") + std::string(width[c], '-');
  out << line << "-\n";
  for (size_t row = 0; row < rows; ++row) {
    line.clear();
    for (size_t c = 0; c < cols; ++c) line += (c ? " | " : " ") + pad(cells[row][c], c);
    out << line << "\n";
  }
  out << "(" << rows << (rows == 1 ? " row)\n" : " rows)\n");
}

void AppendCsvField(std::string* out, const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos && !s.empty()) {
    *out += s;
    return;
  }
  *out += '"';
  for (char c : s) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

void WriteCsv(duck::QueryResult& r, std::ostream& out) {
  const size_t cols = r.column_count(), rows = r.row_count();
  std::string line;
  for (size_t c = 0; c < cols; ++c) {
    if (c) line += ',';
    AppendCsvField(&line, r.column_name(c));
  }
  out << line << "\r\n";
  for (size_t row = 0; row < rows; ++row) {
    line.clear();
    for (size_t c = 0; c < cols; ++c) {
      if (c) line += ',';
      // An empty string is quoted ("") so that it differs from NULL (nothing).
      if (!r.is_null(c, row)) AppendCsvField(&line, r.text(c, row));
    }
    out << line << "\r\n";
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

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  return InvalidArgument("unknown format \"{}\" (use table, csv or json)", name);
}

bool IsNumericType(duckdb_type type) {
  switch (type) {
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE: case DUCKDB_TYPE_DECIMAL:
      return true;
    default:
      return false;
  }
}

void WriteResult(duck::QueryResult& result, OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kTable: return WriteTable(result, out);
    case OutputFormat::kCsv: return WriteCsv(result, out);
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
