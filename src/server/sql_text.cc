#include "server/sql_text.h"

#include <algorithm>
#include <map>
#include <regex>

#include "core/text.h"
#include "duck/duck.h"
#include "query/sql_lexer.h"

namespace fleetlog {
namespace {

Result<std::string> Literal(const SqlParameter& p) {
  switch (p.kind) {
    case SqlParameter::Kind::kNull: return std::string("NULL");
    case SqlParameter::Kind::kBool: return std::string(p.value == "true" ? "TRUE" : "FALSE");
    case SqlParameter::Kind::kNumber: {
      static const std::regex kNumber(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
      if (!std::regex_match(p.value, kNumber))
        return InvalidArgument("parameter \"{}\": \"{}\" is not a number", p.name, p.value);
      // Parenthesised so that "- :n" with a negative n cannot become a "--" comment.
      return p.value[0] == '-' ? "(" + p.value + ")" : p.value;
    }
    case SqlParameter::Kind::kString:
      if (p.value.find('\0') != std::string::npos)
        return InvalidArgument("parameter \"{}\" holds a NUL byte, which SQL text cannot carry", p.name);
      return duck::QuoteString(p.value);
  }
  return Internal("unknown parameter kind");
}

}  // namespace

Result<std::string> BindParameters(std::string_view sql, const std::vector<SqlParameter>& params) {
  static const std::regex kName("[A-Za-z_][A-Za-z0-9_]*");
  std::map<std::string, std::string> literals;
  std::map<std::string, bool> used;
  for (const auto& p : params) {
    if (!std::regex_match(p.name, kName))
      return InvalidArgument("parameter name \"{}\" must be letters, digits and _, not starting with a digit", p.name);
    ASSIGN_OR_RETURN(std::string literal, Literal(p));
    if (!literals.emplace(p.name, std::move(literal)).second)
      return InvalidArgument("parameter \"{}\" is given twice", p.name);
    used[p.name] = false;
  }
  std::string out;
  out.reserve(sql.size());
  for (const SqlToken& t : LexSql(sql)) {
    if (t.kind != SqlToken::Kind::kParameter) {
      out.append(sql.substr(t.begin, t.end - t.begin));
      continue;
    }
    auto it = literals.find(t.value);
    if (it == literals.end())
      return InvalidArgument("the SQL uses :{} but no parameter of that name is given (a colon before a name always "
                             "marks a parameter; write \": {}\" with a space if you meant something else)", t.value, t.value);
    used[t.value] = true;
    out += it->second;
  }
  for (const auto& [name, was_used] : used)
    if (!was_used) return InvalidArgument("parameter \"{}\" is given but the SQL never uses :{}", name, name);
  return out;
}

std::set<std::string> ReferencedNames(std::string_view sql, const std::vector<std::string>& tables) {
  std::map<std::string, std::string> by_lower;
  for (const auto& t : tables) by_lower.emplace(LowerAscii(t), t);
  std::set<std::string> found;
  for (const SqlToken& t : LexSql(sql)) {
    if (t.kind != SqlToken::Kind::kIdentifier && t.kind != SqlToken::Kind::kQuotedIdentifier) continue;
    if (auto it = by_lower.find(LowerAscii(t.value)); it != by_lower.end()) found.insert(it->second);
  }
  return found;
}

}  // namespace fleetlog
