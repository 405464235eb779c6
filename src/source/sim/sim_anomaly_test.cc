// The labelled anomalies are where the labels say: each kind's signal inside its label is far
// above (or, for count_collapse, below) the same hours on a nearby day without a label.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "source/sim/sim_random.h"
#include "source/sim/sim_source.h"
#include "source/sim/sim_workload.h"
#include "source/table_spec.h"

namespace fleetlog {
namespace {

class FixedClock final : public Clock {
 public:
  explicit FixedClock(Timestamp now) : now_(now) {}
  Timestamp Now() const override { return now_; }

 private:
  Timestamp now_;
};

Timestamp TestNow() { return ParseTimestamp("2025-06-18 12:00:00").value(); }

SimOptions Options(const std::string& cluster) {
  return {.cluster = cluster, .seed = 21, .scale = 3.0, .clock = std::make_shared<FixedClock>(TestNow())};
}

// Calls `row` for each row of `table` with `cursor` in [from, to): (batch, row index).
void ForEachRow(Source& source, const char* table, Timestamp from, Timestamp to,
                const std::function<void(const RowBatch&, size_t)>& row) {
  const Status status =
      source.Read({.spec = FindRedshiftTable(table), .lower = from, .upper = to}, [&](RowBatch& batch) {
        for (size_t r = 0; r < batch.rows(); ++r) row(batch, r);
        return Status::Ok();
      });
  ASSERT_TRUE(status.ok()) << status.ToString();
}

int64_t Int(const RowBatch& b, const char* column, size_t r) { return b.column(FindColumn(b.schema(), column)).ints[r]; }
const std::string& Str(const RowBatch& b, const char* column, size_t r) {
  return b.column(FindColumn(b.schema(), column)).strings[r];
}

// The signal of an anomaly kind over [from, to): bigger means "more anomalous", except for
// count_collapse where it is the number of user queries.
double Signal(Source& source, const std::string& kind, Timestamp from, Timestamp to) {
  const Timestamp read_to = to + Duration::Hours(6);  // let the work that started in range finish
  double sum = 0;
  double n = 0;
  const auto in_range = [&](int64_t us) { return us >= from.micros() && us < to.micros(); };
  if (kind == "queue_spike") {
    ForEachRow(source, "stl_wlm_query", from, read_to, [&](const RowBatch& b, size_t r) {
      if (Int(b, "service_class", r) == 14 || !in_range(Int(b, "service_class_start_time", r))) return;
      sum += static_cast<double>(Int(b, "total_queue_time", r));
      ++n;
    });
    return n > 0 ? sum / n : 0;
  }
  if (kind == "count_collapse") {
    ForEachRow(source, "stl_query", from, read_to, [&](const RowBatch& b, size_t r) {
      if (Int(b, "userid", r) != 1 && in_range(Int(b, "starttime", r))) ++n;
    });
    return n;
  }
  if (kind == "disk_spill_burst") {
    ForEachRow(source, "stl_scan", from, read_to, [&](const RowBatch& b, size_t r) {
      if (Int(b, "type", r) == 3 && in_range(Int(b, "starttime", r))) ++n;
    });
    return n;
  }
  ForEachRow(source, "stl_alert_event_log", from, to, [&](const RowBatch& b, size_t r) {
    if (Str(b, "event", r) == "Nested Loop Join in the query plan") ++n;
  });
  return n;
}

TEST(SimAnomalies, EachKindShowsInsideItsLabel) {
  const Timestamp from = TestNow() - Duration::Days(28);
  const Timestamp to = TestNow() - Duration::Days(2);
  std::set<std::string> checked;
  for (int c = 0; c < 20 && checked.size() < 4; ++c) {
    const SimOptions options = Options("cluster-" + std::to_string(c));
    const auto labels = SimAnomalyLabels(options, from, to);
    auto source = MakeSimSource(options);
    for (const AnomalyLabel& label : labels) {
      if (checked.count(label.kind) || label.start < from || label.end > to) continue;
      // The same hours on the nearest day that holds no label of this cluster.
      for (int offset : {-1, 1, -2, 2, -3, 3}) {
        const Timestamp ref = offset > 0 ? label.start + Duration::Days(offset) : label.start - Duration::Days(-offset);
        const Timestamp ref_end = ref + (label.end - label.start);
        if (!SimAnomalyLabels(options, ref - Duration::Hours(1), ref_end + Duration::Hours(1)).empty()) continue;
        const double inside = Signal(*source, label.kind, label.start, label.end);
        const double outside = Signal(*source, label.kind, ref, ref_end);
        if (label.kind == "count_collapse") {
          EXPECT_GT(outside, 20) << label.cluster;
          EXPECT_LT(inside * 4, outside) << label.cluster << " at " << FormatTimestamp(label.start);
        } else {
          EXPECT_GT(inside, 4 * std::max(outside, 1.0))
              << label.kind << " " << label.cluster << " at " << FormatTimestamp(label.start) << ": " << inside
              << " vs " << outside;
        }
        checked.insert(label.kind);
        break;
      }
    }
  }
  EXPECT_EQ(checked.size(), 4u) << "every kind should be placed somewhere in 20 clusters x 4 weeks";
}

TEST(SimAnomalies, LabelsAreStableSortedAndWrittenAsCsv) {
  const SimOptions options = Options("cluster-1");
  const Timestamp from = TestNow() - Duration::Days(14);
  const auto labels = SimAnomalyLabels(options, from, TestNow());
  ASSERT_FALSE(labels.empty());
  for (size_t i = 0; i < labels.size(); ++i) {
    EXPECT_LT(labels[i].start, labels[i].end);
    EXPECT_LT(labels[i].start, TestNow());
    EXPECT_GT(labels[i].end, from);
    if (i > 0) {
      EXPECT_LE(labels[i - 1].end, labels[i].start);
    }
  }
  // Narrower ranges see the same labels: placement does not depend on the range.
  const auto later = SimAnomalyLabels(options, labels.back().start, labels.back().end);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0], labels.back());
  for (const auto& label : labels) {
    if (label.kind == "queue_spike") {
      EXPECT_EQ(label.end - label.start, Duration::Hours(2));
    }
  }
  const std::string csv = AnomalyLabelsCsv({labels[0]});
  EXPECT_EQ(csv, "cluster,kind,start,end\ncluster-1," + labels[0].kind + "," + FormatTimestampIso(labels[0].start) +
                     "," + FormatTimestampIso(labels[0].end) + "\n");
}

// The demo looks for a seed whose queue spike began 45 to 75 minutes ago. Clusters' weeks start
// at different minutes, so at every time of the week some seed has one (with weeks aligned to
// Monday for every seed, no spike could be under way in the hours between two sections).
TEST(SimAnomalies, SomeSeedHasAQueueSpikeUnderWayAtEveryTimeOfTheWeek) {
  const Timestamp monday = ParseTimestamp("2026-11-30 00:00:00").value();
  for (int64_t minute = 0; minute < 7 * 24 * 60; minute += 53) {
    const Timestamp now = monday + Duration::Minutes(minute);
    bool found = false;
    for (uint64_t seed = 1; seed <= 20000 && !found; ++seed) {
      const SimOptions options = {.cluster = "sim-1", .seed = seed};
      for (const AnomalyLabel& label : SimAnomalyLabels(options, now - Duration::Micros(1), now))
        found = found || (label.kind == "queue_spike" && now - label.start >= Duration::Minutes(45) &&
                          now - label.start <= Duration::Minutes(75));
    }
    EXPECT_TRUE(found) << "no seed has a queue spike under way at " << FormatTimestamp(now);
  }
}

// Other draws of a minute (for the calibration bench's oracle): draw 0 with the anomalies is
// the minute itself; without them, a nested-loop storm's minutes hold as few nested-loop
// queries as ordinary ones; away from every anomaly the anomalies change nothing; and other
// draws are other minutes.
TEST(SimAnomalies, OtherDrawsOfAMinuteWithAndWithoutItsAnomalies) {
  const uint64_t cluster_seed = sim::ClusterSeed(21, "cluster-3");
  const sim::Workload workload(cluster_seed, 3.0);
  const int64_t from = TestNow().micros() - Duration::Days(21).micros();
  std::optional<sim::AnomalyWindow> storm;
  for (const auto& a : sim::AnomaliesOverlapping(cluster_seed, from, TestNow().micros()))
    if (a.kind == sim::AnomalyKind::kNestedLoopAlerts && a.start_us >= from) storm = a;
  ASSERT_TRUE(storm.has_value());
  auto key = [](const sim::SimMinute& m) {
    std::vector<std::tuple<int32_t, int64_t, int64_t, uint16_t, uint32_t>> k;
    for (const sim::SimQuery& q : m.queries) k.emplace_back(q.query, q.start_us, q.exec_us, q.flags, q.template_id);
    return k;
  };
  auto nested = [](const sim::SimMinute& m) {
    return std::count_if(m.queries.begin(), m.queries.end(), [](const auto& q) { return q.has(sim::kNestedLoop); });
  };
  const int64_t first = storm->start_us / sim::kMinuteUs, last = storm->end_us / sim::kMinuteUs;
  int64_t with = 0, without = 0, other_draws = 0, differ = 0;
  for (int64_t minute = first; minute < last; ++minute) {
    EXPECT_EQ(key(workload.Minute(minute)), key(workload.Minute(minute, 0, true)));
    with += nested(workload.Minute(minute));
    without += nested(workload.Minute(minute, 0, false));
    other_draws += nested(workload.Minute(minute, 7, true));
    differ += key(workload.Minute(minute, 7, true)) != key(workload.Minute(minute)) ? 1 : 0;
  }
  EXPECT_GT(with, 5 * std::max<int64_t>(without, 1))
      << with << " nested-loop queries in the storm, " << without << " in the same minutes without it";
  EXPECT_GT(other_draws, 5 * std::max<int64_t>(without, 1));
  EXPECT_GT(differ, (last - first) / 2);
  // An hour before the storm, nothing is under way (sections keep an hour clear).
  for (int64_t minute = first - 60; minute < first - 30; ++minute)
    EXPECT_EQ(key(workload.Minute(minute, 3, false)), key(workload.Minute(minute, 3, true)));
}

}  // namespace
}  // namespace fleetlog
