#include "source/pg/pg_query.h"

#include <gtest/gtest.h>

namespace fleetlog {
namespace {

const Timestamp kLower = ParseTimestamp("2024-05-01 10:00:00").value();
const Timestamp kUpper = ParseTimestamp("2024-05-01 10:05:00.25").value();

TEST(PgQueryTest, PlainTableFiltersItsCursorHalfOpen) {
  auto sql = RenderWindowSelect(*FindRedshiftTable("stl_query"), kLower, kUpper);
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(*sql,
            "SELECT * FROM \"stl_query\" WHERE \"endtime\" >= '2024-05-01 10:00:00'::timestamp AND "
            "\"endtime\" < '2024-05-01 10:05:00.250000'::timestamp");
}

TEST(PgQueryTest, ChildTableJoinsOneParentRowPerKey) {
  auto sql = RenderWindowSelect(*FindRedshiftTable("stl_querytext"), kLower, kUpper);
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(*sql,
            "SELECT t.*, p.\"endtime\" AS \"__fleetlog_ts\" FROM \"stl_querytext\" t JOIN (SELECT \"query\", "
            "MAX(\"endtime\") AS \"endtime\" FROM \"stl_query\" WHERE \"endtime\" >= '2024-05-01 10:00:00'::timestamp "
            "AND \"endtime\" < '2024-05-01 10:05:00.250000'::timestamp GROUP BY \"query\") p ON p.\"query\" = "
            "t.\"query\"");
}

TEST(PgQueryTest, SysHistoryTakesTerminalRowsOnly) {
  auto sql = RenderWindowSelect(*FindRedshiftTable("sys_query_history"), kLower, kUpper);
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(*sql,
            "SELECT * FROM \"sys_query_history\" WHERE \"end_time\" >= '2024-05-01 10:00:00'::timestamp AND "
            "\"end_time\" < '2024-05-01 10:05:00.250000'::timestamp AND (status IN ('success', 'failed', 'canceled', "
            "'cancelled'))");
}

TEST(PgQueryTest, SysTextTakesThePiecesOfFinishedQueries) {
  auto sql = RenderWindowSelect(*FindRedshiftTable("sys_query_text"), kLower, kUpper);
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(*sql,
            "SELECT t.*, p.\"end_time\" AS \"__fleetlog_ts\" FROM \"sys_query_text\" t JOIN (SELECT \"query_id\", "
            "MAX(\"end_time\") AS \"end_time\" FROM \"sys_query_history\" WHERE \"end_time\" >= "
            "'2024-05-01 10:00:00'::timestamp AND \"end_time\" < '2024-05-01 10:05:00.250000'::timestamp AND (status IN "
            "('success', 'failed', 'canceled', 'cancelled')) GROUP BY \"query_id\") p ON p.\"query_id\" = t.\"query_id\"");
}

TEST(PgQueryTest, CustomQueryIsWrappedWithoutItsSemicolon) {
  TableSpec spec{.name = "sales", .cursor = "sale time", .sql = "select * from sales -- all of them\n ;  \n"};
  auto sql = RenderWindowSelect(spec, kLower, kUpper);
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(*sql,
            "SELECT * FROM (\nselect * from sales -- all of them\n) AS fleetlog_custom WHERE \"sale time\" >= "
            "'2024-05-01 10:00:00'::timestamp AND \"sale time\" < '2024-05-01 10:05:00.250000'::timestamp");
}

TEST(PgQueryTest, IdentifiersAreQuoted) {
  EXPECT_EQ(QuotePgIdentifier("a\"b"), "\"a\"\"b\"");
  TableSpec no_cursor{.name = "x"};
  EXPECT_EQ(RenderWindowSelect(no_cursor, kLower, kUpper).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fleetlog
