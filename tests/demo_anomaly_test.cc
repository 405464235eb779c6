// The demo's promise, at every time of the week: `fleetlog demo` picks sim-1's seed so that a
// queue spike is under way as its backfill ends, and the detector's first run over that lake
// grades the spike anomalous and names queue waits as what drove it (the browser test's
// firing alert). Young profiles are where this can break: three days of history hold at
// most one of each weekday, and a backfill that spans a weekend sees weekdays' busier hours
// for the first time.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "demo/demo.h"
#include "detect/fleet_detector.h"
#include "exporter/writer.h"
#include "test_util.h"
#include "upkeep_test_util.h"

namespace fleetlog {
namespace {

// The latest graded bucket of sim-1 in a one-cluster demo whose three days end at `end`:
// "anomalous|score|attribution".
std::string LatestGradeOfADemoEndingAt(Timestamp end) {
  test::TempDir dir;
  auto path = CreateDemoWorkspace({.clusters = 1, .days = 3, .dir = dir.Sub("demo"), .end = end});
  if (!path.ok()) return "workspace: " + path.status().ToString();
  auto config = LoadConfig(*path);
  if (!config.ok()) return "config: " + config.status().ToString();
  std::ostringstream progress;
  if (Status s = BackfillDemo(*config, 3, end, progress); !s.ok()) return "backfill: " + s.ToString();
  auto session = LakeSession::Open(*config);
  if (!session.ok()) return "session: " + session.status().ToString();
  LakeSession& s = **session;
  if (Status d = detect::RunFleetDetection({s.config(), s.state(), s.writer(), s.clock()}); !d.ok()) {
    return "detection: " + d.ToString();
  }
  const auto rows = upkeep::testing::UpkeepLake::RowsOf(s.state(), s.lake(),
                                                        "SELECT grade > 0, round(score, 1), attribution FROM anomalies "
                                                        "WHERE cluster = 'sim-1' ORDER BY bucket_start DESC LIMIT 1");
  return rows.empty() ? "no graded bucket" : rows.front();
}

TEST(DemoAnomalyTest, TheInjectedQueueSpikeIsGradedAndNamedAtEveryTimeOfTheWeek) {
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::warn);  // the export logs every window
  // Fourteen ends, 12 h 37 min apart from a Monday: every weekday, at hours across the day.
  const Timestamp monday = *ParseTimestamp("2026-11-30 00:00:00");
  for (int k = 0; k < 14; ++k) {
    const Timestamp end = monday + Duration::Minutes(k * (12 * 60 + 37));
    const std::string latest = LatestGradeOfADemoEndingAt(end);
    EXPECT_TRUE(latest.starts_with("true|") && latest.find("queue_wait_s high") != std::string::npos)
        << "demo ending " << FormatTimestamp(end) << ": " << latest;
  }
  spdlog::set_level(level);
}

}  // namespace
}  // namespace fleetlog
