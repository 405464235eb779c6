#include "source/pg/pg_error.h"

#include <gtest/gtest.h>

namespace fleetlog {
namespace {

TEST(PgErrorTest, SqlstatesMapToStatusCodes) {
  EXPECT_EQ(StatusCodeForSqlstate("28P01"), StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusCodeForSqlstate("28000"), StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusCodeForSqlstate("42P01"), StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForSqlstate("57014"), StatusCode::kTimeout);
  EXPECT_EQ(StatusCodeForSqlstate("57P01"), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlstate("08006"), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlstate("42601"), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForSqlstate("XX000"), StatusCode::kInternal);
  EXPECT_EQ(StatusCodeForSqlstate(""), StatusCode::kInternal);
}

TEST(PgErrorTest, ScrubPasswordRemovesEveryOccurrence) {
  EXPECT_EQ(ScrubPassword("pw=s3cret and s3cret", "s3cret"), "pw=*** and ***");
  EXPECT_EQ(ScrubPassword("nothing", ""), "nothing");
  EXPECT_EQ(ScrubPassword("port 5432", "p"), "port 5432");
}

}  // namespace
}  // namespace fleetlog
