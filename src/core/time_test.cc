#include "core/time.h"

#include <gtest/gtest.h>

namespace fleetlog {
namespace {

TEST(DurationTest, ParsesUnitsAndSums) {
  EXPECT_EQ(ParseDuration("30s")->micros(), 30'000'000);
  EXPECT_EQ(ParseDuration("5m")->micros(), 300'000'000);
  EXPECT_EQ(ParseDuration("7d")->micros(), 7LL * 86400 * 1'000'000);
  EXPECT_EQ(ParseDuration("1h30m")->micros(), 5400LL * 1'000'000);
  EXPECT_EQ(ParseDuration("250ms")->micros(), 250'000);
  EXPECT_EQ(ParseDuration("1w")->micros(), 7LL * 86400 * 1'000'000);
  EXPECT_EQ(ParseDuration("0s")->micros(), 0);
}

TEST(DurationTest, RejectsBadText) {
  for (const char* bad : {"", "5", "m", "5x", "-5m", "5 m", "1.5h", "99999999999999999999d"}) {
    auto d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_NE(d.status().message().find("bad duration"), std::string::npos);
    }
  }
}

TEST(DurationTest, FormatsShortestExactForm) {
  EXPECT_EQ(FormatDuration(Duration::Minutes(5)), "5m");
  EXPECT_EQ(FormatDuration(Duration::Minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(Duration::Millis(250)), "250ms");
  EXPECT_EQ(FormatDuration(Duration()), "0s");
}

TEST(TimestampTest, RoundTripsWithMicroseconds) {
  auto t = ParseTimestamp("2026-11-21 03:44:32.000123");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatTimestamp(*t), "2026-11-21 03:44:32.000123");
  EXPECT_EQ(FormatTimestampIso(*t), "2026-11-21T03:44:32.000123Z");
  EXPECT_EQ(DateOf(*t), "2026-11-21");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("1969-12-31 23:59:59")), "1969-12-31 23:59:59");
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:01Z")->micros(), 1'000'000);
  EXPECT_EQ(ParseTimestamp("2024-02-29")->micros(), DaysFromCivil(2024, 2, 29) * 86400LL * 1'000'000);
  EXPECT_FALSE(ParseTimestamp("2026-13-01").ok());
  EXPECT_FALSE(ParseTimestamp("2026-11-21 03:44:32+02").ok());
}

}  // namespace
}  // namespace fleetlog
