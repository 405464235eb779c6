#include "source/sim/sim_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "source/sim/sim_workload.h"
#include "source/table_spec.h"

namespace fleetlog {
namespace {

constexpr Duration kDay = Duration::Days(1);

class FixedClock final : public Clock {
 public:
  explicit FixedClock(Timestamp now) : now_(now) {}
  Timestamp Now() const override { return now_; }

 private:
  Timestamp now_;
};

// Wednesday 2025-06-18 12:00 UTC.
Timestamp TestNow() { return ParseTimestamp("2025-06-18 12:00:00").value(); }

SimOptions Options(const std::string& cluster, uint64_t seed, Timestamp now = TestNow()) {
  return {.cluster = cluster, .seed = seed, .scale = 1.0, .clock = std::make_shared<FixedClock>(now)};
}

// A table's rows, each as its values joined by '|', in the order they came.
struct Rows {
  TableSchema schema;
  std::vector<std::vector<std::string>> values;
  size_t batches = 0;
  size_t largest_batch = 0;

  int Col(const std::string& name) const { return FindColumn(schema, name); }
  std::vector<std::string> Joined() const {
    std::vector<std::string> out;
    for (const auto& row : values) {
      std::string s;
      for (const auto& v : row) s += v + "|";
      out.push_back(std::move(s));
    }
    return out;
  }
  std::vector<std::string> Sorted() const {
    auto out = Joined();
    std::sort(out.begin(), out.end());
    return out;
  }
};

Rows ReadRows(Source& source, const std::string& table, Timestamp lower, Timestamp upper, size_t batch_rows = 4096) {
  Rows rows;
  const SourceQuery query{.spec = FindRedshiftTable(table), .lower = lower, .upper = upper, .batch_rows = batch_rows};
  Status status = source.Read(query, [&](RowBatch& batch) {
    rows.schema = batch.schema();
    ++rows.batches;
    rows.largest_batch = std::max(rows.largest_batch, batch.rows());
    for (size_t r = 0; r < batch.rows(); ++r) {
      std::vector<std::string> row;
      for (size_t c = 0; c < batch.schema().size(); ++c) {
        const Column& col = batch.column(c);
        row.push_back(col.type == ColumnType::kVarchar ? col.strings[r] : std::to_string(col.ints[r]));
      }
      rows.values.push_back(std::move(row));
    }
    return Status::Ok();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return rows;
}

const std::vector<std::string>& AllTables() {
  static const std::vector<std::string> tables = {"stl_query", "stl_querytext", "stl_explain", "stl_wlm_query",
                                                  "stl_scan", "stl_alert_event_log", "stl_ddltext", "stl_utilitytext"};
  return tables;
}

TEST(SimSource, SameSeedSameRowsOtherSeedOtherRows) {
  const Timestamp from = TestNow() - Duration::Hours(3);
  for (const auto& table : AllTables()) {
    auto a = MakeSimSource(Options("alpha", 42));
    auto b = MakeSimSource(Options("alpha", 42));
    auto c = MakeSimSource(Options("alpha", 43));
    const Rows ra = ReadRows(*a, table, from, TestNow());
    EXPECT_FALSE(ra.values.empty()) << table;
    EXPECT_EQ(ra.Joined(), ReadRows(*b, table, from, TestNow()).Joined()) << table;
    EXPECT_NE(ra.Joined(), ReadRows(*c, table, from, TestNow()).Joined()) << table;
  }
}

TEST(SimSource, RowsDoNotDependOnHowWindowsAreCut) {
  const Timestamp a = TestNow() - Duration::Hours(9);
  const Timestamp b = a + Duration::Minutes(137) + Duration::Micros(12345);
  const Timestamp c = TestNow() + Duration::Hours(1);  // past Now(): only what exists
  for (const auto& table : AllTables()) {
    auto whole_source = MakeSimSource(Options("beta", 7));
    auto parts_source = MakeSimSource(Options("beta", 7));
    const Rows whole = ReadRows(*whole_source, table, a, c);
    std::vector<std::string> parts = ReadRows(*parts_source, table, a, b).Joined();
    for (auto& row : ReadRows(*parts_source, table, b, c).Joined()) parts.push_back(std::move(row));
    std::sort(parts.begin(), parts.end());
    EXPECT_EQ(whole.Sorted(), parts) << table;
  }
}

TEST(SimSource, OnlyFinishedWorkIsVisibleAndLongQueriesArriveLate) {
  auto source = MakeSimSource(Options("gamma", 3));
  const Rows rows = ReadRows(*source, "stl_query", TestNow() - kDay * 2, TestNow() + kDay);
  const int start = rows.Col("starttime");
  const int end = rows.Col("endtime");
  int late = 0;
  for (const auto& row : rows.values) {
    const int64_t s = std::stoll(row[start]);
    const int64_t e = std::stoll(row[end]);
    EXPECT_LE(e, TestNow().micros());
    EXPECT_LE(s, e);
    if (e - s > Duration::Hours(1).micros()) ++late;
  }
  EXPECT_GT(late, 2) << "expected some queries to run for over an hour";

  // Queries running at Now() are not there yet; six hours later they are, with start times
  // older than rows that were already visible.
  auto later = MakeSimSource(Options("gamma", 3, TestNow() + Duration::Hours(6)));
  const Rows after = ReadRows(*later, "stl_query", TestNow() - kDay, TestNow() + Duration::Hours(6));
  int arrived = 0;
  for (const auto& row : after.values)
    if (std::stoll(row[start]) < TestNow().micros() && std::stoll(row[end]) > TestNow().micros()) ++arrived;
  EXPECT_GT(arrived, 0);
  // Alerts carry the query's start time but appear only when the query finishes.
  auto early = MakeSimSource(Options("gamma", 3));
  const Timestamp from = TestNow() - kDay;
  const size_t seen_early = ReadRows(*early, "stl_alert_event_log", from, TestNow()).values.size();
  EXPECT_LE(seen_early, ReadRows(*later, "stl_alert_event_log", from, TestNow()).values.size());
  const Rows alerts = ReadRows(*later, "stl_alert_event_log", from, TestNow() + Duration::Hours(6));
  for (const auto& row : alerts.values) EXPECT_LE(std::stoll(row[alerts.Col("event_time")]), TestNow().micros() + Duration::Hours(6).micros());
}

TEST(SimSource, KeysAreUniqueAndQueryIdsFollowStartTime) {
  auto source = MakeSimSource(Options("delta", 11));
  const Timestamp from = TestNow() - kDay;
  for (const auto& table : AllTables()) {
    const Rows rows = ReadRows(*source, table, from, TestNow());
    const TableSpec* spec = FindRedshiftTable(table);
    std::set<std::string> keys;
    for (const auto& row : rows.values) {
      std::string key;
      for (const auto& k : spec->key) key += row[rows.Col(k)] + "|";
      EXPECT_TRUE(keys.insert(key).second) << table << " repeats key " << key;
    }
  }
  Rows queries = ReadRows(*source, "stl_query", from, TestNow());
  std::vector<std::pair<int64_t, int64_t>> by_start;
  for (const auto& row : queries.values)
    by_start.emplace_back(std::stoll(row[queries.Col("starttime")]), std::stoll(row[queries.Col("query")]));
  std::sort(by_start.begin(), by_start.end());
  for (size_t i = 1; i < by_start.size(); ++i) EXPECT_LT(by_start[i - 1].second, by_start[i].second);
}

TEST(SimSource, ChildRowsCarryTheirQueryEndtime) {
  auto source = MakeSimSource(Options("epsilon", 5));
  const Timestamp from = TestNow() - Duration::Hours(6);
  const Rows queries = ReadRows(*source, "stl_query", from, TestNow());
  std::map<std::string, std::string> endtime;
  for (const auto& row : queries.values) endtime[row[queries.Col("query")]] = row[queries.Col("endtime")];
  for (const char* table : {"stl_querytext", "stl_explain"}) {
    const Rows rows = ReadRows(*source, table, from, TestNow());
    ASSERT_FALSE(rows.values.empty());
    EXPECT_EQ(rows.schema.back(), (ColumnSchema{kPartitionColumn, ColumnType::kTimestamp}));
    for (const auto& row : rows.values) {
      auto it = endtime.find(row[rows.Col("query")]);
      ASSERT_NE(it, endtime.end()) << table << " row of a query outside the window";
      EXPECT_EQ(row.back(), it->second);
    }
  }
}

TEST(SimSource, TextPiecesReassembleIncludingPast64KB) {
  auto source = MakeSimSource(Options("zeta", 9));
  const Timestamp from = TestNow() - kDay * 2;
  const Rows queries = ReadRows(*source, "stl_query", from, TestNow());
  const Rows pieces = ReadRows(*source, "stl_querytext", from, TestNow());
  std::map<std::string, std::map<int, std::string>> texts;
  for (const auto& row : pieces.values)
    texts[row[pieces.Col("query")]][std::stoi(row[pieces.Col("sequence")])] = row[pieces.Col("text")];
  size_t giant = 0;
  for (const auto& row : queries.values) {
    const auto& parts = texts[row[queries.Col("query")]];
    ASSERT_FALSE(parts.empty());
    std::string text;
    int expected = 0;
    for (const auto& [sequence, piece] : parts) {
      EXPECT_EQ(sequence, expected++);
      if (sequence + 1 < static_cast<int>(parts.size())) {
        EXPECT_EQ(piece.size(), 200u);
      }
      text += piece;
    }
    EXPECT_EQ(text.find('\n'), std::string::npos) << "newlines are stored as \\n";
    const std::string& querytxt = row[queries.Col("querytxt")];
    EXPECT_LE(querytxt.size(), 4000u);
    EXPECT_EQ(text.substr(0, querytxt.size()), querytxt);
    if (text.size() > 65536) ++giant;
  }
  EXPECT_GT(giant, 0u) << "expected a statement over 64 KB";
  // DDL pieces follow the same rule.
  const Rows ddl = ReadRows(*source, "stl_ddltext", from, TestNow());
  EXPECT_TRUE(std::any_of(ddl.values.begin(), ddl.values.end(),
                          [&](const auto& row) { return row[ddl.Col("sequence")] == "1"; }));
}

TEST(SimSource, BatchesFollowBatchRowsAndSchema) {
  auto source = MakeSimSource(Options("eta", 1));
  const Rows rows = ReadRows(*source, "stl_scan", TestNow() - Duration::Hours(2), TestNow(), 1000);
  EXPECT_GT(rows.batches, 2u);
  EXPECT_LE(rows.largest_batch, 1000u);
  EXPECT_EQ(rows.schema, FindRedshiftTable("stl_scan")->columns);
}

TEST(SimSource, RefusesCustomQueriesUnknownTablesAndStopsOnCancel) {
  auto source = MakeSimSource(Options("theta", 1));
  TableSpec custom{.name = "sales", .cursor = "ts", .sql = "select 1"};
  const auto sink = [](RowBatch&) { return Status::Ok(); };
  EXPECT_EQ(source->Read({.spec = &custom, .lower = TestNow() - kDay, .upper = TestNow()}, sink).code(),
            StatusCode::kInvalidArgument);
  TableSpec unknown{.name = "stl_nothing", .cursor = "endtime"};
  EXPECT_EQ(source->Read({.spec = &unknown, .lower = TestNow() - kDay, .upper = TestNow()}, sink).code(),
            StatusCode::kNotFound);
  Source* raw = source.get();
  const Status cancelled = source->Read(
      {.spec = FindRedshiftTable("stl_scan"), .lower = TestNow() - kDay, .upper = TestNow(), .batch_rows = 100},
      [raw](RowBatch&) {
        raw->Cancel();
        return Status::Ok();
      });
  EXPECT_EQ(cancelled.code(), StatusCode::kCancelled);
}

// Prints how fast the sim makes rows: the fleet benchmark (200 clusters x 8 tables per cycle)
// and the demo's 7-day backfill depend on it. Timing is reported, not asserted.
TEST(SimSource, GenerationThroughput) {
  const auto seconds_since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const sim::Workload workload(sim::ClusterSeed(1, "throughput"), 1.0);
  const int64_t first = (TestNow() - Duration::Days(7)).micros() / sim::kMinuteUs;
  size_t queries = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int64_t m = first; m < first + 7 * 1440; ++m) queries += workload.Minute(m).queries.size();
  const double generate_s = seconds_since(t0);
  EXPECT_GT(queries, 10000u);
  std::printf("[sim] workload: %zu queries in 7 days, %.0f queries/s generated\n", queries,
              static_cast<double>(queries) / generate_s);
  for (const auto& table : AllTables()) {
    auto source = MakeSimSource(Options("throughput", 1));
    size_t rows = 0;
    t0 = std::chrono::steady_clock::now();
    const Status status = source->Read(
        {.spec = FindRedshiftTable(table), .lower = TestNow() - Duration::Days(7), .upper = TestNow()},
        [&](RowBatch& batch) {
          rows += batch.rows();
          return Status::Ok();
        });
    const double s = seconds_since(t0);
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_GT(rows, 0u) << table;
    std::printf("[sim] %-20s %9zu rows in 7 days, %.3f s, %.0f rows/s\n", table.c_str(), rows, s,
                static_cast<double>(rows) / s);
  }
}

// The fleet benchmark's shape: 200 clusters, every table, two 5-minute cycles with a 15-minute
// lookback (6 hours for alerts). Prints the time of a cold and a warm cycle.
TEST(SimSource, FleetCycleThroughput) {
  std::vector<std::unique_ptr<Source>> fleet;
  for (int c = 0; c < 200; ++c) fleet.push_back(MakeSimSource(Options("fleet-" + std::to_string(c), 1)));
  for (int cycle = 0; cycle < 2; ++cycle) {
    const Timestamp upper = TestNow() - Duration::Minutes(5 * (1 - cycle));
    size_t rows = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& source : fleet) {
      for (const auto& table : AllTables()) {
        const TableSpec* spec = FindRedshiftTable(table);
        const Duration lookback = std::max(Duration::Minutes(15), spec->min_lookback);
        const Status status = source->Read(
            {.spec = spec, .lower = upper - Duration::Minutes(5) - lookback, .upper = upper}, [&](RowBatch& batch) {
              rows += batch.rows();
              return Status::Ok();
            });
        ASSERT_TRUE(status.ok()) << status.ToString();
      }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_GT(rows, 0u);
    std::printf("[sim] fleet cycle %d (%s): 200 clusters x 8 tables, %zu rows, %.3f s\n", cycle + 1,
                cycle ? "warm" : "cold", rows, s);
  }
}

}  // namespace
}  // namespace fleetlog
