// Reading user SQL without running it: binding named :parameters as quoted literals, and
// finding which lake tables a statement names (for the workgroup's scan limit).
// Both scan the text the way DuckDB's lexer does for what matters here: 'strings' (with ''
// and E'\'' escapes), $tag$dollar strings$tag$, "quoted identifiers", -- and /* */ comments,
// and `::` casts are never mistaken for parameters or table names.
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

}  // namespace fleetlog
