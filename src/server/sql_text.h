// Reading user SQL without running it: binding named :parameters as quoted literals, and
// finding which lake tables a statement names (for the workgroup's scan limit).
// Both read the text through the one SQL lexer (query/sql_lexer.h, DuckDB's lexical rules):
// 'strings', E'strings', $tag$dollar strings$tag$, "quoted identifiers", -- and nested /* */
// comments, and `::` casts are never mistaken for parameters or table names.
// Thread-safety: pure functions.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace fleetlog {

// A parameter value as the API received it. Strings become quoted SQL literals; numbers
// must be a plain decimal or exponent literal; booleans TRUE/FALSE; null NULL.
struct SqlParameter {
  enum class Kind { kString, kNumber, kBool, kNull };
  std::string name;
  Kind kind = Kind::kString;
  std::string value;  // the string, the number's text, or "true"/"false"
};

// Replaces every :name in `sql` with the literal of the parameter of that name.
// Fails with kInvalidArgument (the API's 400) when a :name has no parameter, a parameter is
// not used, a name repeats or is not an identifier, a number is not a number, or a string
// holds a NUL byte. Never splices a raw value into the SQL.
Result<std::string> BindParameters(std::string_view sql, const std::vector<SqlParameter>& params);

// The names among `tables` that `sql` mentions as an identifier, quoted or not, compared
// case-insensitively as DuckDB resolves them; text inside strings and comments is ignored.
// A name in a column position counts too, so this is an upper bound on what a statement reads.
std::set<std::string> ReferencedNames(std::string_view sql, const std::vector<std::string>& tables);

}  // namespace fleetlog
