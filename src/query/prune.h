// File pruning: which of a table's committed files a statement can need, decided before
// DuckDB opens any of them, from the range of the table's cursor column that the catalog
// keeps per file (CommittedFile::min_cursor, max_cursor) and the statement's own filters as
// DuckDB parses them (json_serialize_sql; never a scanner of fleetlog's).
//
// A table's files are narrowed only when every reference to it in the statement is an item
// of a FROM clause whose SELECT filters it in its WHERE with top-level AND-ed comparisons of
// the cursor column against constants (literals, casts, + and -; no function of the clock).
// The files kept are those whose range meets the range of at least one reference. Anything
// else keeps every file of the table: a reference through a view or a table function, an
// OR, a bound that is not constant, a statement DuckDB will not serialise (EXPLAIN, ...).
// Files whose range is unknown are always kept. When in doubt, the file is kept.
// Thread-safety: functions over their arguments; `conn` is used from the calling thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"
#include "state/state_store.h"

namespace fleetlog {

// Bounds on a cursor column, inclusive, in microseconds since the epoch; unset: open.
struct CursorRange {
  std::optional<int64_t> lower, upper;
};

struct StatementRanges {
  // Table (lower case) -> the range of each of its references; present only for tables
  // all of whose references are bounded as the header says.
  std::map<std::string, std::vector<CursorRange>> bounded;
  // Every name a FROM item of the statement reads (tables, views, CTEs), lower case.
  std::set<std::string> names;
  // The statement calls a table function (query_table, read_parquet, ...): prune nothing.
  bool table_function = false;
};

// What `sql` (one statement) bounds, for tables whose cursor column is given in
// `cursor_columns` (table -> column). A statement DuckDB cannot serialise has no bounds.
// `conn` evaluates the constant bounds; it must not be locked down yet or be able to run
// json_serialize_sql and constant SELECTs.
StatementRanges RangesOf(duck::Connection& conn, const std::string& sql,
                         const std::map<std::string, std::string>& cursor_columns);

// The files among `files` that one of `ranges` can need (all of them when a file's range is
// unknown). An empty `ranges` keeps nothing: the table has no reference.
std::vector<const CommittedFile*> PruneFiles(const std::vector<const CommittedFile*>& files,
                                             const std::vector<CursorRange>& ranges);

}  // namespace fleetlog
