// The one place where fleetlog reads SQL text itself: a lexer with DuckDB's (PostgreSQL's)
// lexical rules, for what fleetlog must find in SQL without running it — the :name
// parameters it binds, the names a statement mentions (to choose which views to create),
// and the shape of a purge predicate. What a statement may do or read is never decided
// here: DuckDB's own parser decides that.
//
// Rules followed (DuckDB lexes the same text the same way):
//   -- comments to the end of the line; /* */ comments, nested;
//   'strings' with '' for a quote; E'strings' with backslash escapes (E or e, not part of a
//   longer word); $$dollar$$ and $tag$dollar$tag$ strings;
//   "quoted identifiers" with "" for a quote;
//   identifiers: a letter, _ or any byte >= 0x80, then those, digits and $;
//   $1 / $name prepared-statement parameters; :name (fleetlog's parameters) where the
//   colon is not part of a :: cast; numbers; everything else one character at a time.
// An unterminated string, quoted identifier or comment runs to the end of the text and is
// marked so (DuckDB reports it when the text runs).
// Thread-safety: pure functions.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fleetlog {

struct SqlToken {
  enum class Kind {
    kIdentifier,        // value: the identifier as written
    kQuotedIdentifier,  // value: the name, quotes removed and "" undone
    kString,            // value: the text as written, quotes included
    kComment,
    kParameter,         // :name; value: the name
    kDollarParameter,   // $1 or $name (DuckDB's own)
    kNumber,
    kSpace,
    kSymbol,            // one character: ( ) ; , . : * + - ...
  };
  Kind kind = Kind::kSymbol;
  size_t begin = 0, end = 0;  // [begin, end) in the text
  std::string value;
  bool unterminated = false;  // a string, quoted identifier or comment the text never closes
};

// Splits `sql` into tokens that cover it, in order, without gaps.
std::vector<SqlToken> LexSql(std::string_view sql);

// The words, in lower case, of every identifier, quoted identifier and string of `sql`
// (runs of letters, digits and _): every name a statement can reach a table by, whether
// bare, quoted, qualified or in a string such as a file path. Comments do not count.
std::set<std::string> LowerWords(std::string_view sql);

}  // namespace fleetlog
