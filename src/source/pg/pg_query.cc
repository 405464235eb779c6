// The window bounds are rendered as literals rather than bound as parameters: they go into a
// DECLARE CURSOR, and bound parameters there are not portable across the servers that speak
// the PostgreSQL protocol. A formatted timestamp holds nothing but digits, '-', ':', '.' and
// a blank, so the literal cannot break out of its quotes.
#include "source/pg/pg_query.h"

#include "source/source.h"

namespace fleetlog {
namespace {

std::string TimestampLiteral(Timestamp t) { return fmt::format("'{}'::timestamp", FormatTimestamp(t)); }

// `column` >= lower AND `column` < upper, the half-open window of DESIGN.md.
std::string WindowCondition(std::string_view column, Timestamp lower, Timestamp upper) {
  const std::string quoted = QuotePgIdentifier(column);
  return fmt::format("{0} >= {1} AND {0} < {2}", quoted, TimestampLiteral(lower), TimestampLiteral(upper));
}

// A user's query may end with blanks and a semicolon, which cannot sit inside a subquery
// (it is wrapped on lines of its own, so a trailing "-- comment" is harmless).
std::string_view WithoutTrailingSemicolons(std::string_view sql) {
  while (!sql.empty() && (sql.back() == ';' || sql.back() == ' ' || sql.back() == '\n' || sql.back() == '\t' ||
                          sql.back() == '\r'))
    sql.remove_suffix(1);
  return sql;
}

// " AND (filter)" for a spec's row filter, or nothing.
std::string AndFilter(const std::string& filter) { return filter.empty() ? "" : fmt::format(" AND ({})", filter); }

}  // namespace

std::string QuotePgIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Result<std::string> RenderWindowSelect(const TableSpec& spec, Timestamp lower, Timestamp upper) {
  if (!spec.parent.empty()) {
    if (spec.parent_key.empty() || spec.parent_cursor.empty())
      return InvalidArgument("table {}: a parent table needs parent_key and parent_cursor", spec.name);
    // One row per parent key: should a query appear twice in the parent, its children must
    // still come once each, carrying the latest cursor value.
    const std::string key = QuotePgIdentifier(spec.parent_key);
    const std::string cursor = QuotePgIdentifier(spec.parent_cursor);
    return fmt::format(
        "SELECT t.*, p.{1} AS {2} FROM {3} t JOIN (SELECT {0}, MAX({1}) AS {1} FROM {4} WHERE {5}{6} GROUP BY {0}) p "
        "ON p.{0} = t.{0}",
        key, cursor, QuotePgIdentifier(kPartitionColumn), QuotePgIdentifier(spec.name),
        QuotePgIdentifier(spec.parent), WindowCondition(spec.parent_cursor, lower, upper), AndFilter(spec.parent_filter));
  }
  if (spec.cursor.empty()) return InvalidArgument("table {}: no cursor column to select a window by", spec.name);
  if (!spec.sql.empty())
    return fmt::format("SELECT * FROM (\n{}\n) AS fleetlog_custom WHERE {}", WithoutTrailingSemicolons(spec.sql),
                       WindowCondition(spec.cursor, lower, upper));
  return fmt::format("SELECT * FROM {} WHERE {}{}", QuotePgIdentifier(spec.name),
                     WindowCondition(spec.cursor, lower, upper), AndFilter(spec.filter));
}

}  // namespace fleetlog
