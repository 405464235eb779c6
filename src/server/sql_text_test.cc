#include "server/sql_text.h"

#include <gtest/gtest.h>

namespace fleetlog {
namespace {

using Kind = SqlParameter::Kind;

TEST(BindParametersTest, QuotesStringsAndValidatesNumbers) {
  auto sql = BindParameters("select * from t where a = :name and b > :n and c = :flag and d is :nothing",
                            {{"name", Kind::kString, "it's; drop table t --"},
                             {"n", Kind::kNumber, "-1.5e3"},
                             {"flag", Kind::kBool, "true"},
                             {"nothing", Kind::kNull, ""}});
  ASSERT_TRUE(sql.ok()) << sql.status().message();
  EXPECT_EQ(*sql, "select * from t where a = 'it''s; drop table t --' and b > (-1.5e3) and c = TRUE and d is NULL");
}

TEST(BindParametersTest, RefusesWhatIsNotANumber) {
  for (const char* bad : {"1; drop table t", "0x10", "1e", "", "--1", "1 "}) {
    auto sql = BindParameters("select :n", {{"n", Kind::kNumber, bad}});
    EXPECT_EQ(sql.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(BindParametersTest, LeavesStringsCommentsCastsAndQuotedNamesAlone) {
  auto sql = BindParameters("select ':x', \":x\", e'\\':x', $$ :x $$, x::int -- :x\n/* :x */ , :x",
                            {{"x", Kind::kNumber, "7"}});
  ASSERT_TRUE(sql.ok()) << sql.status().message();
  EXPECT_EQ(*sql, "select ':x', \":x\", e'\\':x', $$ :x $$, x::int -- :x\n/* :x */ , 7");
}

TEST(BindParametersTest, UnknownMissingAndRepeatedParametersAreErrors) {
  EXPECT_EQ(BindParameters("select :a", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BindParameters("select 1", {{"a", Kind::kNumber, "1"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BindParameters("select :a", {{"a", Kind::kNumber, "1"}, {"a", Kind::kNumber, "2"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BindParameters("select :a", {{"a b", Kind::kNumber, "1"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BindParameters("select :a", {{"a", Kind::kString, std::string("x\0y", 3)}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(BindParameters("select 1::int", {}).ok());
}

TEST(ReferencedNamesTest, FindsTablesButNotStringsOrComments) {
  const std::vector<std::string> tables = {"stl_query", "stl_scan", "stl_querytext_full", "stl_wlm_query"};
  auto found = ReferencedNames("select * from STL_QUERY q join \"stl_scan\" s using (query) -- stl_wlm_query\n"
                               "where q.querytxt like '%stl_querytext_full%'",
                               tables);
  EXPECT_EQ(found, (std::set<std::string>{"stl_query", "stl_scan"}));
}

}  // namespace
}  // namespace fleetlog
