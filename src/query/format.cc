#include "query/format.h"

#include <algorithm>
#include <vector>

#include "core/text.h"

namespace fleetlog {
namespace {

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

// Cells already turned into display text; NULL is empty.
void WriteTextTable(const std::vector<Grid::Column>& columns, const std::vector<std::vector<std::string>>& cells,
                    std::ostream& out) {
  const size_t cols = columns.size();
  std::vector<size_t> width(cols);
  for (size_t c = 0; c < cols; ++c) width[c] = DisplayWidth(columns[c].name);
  for (const auto& row : cells)
    for (size_t c = 0; c < cols; ++c) width[c] = std::max(width[c], DisplayWidth(row[c]));
  const auto pad = [&](const std::string& s, size_t c) {
    const std::string fill(width[c] - DisplayWidth(s), ' ');
    return columns[c].numeric ? fill + s : s + fill;
  };
  std::string line;
  for (size_t c = 0; c < cols; ++c) line += (c ? " | " : " ") + pad(columns[c].name, c);
  out << line << "\n";
  line.clear();
  for (size_t c = 0; c < cols; ++c) line += (c ? "-+-" : "-") + std::string(width[c], '-');
  out << line << "-\n";
  for (const auto& row : cells) {
    line.clear();
    for (size_t c = 0; c < cols; ++c) line += (c ? " | " : " ") + pad(row[c], c);
    out << line << "\n";
  }
  out << "(" << cells.size() << (cells.size() == 1 ? " row)\n" : " rows)\n");
}

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

void WriteGrid(const Grid& grid, OutputFormat format, std::ostream& out, const FormatOptions& options) {
  const size_t cols = grid.columns.size();
  std::string line;
  switch (format) {
    case OutputFormat::kTable: {
      std::vector<std::vector<std::string>> cells;
      for (const auto& row : grid.rows) {
        auto& display = cells.emplace_back(cols);
        for (size_t c = 0; c < cols; ++c)
          if (row[c]) display[c] = ForDisplay(*row[c]);
      }
      return WriteTextTable(grid.columns, cells, out);
    }
    case OutputFormat::kCsv:
      for (size_t c = 0; c < cols; ++c) {
        if (c) line += ',';
        AppendCsvField(&line, grid.columns[c].name);
      }
      out << line << options.csv_line_end;
      for (const auto& row : grid.rows) {
        line.clear();
        for (size_t c = 0; c < cols; ++c) {
          if (c) line += ',';
          if (row[c]) AppendCsvField(&line, *row[c]);
        }
        out << line << options.csv_line_end;
      }
      return;
    case OutputFormat::kJson:
      out << "[";
      for (size_t r = 0; r < grid.rows.size(); ++r) {
        line = r ? ",\n{" : "\n{";
        for (size_t c = 0; c < cols; ++c) {
          if (c) line += ',';
          AppendJsonString(&line, grid.columns[c].name);
          line += ':';
          const auto& v = grid.rows[r][c];
          if (!v) line += "null";
          else if (grid.columns[c].numeric) line += *v;
          else AppendJsonString(&line, *v);
        }
        out << line << "}";
      }
      out << (grid.rows.empty() ? "]\n" : "\n]\n");
      return;
  }
}

}  // namespace fleetlog
