// Prints query results: an aligned table for people, CSV (RFC 4180) and JSON for programs.
// Thread-safety: pure functions over the result they are given.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"

namespace fleetlog {

enum class OutputFormat { kTable, kCsv, kJson };
Result<OutputFormat> ParseOutputFormat(std::string_view name);

// table: header, rule, rows, and a "(N rows)" footer; NULL prints as empty.
// csv: a header line, then rows; NULL is an empty field, text is quoted when it must be.
// json: an array of objects, one per row; numbers and booleans as JSON values, NULL as null.
void WriteResult(duck::QueryResult& result, OutputFormat format, std::ostream& out);

// Appends row `row` of `result` as one JSON array (no newline): numbers and booleans bare
// (NaN and infinities as null), NULL as null, everything else as a string of DuckDB's text.
// `types` holds result.column_type(c) for every column.
void AppendRowJson(duck::QueryResult& result, size_t row, const std::vector<duckdb_type>& types, std::string* out);

// True for DuckDB types that JSON writes as bare numbers.
bool IsNumericType(duckdb_type type);

}  // namespace fleetlog
