#include "server/sql_text.h"

#include <algorithm>
#include <map>
#include <regex>

#include "duck/duck.h"

namespace fleetlog {
namespace {

struct Token {
  enum class Kind { kOther, kIdentifier, kQuotedIdentifier, kString, kComment, kParameter };
  Kind kind = Kind::kOther;
  size_t begin = 0, end = 0;
  std::string name;  // identifier or parameter name
};

bool IsIdentStart(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) || c == '_' || u >= 0x80;
}
bool IsIdentChar(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$'; }

// Splits `sql` into tokens; only the kinds above matter, everything else is kOther.
// An unterminated string or comment runs to the end (DuckDB will report it).
std::vector<Token> Tokenize(std::string_view sql) {
  std::vector<Token> out;
  const size_t n = sql.size();
  const auto at = [&](size_t k) { return k < n ? sql[k] : '\0'; };
  size_t i = 0;
  while (i < n) {
    Token t{.begin = i};
    const char c = sql[i];
    if (c == '-' && at(i + 1) == '-') {
      t.kind = Token::Kind::kComment;
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && at(i + 1) == '*') {
      t.kind = Token::Kind::kComment;
      int depth = 0;
      while (i < n) {
        if (sql[i] == '/' && at(i + 1) == '*') depth++, i += 2;
        else if (sql[i] == '*' && at(i + 1) == '/') { i += 2; if (--depth == 0) break; }
        else ++i;
      }
    } else if (c == '\'' || ((c == 'e' || c == 'E') && at(i + 1) == '\'' && (i == 0 || !IsIdentChar(sql[i - 1])))) {
      const bool backslash_escapes = c != '\'';
      t.kind = Token::Kind::kString;
      i += backslash_escapes ? 2 : 1;
      while (i < n) {
        if (backslash_escapes && sql[i] == '\\') i += 2;
        else if (sql[i] == '\'' && at(i + 1) == '\'') i += 2;
        else if (sql[i++] == '\'') break;
      }
    } else if (c == '"') {
      t.kind = Token::Kind::kQuotedIdentifier;
      ++i;
      while (i < n) {
        if (sql[i] == '"' && at(i + 1) == '"') t.name += '"', i += 2;
        else if (sql[i] == '"') { ++i; break; }
        else t.name += sql[i++];
      }
    } else if (c == '$' && (at(i + 1) == '$' || IsIdentStart(at(i + 1)))) {
      size_t j = i + 1;
      while (j < n && IsIdentChar(sql[j]) && sql[j] != '$') ++j;
      if (at(j) == '$') {  // $tag$ ... $tag$
        const std::string_view tag = sql.substr(i, j + 1 - i);
        const size_t close = sql.find(tag, j + 1);
        t.kind = Token::Kind::kString;
        i = close == std::string_view::npos ? n : close + tag.size();
      } else {
        i = j;  // $name: a DuckDB prepared-statement parameter, not ours
      }
    } else if (IsIdentStart(c)) {
      t.kind = Token::Kind::kIdentifier;
      while (i < n && IsIdentChar(sql[i])) ++i;
      t.name = std::string(sql.substr(t.begin, i - t.begin));
    } else if (c == ':' && IsIdentStart(at(i + 1)) && (i == 0 || sql[i - 1] != ':')) {
      t.kind = Token::Kind::kParameter;
      ++i;
      while (i < n && IsIdentChar(sql[i]) && sql[i] != '$') ++i;
      t.name = std::string(sql.substr(t.begin + 1, i - t.begin - 1));
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < n && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '.' || sql[i] == '_')) ++i;
    } else {
      ++i;
    }
    t.end = std::min(i, n);
    out.push_back(std::move(t));
  }
  return out;
}

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
  for (const Token& t : Tokenize(sql)) {
    if (t.kind != Token::Kind::kParameter) {
      out.append(sql.substr(t.begin, t.end - t.begin));
      continue;
    }
    auto it = literals.find(t.name);
    if (it == literals.end())
      return InvalidArgument("the SQL uses :{} but no parameter of that name is given (a colon before a name always "
                             "marks a parameter; write \": {}\" with a space if you meant something else)", t.name, t.name);
    used[t.name] = true;
    out += it->second;
  }
  for (const auto& [name, was_used] : used)
    if (!was_used) return InvalidArgument("parameter \"{}\" is given but the SQL never uses :{}", name, name);
  return out;
}

}  // namespace fleetlog
