// Prints rows in fleetlog's three output formats: an aligned table for people, CSV (RFC 4180)
// and JSON for programs. `query` prints DuckDB results with the same rules (query/format.h);
// the other commands and `query --server` print a Grid.
// Thread-safety: pure functions over what they are given.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace fleetlog {

enum class OutputFormat { kTable, kCsv, kJson };
Result<OutputFormat> ParseOutputFormat(std::string_view name);

// What `query` prints when no format is asked for, locally and with --server alike: an
// aligned table for people at a terminal, CSV for the next program when stdout is a pipe.
OutputFormat QueryFormatForStdout();

struct FormatOptions {
  const char* csv_line_end = "\n";  // "\r\n" for RFC 4180 line ends

  // The options --crlf sets (or leaves at LF).
  static FormatOptions Crlf(bool crlf) { return {.csv_line_end = crlf ? "\r\n" : "\n"}; }
};

// Rows a command prints (status, runs, a remote query's result...).
struct Grid {
  struct Column {
    std::string name;
    bool numeric = false;  // aligned right in a table, a bare number in JSON
    bool boolean = false;  // a bare true or false in JSON
  };
  std::vector<Column> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt: NULL
};

// table: header, rule, rows, and a "(N rows)" footer; NULL prints as empty; columns are as
// wide as their widest value on a terminal (DisplayWidth), numbers aligned right.
// csv: a header line, then rows; NULL is an empty field, an empty text is "", text is quoted
// when it must be.
// json: an array of objects, one per row; numbers and booleans as JSON values, NULL as null.
void WriteGrid(const Grid& grid, OutputFormat format, std::ostream& out, const FormatOptions& options = {});

// The pieces the formats share, for printers that stream their rows.
// A value as a table cell: newlines, tabs and carriage returns shown as \n, \t, \r.
std::string ForDisplay(std::string_view s);
// Appends `s` as one CSV field (quoted when it is empty or holds a comma, quote or line end).
void AppendCsvField(std::string* out, std::string_view s);
// Writes a table of cells already turned into display text (NULL is empty).
void WriteTextTable(const std::vector<Grid::Column>& columns, const std::vector<std::vector<std::string>>& cells,
                    std::ostream& out);

}  // namespace fleetlog
