// Prints query results: an aligned table for people, CSV (RFC 4180) and JSON for programs.
// Thread-safety: pure functions over the result they are given.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"

namespace fleetlog {

enum class OutputFormat { kTable, kCsv, kJson };
Result<OutputFormat> ParseOutputFormat(std::string_view name);

struct FormatOptions {
  const char* csv_line_end = "\n";  // "\r\n" for RFC 4180 line ends
};

// table: header, rule, rows, and a "(N rows)" footer; NULL prints as empty; columns are as
// wide as their widest value on a terminal (DisplayWidth), numbers aligned right.
// csv: a header line, then rows; NULL is an empty field, text is quoted when it must be.
// json: an array of objects, one per row; numbers and booleans as JSON values, NULL as null.
void WriteResult(duck::QueryResult& result, OutputFormat format, std::ostream& out, const FormatOptions& options = {});

// Rows a command prints (status, runs, issues...), written in the same three formats.
struct Grid {
  struct Column {
    std::string name;
    bool numeric = false;  // aligned right in a table, a bare number in JSON
  };
  std::vector<Column> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt: NULL
};
void WriteGrid(const Grid& grid, OutputFormat format, std::ostream& out, const FormatOptions& options = {});

// Appends row `row` of `result` as one JSON array (no newline): numbers and booleans bare
// (NaN and infinities as null), NULL as null, everything else as a string of DuckDB's text.
// `types` holds result.column_type(c) for every column.
void AppendRowJson(duck::QueryResult& result, size_t row, const std::vector<duckdb_type>& types, std::string* out);

// True for DuckDB types that JSON writes as bare numbers.
bool IsNumericType(duckdb_type type);

}  // namespace fleetlog
