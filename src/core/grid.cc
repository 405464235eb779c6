#include "core/grid.h"

#include <unistd.h>

#include <algorithm>

#include "core/text.h"

namespace fleetlog {

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  return InvalidArgument("unknown format \"{}\" (use table, csv or json)", name);
}

OutputFormat QueryFormatForStdout() { return isatty(STDOUT_FILENO) ? OutputFormat::kTable : OutputFormat::kCsv; }

std::string ForDisplay(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else
      out += c;
  }
  return out;
}

void AppendCsvField(std::string* out, std::string_view s) {
  if (!s.empty() && s.find_first_of(",\"\r\n") == std::string_view::npos) {
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
          if (!v)
            line += "null";
          else if (grid.columns[c].numeric || grid.columns[c].boolean)
            line += *v;
          else
            AppendJsonString(&line, *v);
        }
        out << line << "}";
      }
      out << (grid.rows.empty() ? "]\n" : "\n]\n");
      return;
  }
}

}  // namespace fleetlog
