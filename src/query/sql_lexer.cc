#include "query/sql_lexer.h"

#include <cctype>

namespace fleetlog {
namespace {

bool IsIdentStart(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) || c == '_' || u >= 0x80;
}
bool IsIdentChar(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$'; }

}  // namespace

std::vector<SqlToken> LexSql(std::string_view sql) {
  std::vector<SqlToken> out;
  const size_t n = sql.size();
  const auto at = [&](size_t k) { return k < n ? sql[k] : '\0'; };
  size_t i = 0;
  while (i < n) {
    SqlToken t{.begin = i};
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      t.kind = SqlToken::Kind::kSpace;
      while (i < n && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    } else if (c == '-' && at(i + 1) == '-') {
      t.kind = SqlToken::Kind::kComment;
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && at(i + 1) == '*') {
      t.kind = SqlToken::Kind::kComment;
      int depth = 0;
      t.unterminated = true;
      while (i < n) {
        if (sql[i] == '/' && at(i + 1) == '*') {
          ++depth;
          i += 2;
        } else if (sql[i] == '*' && at(i + 1) == '/') {
          i += 2;
          if (--depth == 0) {
            t.unterminated = false;
            break;
          }
        } else {
          ++i;
        }
      }
    } else if (c == '\'' || ((c == 'e' || c == 'E') && at(i + 1) == '\'' && (i == 0 || !IsIdentChar(sql[i - 1])))) {
      const bool backslash_escapes = c != '\'';
      t.kind = SqlToken::Kind::kString;
      t.unterminated = true;
      i += backslash_escapes ? 2 : 1;
      while (i < n) {
        if (backslash_escapes && sql[i] == '\\') {
          i += 2;
        } else if (sql[i] == '\'' && at(i + 1) == '\'') {
          i += 2;
        } else if (sql[i++] == '\'') {
          t.unterminated = false;
          break;
        }
      }
    } else if (c == '"') {
      t.kind = SqlToken::Kind::kQuotedIdentifier;
      t.unterminated = true;
      ++i;
      while (i < n) {
        if (sql[i] == '"' && at(i + 1) == '"') {
          t.value += '"';
          i += 2;
        } else if (sql[i] == '"') {
          ++i;
          t.unterminated = false;
          break;
        } else {
          t.value += sql[i++];
        }
      }
    } else if (c == '$' && (at(i + 1) == '$' || IsIdentStart(at(i + 1)))) {
      size_t j = i + 1;
      while (j < n && IsIdentChar(sql[j]) && sql[j] != '$') ++j;
      if (at(j) == '$') {  // $tag$ ... $tag$
        const std::string_view tag = sql.substr(i, j + 1 - i);
        const size_t close = sql.find(tag, j + 1);
        t.kind = SqlToken::Kind::kString;
        t.unterminated = close == std::string_view::npos;
        i = t.unterminated ? n : close + tag.size();
      } else {
        t.kind = SqlToken::Kind::kDollarParameter;
        i = j;
      }
    } else if (c == '$' && std::isdigit(static_cast<unsigned char>(at(i + 1)))) {
      t.kind = SqlToken::Kind::kDollarParameter;
      ++i;
      while (i < n && std::isdigit(static_cast<unsigned char>(sql[i]))) ++i;
    } else if (IsIdentStart(c)) {
      t.kind = SqlToken::Kind::kIdentifier;
      while (i < n && IsIdentChar(sql[i])) ++i;
    } else if (c == ':' && IsIdentStart(at(i + 1)) && (i == 0 || sql[i - 1] != ':')) {
      t.kind = SqlToken::Kind::kParameter;
      ++i;
      while (i < n && IsIdentChar(sql[i]) && sql[i] != '$') ++i;
      t.value = std::string(sql.substr(t.begin + 1, i - t.begin - 1));
    } else if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && std::isdigit(static_cast<unsigned char>(at(i + 1))))) {
      t.kind = SqlToken::Kind::kNumber;
      while (i < n && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '.' || sql[i] == '_')) ++i;
    } else {
      t.kind = SqlToken::Kind::kSymbol;
      ++i;
    }
    t.end = std::min(i, n);
    if (t.kind == SqlToken::Kind::kIdentifier || t.kind == SqlToken::Kind::kString || t.kind == SqlToken::Kind::kNumber ||
        t.kind == SqlToken::Kind::kDollarParameter)
      t.value = std::string(sql.substr(t.begin, t.end - t.begin));
    out.push_back(std::move(t));
  }
  return out;
}

std::set<std::string> LowerWords(std::string_view sql) {
  std::set<std::string> words;
  for (const SqlToken& t : LexSql(sql)) {
    if (t.kind != SqlToken::Kind::kIdentifier && t.kind != SqlToken::Kind::kQuotedIdentifier &&
        t.kind != SqlToken::Kind::kString)
      continue;
    std::string word;
    for (char ch : t.value) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) || c == '_') {
        word += static_cast<char>(std::tolower(c));
      } else if (!word.empty()) {
        words.insert(std::move(word));
        word.clear();
      }
    }
    if (!word.empty()) words.insert(std::move(word));
  }
  return words;
}

}  // namespace fleetlog
