// File pruning: which of a table's committed files a statement can need, decided before
// DuckDB opens any of them, from the ranges the catalog keeps per file — of the table's
// cursor column (CommittedFile::min_cursor, max_cursor) and of its id columns (query and
// transaction ids, CommittedFile::id_ranges; lake/lake_writer.h IdRangeColumns) and each
// file's cluster — and the statement's own filters as DuckDB parses them
// (json_serialize_sql; never a scanner of fleetlog's).
//
// A table's files are narrowed only when every reference to it in the statement is bounded:
// an item of a FROM clause whose SELECT filters it in its WHERE with top-level AND-ed
// conditions on those columns against constants (literals, casts, + and -; no function of
// the clock): =, <, <=, >, >=, BETWEEN and IN (a list); a cluster by = and IN against
// plain text literals only (no COLLATE, no ranges); or joined by an equality of columns to
// another table, whose narrowed files then bound it (JoinKey). A reference to one of the engine's
// helper or fleet views (stl_querytext_full, fleet_queries, ...) counts as a reference to
// each table the view reads, bounded by the view's filters on the columns that the view
// passes through unchanged from that table (ViewPassThrough); any other table the view reads
// is unbounded. The files kept are those whose ranges meet the bounds of at least one
// reference. Anything else keeps every file of the table: a table function, an OR, NOT IN,
// a bound that is not constant, a statement DuckDB will not serialise (EXPLAIN, ...).
// A file whose range of a column is unknown is never skipped by that column. When in doubt,
// the file is kept.
// Thread-safety: functions over their arguments; `conn` is used from the calling thread.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"
#include "state/state_store.h"

namespace fleetlog {

// A closed interval of a column's values: microseconds since the epoch for a cursor column,
// the value itself for an id column.
struct ValueInterval {
  int64_t lo = std::numeric_limits<int64_t>::min();
  int64_t hi = std::numeric_limits<int64_t>::max();
  bool operator==(const ValueInterval&) const = default;
};
// The values a reference can read in one column: a union of intervals, sorted and apart.
// Empty: none at all (`query = NULL`, `query IN (1) AND query = 2`).
using ValueSet = std::vector<ValueInterval>;

// A column of one reference whose every row that reaches the statement's result has a
// partner in another table with the same value in a column of its own: an equality of
// column references in an inner join, on the side of an outer join that keeps only matched
// rows, or in the WHERE. The reference then needs only the values the other table's files
// (as they are narrowed for the statement) can hold. Both columns lower case.
struct JoinKey {
  std::string column;
  std::string other_table, other_column;
  bool operator==(const JoinKey&) const = default;
};

// What one reference can read.
struct ReferenceBounds {
  // Column of the table -> the values it may read there. A column absent: any value.
  std::map<std::string, ValueSet> ranges;
  // The clusters it may read (`cluster = 'a'`, `cluster IN (...)`); nullopt: any.
  std::optional<std::set<std::string>> clusters;
  std::vector<JoinKey> joins;
  bool bounds_anything() const { return !ranges.empty() || clusters.has_value() || !joins.empty(); }
};

struct StatementRanges {
  // Table (lower case) -> the bounds of each of its references; present only for tables all
  // of whose references are bounded as the header says.
  std::map<std::string, std::vector<ReferenceBounds>> bounded;
  // Every name a FROM item of the statement reads (tables, views, CTEs), lower case.
  std::set<std::string> names;
  // The names of the statement's own CTEs, lower case.
  std::set<std::string> ctes;
  // The statement calls a table function (query_table, read_parquet, ...): prune nothing.
  bool table_function = false;
  // DuckDB serialised the statement (a SELECT), so `names` and `table_function` say what it
  // reads; false for any other statement (EXPLAIN, DESCRIBE, ...): then nothing is known.
  bool parsed = false;
};

// What `sql` (one statement) bounds, for the tables whose cursor column is given in
// `cursor_columns` (table -> column) and for every table by its id columns. A statement
// DuckDB cannot serialise has no bounds. `conn` evaluates the constant bounds: it must be
// able to run json_serialize_sql and constant SELECTs (a locked-down engine's can).
StatementRanges RangesOf(duck::Connection& conn, const std::string& sql,
                         const std::map<std::string, std::string>& cursor_columns);

// The files among `files` (of one table whose cursor column is `cursor_column`, empty when
// none) that one of `references` can need, by their ranges and clusters (their joins are
// PruneTables' to resolve). No references keeps nothing: the table has none.
std::vector<const CommittedFile*> PruneFiles(const std::vector<const CommittedFile*>& files,
                                             const std::string& cursor_column,
                                             const std::vector<ReferenceBounds>& references);

// The files to read of each table of `tables` (table -> its files) that `ranges` bounds;
// tables absent from the answer keep every file. Each table's list also keeps one file of
// each set of columns its files have, so that a narrowed view has the whole view's columns
// and is never empty. Tables bounded only by their own filters are narrowed first; a join
// then takes the values of the other table's files as they are narrowed (all of them when
// that table is not), and a join to a name that is not one of `tables`, or that the
// statement defines itself (a CTE), bounds nothing.
std::map<std::string, std::vector<const CommittedFile*>> PruneTables(
    const std::map<std::string, std::vector<const CommittedFile*>>& tables,
    const std::map<std::string, std::string>& cursor_columns, const StatementRanges& ranges);

// The columns a helper or fleet view passes through from one table it reads: view column ->
// table column, where the view's rows with a value in the view column come exactly from the
// table's rows with that value (a projection or a GROUP BY key, not an aggregate).
struct ViewPassThrough {
  std::string view, table;
  std::map<std::string, std::string> columns;
};
const std::vector<ViewPassThrough>& ViewPassThroughs();

}  // namespace fleetlog
