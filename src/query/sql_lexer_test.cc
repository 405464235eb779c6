#include "query/sql_lexer.h"

#include <gtest/gtest.h>

namespace fleetlog {
namespace {

using Kind = SqlToken::Kind;

// "kind:text" of every token but spaces.
std::vector<std::string> Tokens(std::string_view sql) {
  std::vector<std::string> out;
  for (const SqlToken& t : LexSql(sql)) {
    if (t.kind == Kind::kSpace) continue;
    const char* kind = t.kind == Kind::kIdentifier         ? "id"
                       : t.kind == Kind::kQuotedIdentifier ? "qid"
                       : t.kind == Kind::kString           ? "str"
                       : t.kind == Kind::kComment          ? "comment"
                       : t.kind == Kind::kParameter        ? "param"
                       : t.kind == Kind::kDollarParameter  ? "dollar"
                       : t.kind == Kind::kNumber           ? "num"
                                                           : "sym";
    out.push_back(std::string(kind) + ":" + std::string(sql.substr(t.begin, t.end - t.begin)) + (t.unterminated ? "!" : ""));
  }
  return out;
}

TEST(SqlLexerTest, TokensCoverTheTextWithoutGaps) {
  const std::string sql = "SELECT a::INT, 'x''y' FROM \"T\"\"1\" /* c /* nested */ */ WHERE b = :p -- end";
  size_t at = 0;
  for (const SqlToken& t : LexSql(sql)) {
    EXPECT_EQ(t.begin, at);
    at = t.end;
  }
  EXPECT_EQ(at, sql.size());
}

TEST(SqlLexerTest, FollowsDuckDbsLexicalRules) {
  EXPECT_EQ(Tokens("a::int"), (std::vector<std::string>{"id:a", "sym::", "sym::", "id:int"}));
  EXPECT_EQ(Tokens("x = :name"), (std::vector<std::string>{"id:x", "sym:=", "param::name"}));
  EXPECT_EQ(Tokens("'it''s :no' e'\\':no' E'x'"),
            (std::vector<std::string>{"str:'it''s :no'", "str:e'\\':no'", "str:E'x'"}));
  EXPECT_EQ(Tokens("some'x'"), (std::vector<std::string>{"id:some", "str:'x'"}));  // not an E-string
  EXPECT_EQ(Tokens("$$ :a ' $$ $q$ $$ $q$ $1 $name"),
            (std::vector<std::string>{"str:$$ :a ' $$", "str:$q$ $$ $q$", "dollar:$1", "dollar:$name"}));
  EXPECT_EQ(Tokens("/* a /* b */ :c */ d"), (std::vector<std::string>{"comment:/* a /* b */ :c */", "id:d"}));
  EXPECT_EQ(Tokens("-- :x\ny"), (std::vector<std::string>{"comment:-- :x", "id:y"}));
  EXPECT_EQ(Tokens("\"a\"\"b\" c$d 1.5e3 .5"),
            (std::vector<std::string>{"qid:\"a\"\"b\"", "id:c$d", "num:1.5e3", "num:.5"}));
  EXPECT_EQ(LexSql("\"a\"\"b\"")[0].value, "a\"b");
}

TEST(SqlLexerTest, MarksWhatTheTextNeverCloses) {
  EXPECT_EQ(Tokens("'open"), (std::vector<std::string>{"str:'open!"}));
  EXPECT_EQ(Tokens("\"open"), (std::vector<std::string>{"qid:\"open!"}));
  EXPECT_EQ(Tokens("/* a /* b */"), (std::vector<std::string>{"comment:/* a /* b */!"}));
  EXPECT_EQ(Tokens("$t$ x"), (std::vector<std::string>{"str:$t$ x!"}));
  EXPECT_EQ(Tokens("E'\\'"), (std::vector<std::string>{"str:E'\\'!"}));
}

TEST(SqlLexerTest, LowerWordsAreTheNamesAStatementCanReach) {
  EXPECT_EQ(LowerWords("SELECT * FROM Stl_Query q JOIN \"STL_SCAN\" USING (query) -- stl_wlm_query\n"
                       "WHERE x IN (SELECT 1 FROM read_parquet('/lake/stl_alert_event_log/*.parquet'))"),
            (std::set<std::string>{"select", "from", "stl_query", "q", "join", "stl_scan", "using", "query", "where", "x",
                                   "in", "read_parquet", "lake", "stl_alert_event_log", "parquet"}));
}

}  // namespace
}  // namespace fleetlog
