// Prints DuckDB query results in fleetlog's output formats (core/grid.h: the rules, and the
// Grid that other commands print).
// Thread-safety: pure functions over the result they are given.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/grid.h"
#include "core/status.h"
#include "duck/duck.h"

namespace fleetlog {

// Prints `result` as WriteGrid prints a Grid: the same table, CSV and JSON.
void WriteResult(duck::QueryResult& result, OutputFormat format, std::ostream& out, const FormatOptions& options = {});

// Appends row `row` of `result` as one JSON array (no newline): numbers and booleans bare
// (NaN and infinities as null), NULL as null, everything else as a string of DuckDB's text.
// `types` holds result.column_type(c) for every column.
void AppendRowJson(duck::QueryResult& result, size_t row, const std::vector<duckdb_type>& types, std::string* out);

// True for DuckDB types that JSON writes as bare numbers.
bool IsNumericType(duckdb_type type);

}  // namespace fleetlog
