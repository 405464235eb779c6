#include "source/pg/pg_decode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/time.h"

namespace fleetlog {
namespace {

int64_t Micros(std::string_view text) { return ParseTimestamp(text).value().micros(); }

int64_t Decoded(std::string_view text) {
  int64_t us = -1;
  EXPECT_TRUE(ParsePgTimestamp(text, &us)) << text;
  return us;
}

TEST(PgDecodeTest, TimestampsInEveryShapePostgresPrints) {
  EXPECT_EQ(Decoded("2024-02-29 23:59:59"), Micros("2024-02-29 23:59:59"));
  EXPECT_EQ(Decoded("2024-02-29 23:59:59.5"), Micros("2024-02-29 23:59:59.500000"));
  EXPECT_EQ(Decoded("2024-02-29 23:59:59.000001"), Micros("2024-02-29 23:59:59.000001"));
  EXPECT_EQ(Decoded("1970-01-01 00:00:00"), 0);
  EXPECT_EQ(Decoded("1969-12-31 23:59:59.999999"), -1);
  // timestamptz: the offset is east of UTC.
  EXPECT_EQ(Decoded("2024-03-01 01:00:00+02"), Micros("2024-02-29 23:00:00"));
  EXPECT_EQ(Decoded("2024-03-01 01:00:00.25-05:30"), Micros("2024-03-01 06:30:00.25"));
  EXPECT_EQ(Decoded("2024-03-01 01:00:00+00:00:30"), Micros("2024-03-01 00:59:30"));
  EXPECT_EQ(Decoded("0001-01-01 00:00:00 BC"), Micros("0000-01-01 00:00:00"));
  EXPECT_EQ(Decoded("12024-01-01 00:00:00"), DaysFromCivil(12024, 1, 1) * 86400LL * 1000000);
  EXPECT_EQ(Decoded("infinity"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Decoded("-infinity"), -std::numeric_limits<int64_t>::max());
}

TEST(PgDecodeTest, RejectsWhatIsNotATimestamp) {
  int64_t us = 42;
  for (std::string_view bad : {"", "2024-02-29", "2024-02-29T23:59:59", "2024-13-01 00:00:00", "2024-02-29 23:59:59.",
                               "2024-02-29 23:59:59 +02", "2024-02-29 23:59:59+2", "24-02-29 23:59:59", "now"})
    EXPECT_FALSE(ParsePgTimestamp(bad, &us)) << bad;
  EXPECT_EQ(us, 42);
}

TEST(PgDecodeTest, Numbers) {
  int64_t i = 0;
  EXPECT_TRUE(ParsePgInt("-9223372036854775808", &i));
  EXPECT_EQ(i, std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(ParsePgInt("9223372036854775808", &i));
  EXPECT_FALSE(ParsePgInt("12a", &i));
  EXPECT_FALSE(ParsePgInt("", &i));
  double d = 0;
  EXPECT_TRUE(ParsePgDouble("0.1", &d));
  EXPECT_EQ(d, 0.1);
  EXPECT_TRUE(ParsePgDouble("1e-05", &d));
  EXPECT_EQ(d, 1e-05);
  EXPECT_TRUE(ParsePgDouble("-Infinity", &d));
  EXPECT_EQ(d, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(ParsePgDouble("NaN", &d));
  EXPECT_TRUE(std::isnan(d));
  EXPECT_FALSE(ParsePgDouble("1.5x", &d));
  bool b = false;
  EXPECT_TRUE(ParsePgBool("t", &b));
  EXPECT_TRUE(b);
  EXPECT_TRUE(ParsePgBool("f", &b));
  EXPECT_FALSE(b);
  EXPECT_FALSE(ParsePgBool("true", &b));
}

TEST(PgDecodeTest, TypeOidsMapToLakeTypes) {
  EXPECT_EQ(ColumnTypeForOid(pg_oid::kInt2), ColumnType::kInt32);
  EXPECT_EQ(ColumnTypeForOid(pg_oid::kInt4), ColumnType::kInt32);
  EXPECT_EQ(ColumnTypeForOid(pg_oid::kInt8), ColumnType::kInt64);
  EXPECT_EQ(ColumnTypeForOid(pg_oid::kNumeric), ColumnType::kDouble);
  EXPECT_EQ(ColumnTypeForOid(pg_oid::kTimestamptz), ColumnType::kTimestamp);
  EXPECT_EQ(ColumnTypeForOid(pg_oid::kBpchar), ColumnType::kVarchar);
  EXPECT_EQ(ColumnTypeForOid(114 /* json */), ColumnType::kVarchar);
}

}  // namespace
}  // namespace fleetlog
