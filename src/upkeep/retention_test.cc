// Roll-ups hold the right aggregates and are built before raw days expire; expiry drops whole
// partitions past keep through a commit; a purge rebuilds the roll-up days it touched.
#include "upkeep/retention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "upkeep/policy.h"
#include "upkeep/purge.h"
#include "upkeep/rollup.h"
#include "upkeep_test_util.h"

namespace fleetlog::upkeep {
namespace {

using testing::UpkeepLake;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    today_ = *DayStart(DateOf(Timestamp::Now()));
    old_ = today_ - Duration::Days(500);
    recent_ = today_ - Duration::Days(10);
    // 90 queries an old and a recent day (1.5 hours: two hour buckets), for c1.
    lake_.WriteQueries("c1", 1, 90, old_);
    lake_.WriteQueries("c1", 101, 190, recent_);
    lake_.config().table_overrides["stl_query"].keep = Duration::Days(400);
  }
  UpkeepLake lake_;
  Timestamp today_, old_, recent_;
};

TEST_F(RetentionTest, RollupsHoldTheHourlyAggregates) {
  auto built = BuildRollups(lake_.state(), lake_.lake(), lake_.config(), Timestamp::Now());
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->days, 2);
  EXPECT_EQ(built->hours, 4);
  // Differential: the roll-up equals the same aggregate computed from the raw rows.
  const char* from_raw =
      "SELECT cluster, date_trunc('hour', endtime) AS hour, count(*), count(*) FILTER (WHERE aborted = 1), "
      "round(quantile_cont(epoch(endtime) - epoch(starttime), 0.95), 6) FROM stl_query GROUP BY ALL ORDER BY ALL";
  const char* from_rollup =
      "SELECT cluster, hour, queries, aborted, round(p95_run_s, 6) FROM rollup_hourly ORDER BY ALL";
  EXPECT_EQ(lake_.Rows(from_rollup), lake_.Rows(from_raw));
  EXPECT_EQ(lake_.Rows("SELECT sum(wlm_queries), sum(alerts), sum(disk_based_queries) FROM rollup_hourly"),
            std::vector<std::string>{"0|0|0"});
  // Already rolled up: nothing to do.
  auto again = BuildRollups(lake_.state(), lake_.lake(), lake_.config(), Timestamp::Now());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->days, 0);
}

TEST_F(RetentionTest, ExpiryWaitsForTheRollupThenDropsTheDay) {
  // Without a roll-up the old day is held back.
  auto held = ExpirePartitions(lake_.state(), lake_.lake(), lake_.config(), Timestamp::Now());
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->partitions, 0);
  EXPECT_EQ(held->held.size(), 1u);

  ASSERT_TRUE(BuildRollups(lake_.state(), lake_.lake(), lake_.config(), Timestamp::Now()).ok());
  const auto rollup_before = lake_.Rows("SELECT * FROM rollup_hourly ORDER BY ALL");
  auto expired = ExpirePartitions(lake_.state(), lake_.lake(), lake_.config(), Timestamp::Now());
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->partitions, 1);
  EXPECT_EQ(expired->rows, 90);
  EXPECT_EQ(lake_.Rows("SELECT count(*), min(query), max(query) FROM stl_query"), std::vector<std::string>{"90|101|190"});
  EXPECT_EQ(lake_.Rows("SELECT * FROM rollup_hourly ORDER BY ALL"), rollup_before) << "roll-ups outlive raw rows";
  auto runs = lake_.state().RecentRuns(1);
  EXPECT_EQ(runs->front().kind, "expire");

  // Roll-ups have their own, longer keep.
  lake_.config().upkeep.rollup_keep = Duration::Days(100);
  expired = ExpirePartitions(lake_.state(), lake_.lake(), lake_.config(), Timestamp::Now());
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->partitions, 1);
  EXPECT_EQ(lake_.Rows("SELECT count(DISTINCT dt) FROM rollup_hourly"), std::vector<std::string>{"1"});
}

TEST_F(RetentionTest, PurgeRebuildsTheRollupDaysItTouched) {
  ASSERT_TRUE(BuildRollups(lake_.state(), lake_.lake(), lake_.config(), Timestamp::Now()).ok());
  auto purged = PurgeRows(lake_.state(), lake_.lake(), lake_.config(),
                          {.table = "stl_query", .predicate = "query BETWEEN 101 AND 120", .who = "t"});
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(purged->rollup_days_rebuilt, 1);
  EXPECT_EQ(lake_.Rows("SELECT sum(queries) FROM rollup_hourly"), std::vector<std::string>{"160"});
  EXPECT_EQ(lake_.Rows("SELECT sum(queries) FROM rollup_hourly WHERE dt = '" + DateOf(recent_) + "'"),
            std::vector<std::string>{"70"});
}

}  // namespace
}  // namespace fleetlog::upkeep
