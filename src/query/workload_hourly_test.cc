// workload_hourly answers each cluster-day from its roll-up or from its raw rows, and either
// way equals the hourly aggregates computed straight from the raw rows: differentially, over
// a demo lake (STL clusters and a Serverless workgroup) with some days rolled up, some not,
// and purges that rebuilt rolled-up days; and a statement over a long range opens the
// roll-ups, not the raw files of the days they cover.
#include "query/workload_hourly.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/env.h"
#include "demo/demo.h"
#include "lake/replace.h"
#include "query/engine.h"
#include "query/worker.h"
#include "test_util.h"
#include "upkeep/purge.h"
#include "upkeep/rollup.h"
#include "upkeep_test_util.h"

namespace fleetlog {
namespace {

CommittedFile File(const std::string& table, const std::string& cluster, const std::string& dt) {
  CommittedFile f;
  f.table = table;
  f.cluster = cluster;
  f.dt = dt;
  f.path = table + "/cluster=" + cluster + "/dt=" + dt + "/f.parquet";
  return f;
}

std::set<std::string> Paths(const std::vector<const CommittedFile*>& files) {
  std::set<std::string> out;
  for (const auto* f : files) out.insert(f->path);
  return out;
}

TEST(WorkloadRouteTest, RolledUpDaysReadTheRollupOthersTheirFamilysRawFiles) {
  const std::vector<CommittedFile> files = {
      File("rollup_hourly", "a", "2026-11-01"),     File("stl_query", "a", "2026-11-01"),         // rolled up
      File("stl_query", "a", "2026-11-02"),         File("stl_scan", "a", "2026-11-02"),          // STL day
      File("stl_querytext", "a", "2026-11-02"),                                                   // not an input
      File("sys_query_history", "s", "2026-11-02"), File("sys_query_detail", "s", "2026-11-02"),  // SYS day
      File("sys_query_history", "b", "2026-11-02"), File("stl_wlm_query", "b", "2026-11-02"),     // both: STL
  };
  const WorkloadRoute route = RouteWorkload(files);
  EXPECT_EQ(Paths(route.rollups), Paths({&files[0]}));
  EXPECT_EQ(Paths(route.stl.at("stl_query")), Paths({&files[2]}));
  EXPECT_EQ(Paths(route.stl.at("stl_scan")), Paths({&files[3]}));
  EXPECT_EQ(Paths(route.stl.at("stl_wlm_query")), Paths({&files[8]}));
  EXPECT_EQ(Paths(route.sys.at("sys_query_history")), Paths({&files[5]}));
  EXPECT_EQ(Paths(route.sys.at("sys_query_detail")), Paths({&files[6]}));
  EXPECT_EQ(route.files().size(), 6u);
}

// A day rolled up part-way reads its roll-up for the hours before the roll-up's end and, for
// the hours from there on, only its raw files whose rows may reach them (by their cursor range).
TEST(WorkloadRouteTest, ADayRolledUpPartWayReadsTheRawFilesFromTheRollupsEndOn) {
  const Timestamp day = *ParseTimestamp("2026-11-02");
  auto ranged = [&](CommittedFile f, int from_h, int to_h, const char* name) {
    f.min_cursor = day + Duration::Hours(from_h);
    f.max_cursor = day + Duration::Hours(to_h) - Duration::Micros(1);
    f.path += name;
    return f;
  };
  std::vector<CommittedFile> files = {
      ranged(File("rollup_hourly", "a", "2026-11-02"), 0, 13, ""),        // the hours before 13:00
      ranged(File("stl_query", "a", "2026-11-02"), 0, 12, "1"),           // rows 00:00-11:59: skipped
      ranged(File("stl_query", "a", "2026-11-02"), 12, 13, "2"),          // ends 12:59:59.999999: skipped
      ranged(File("stl_query", "a", "2026-11-02"), 12, 14, "3"),          // reaches 13:00: read
      File("stl_scan", "a", "2026-11-02"),                                 // no range known: read
      ranged(File("rollup_hourly", "a", "2026-11-01"), 0, 24, ""),        // a whole day
      File("stl_query", "a", "2026-11-01"),
  };
  files[5].dt = "2026-11-01";
  files[5].min_cursor = day - Duration::Days(1);
  files[5].max_cursor = day - Duration::Micros(1);
  const WorkloadRoute route = RouteWorkload(files);
  EXPECT_EQ(RolledUpUntil(files[0]), day + Duration::Hours(13));
  EXPECT_EQ(RolledUpUntil(files[5]), day);
  EXPECT_EQ(RolledUpUntil(File("rollup_hourly", "a", "2026-11-01")), day);  // no range: the whole day
  EXPECT_EQ(Paths(route.rollups), Paths({&files[0], &files[5]}));
  EXPECT_EQ(Paths(route.stl.at("stl_query")), Paths({&files[3]}));
  EXPECT_EQ(Paths(route.stl.at("stl_scan")), Paths({&files[4]}));
  ASSERT_EQ(route.partial.size(), 1u);
  EXPECT_EQ(route.partial.at({"a", "2026-11-02"}).until, day + Duration::Hours(13));
  EXPECT_EQ(route.partial.at({"a", "2026-11-02"}).late_until, day + Duration::Hours(13));  // no late mark recorded
}

// A query worker (query/worker.h) routes the snapshot it is handed as the server would.
TEST(WorkloadRouteTest, AWorkersSnapshotRoutesAsTheServers) {
  WorkerRequest request;
  request.snapshot.files = {File("rollup_hourly", "a", "2026-11-01"), File("stl_query", "a", "2026-11-01"),
                            File("stl_query", "a", "2026-11-02"), File("rollup_hourly", "a", "2026-11-02"),
                            File("stl_query", "a", "2026-11-02"), File("stl_query", "a", "2026-11-02")};
  // 2026-11-02 is rolled up to 13:00: of its raw files, the one ending before is not read.
  const Timestamp day = *ParseTimestamp("2026-11-02");
  request.snapshot.files[3].max_cursor = day + Duration::Hours(13) - Duration::Micros(1);
  request.snapshot.files[4].path += ".early";
  request.snapshot.files[4].max_cursor = day + Duration::Hours(12);
  request.snapshot.files[5].path += ".late";
  request.snapshot.files[5].max_cursor = day + Duration::Hours(13);
  request.engine.kept_table_bytes = 0;  // and a worker that keeps no table in memory stays one
  auto decoded = DecodeWorkerRequest(EncodeWorkerRequest(request));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->engine.kept_table_bytes, std::optional<int64_t>(0));
  const WorkloadRoute route = RouteWorkload(decoded->snapshot.files);
  EXPECT_EQ(Paths(route.files()), Paths(RouteWorkload(request.snapshot.files).files()));
  EXPECT_EQ(Paths(route.files()).size(), 4u);  // both roll-ups, 2026-11-02's undated and late files
  EXPECT_EQ(route.partial, RouteWorkload(request.snapshot.files).partial);
  EXPECT_EQ(route.partial.size(), 1u);
}

// The hourly aggregates straight from the raw tables, written apart from the shared SQL: one
// row per cluster and hour; a cluster-day with any STL input rows counts those alone.
constexpr const char* kReference = R"(
WITH stl_days AS (SELECT cluster, dt FROM stl_query UNION SELECT cluster, dt FROM stl_wlm_query
                  UNION SELECT cluster, dt FROM stl_scan UNION SELECT cluster, dt FROM stl_alert_event_log),
hist AS (SELECT * FROM sys_query_history h
         WHERE NOT EXISTS (SELECT 1 FROM stl_days s WHERE s.cluster = h.cluster AND s.dt = h.dt)),
detail AS (SELECT d.*, h.end_time AS query_end FROM sys_query_detail d
           JOIN hist h ON h.cluster = d.cluster AND h.query_id = d.query_id),
runs AS (SELECT cluster, date_trunc('hour', endtime) AS hour, aborted = 1 AS failed,
                epoch(endtime) - epoch(starttime) AS run_s FROM stl_query
         UNION ALL SELECT cluster, date_trunc('hour', end_time), status IN ('failed', 'canceled', 'cancelled'),
                elapsed_time / 1e6 FROM hist),
waits AS (SELECT cluster, date_trunc('hour', service_class_end_time) AS hour, total_queue_time / 1e6 AS wait_s
          FROM stl_wlm_query
          UNION ALL SELECT cluster, date_trunc('hour', end_time), queue_time / 1e6 FROM hist),
steps AS (SELECT cluster, date_trunc('hour', endtime) AS hour, query AS q, type = 3 AS disk, false AS alert FROM stl_scan
          UNION ALL SELECT cluster, date_trunc('hour', event_time), query, false, true FROM stl_alert_event_log
          UNION ALL SELECT cluster, date_trunc('hour', query_end), query_id,
                spilled_block_local_disk > 0 OR spilled_block_remote_disk > 0, trim(alert) <> '' FROM detail),
keys AS (SELECT cluster, hour FROM runs UNION SELECT cluster, hour FROM waits UNION SELECT cluster, hour FROM steps)
SELECT cluster, hour, coalesce(r.queries, 0), coalesce(r.aborted, 0), r.p50, r.p95, coalesce(w.n, 0), w.p50, w.p95,
       w.top, coalesce(s.disk, 0), coalesce(s.alerts, 0)
FROM (SELECT cluster, hour, CAST(hour AS DATE) AS dt FROM keys) keys
LEFT JOIN (SELECT cluster, hour, count(*) AS queries, count(*) FILTER (WHERE failed) AS aborted,
                  quantile_cont(run_s, 0.5) AS p50, quantile_cont(run_s, 0.95) AS p95 FROM runs GROUP BY ALL) r
  USING (cluster, hour)
LEFT JOIN (SELECT cluster, hour, count(wait_s) AS n, quantile_cont(wait_s, 0.5) AS p50, quantile_cont(wait_s, 0.95) AS p95,
                  max(wait_s) AS top FROM waits GROUP BY ALL) w USING (cluster, hour)
LEFT JOIN (SELECT cluster, hour, count(DISTINCT q) FILTER (WHERE disk) AS disk, count(*) FILTER (WHERE alert) AS alerts
           FROM steps GROUP BY ALL) s USING (cluster, hour)
WHERE {where} ORDER BY cluster, hour)";

constexpr const char* kRouted =
    "SELECT cluster, hour, queries, aborted, p50_run_s, p95_run_s, wlm_queries, p50_queue_s, p95_queue_s, max_queue_s, "
    "disk_based_queries, alerts FROM workload_hourly WHERE {where} ORDER BY cluster, hour";

std::vector<std::string> RowsOf(QueryEngine& engine, const std::string& sql) {
  return upkeep::testing::UpkeepLake::RowsOf(engine, sql);
}

// A demo lake of three STL clusters and a Serverless workgroup over three days and today;
// each cluster's days rolled up but one, which is rolled up part-way (to 09:00, then extended
// to 14:00, as an open day is while its hours close), and today up to half its hours; then
// purges that remove some queries of both families, rebuilding the roll-ups of the days they
// touch as far as they went.
class WorkloadLake : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    log_level_ = spdlog::get_level();
    spdlog::set_level(spdlog::level::warn);  // the demo's export logs every window
    dir_ = new test::TempDir();
    const Timestamp now = Env::Default()->Now();
    auto path = CreateDemoWorkspace({.clusters = 4, .days = 3, .dir = dir_->Sub("demo"), .end = now});
    ASSERT_TRUE(path.ok()) << path.status().ToString();
    auto config = LoadConfig(*path);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = new Config(*config);
    std::ostringstream progress;
    ASSERT_TRUE(BackfillDemo(*config_, 3, now, progress).ok());

    auto state = OpenSqliteStateStore(config_->state_path, OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    const LakeLayout lake(config_->lake_path);
    auto files = (*state)->ListFiles({.states = {FileState::kPublished}});
    ASSERT_TRUE(files.ok());
    std::set<std::pair<std::string, std::string>> days;
    for (const auto& f : *files)
      if (IsHourlyInput(f.table)) days.insert({f.cluster, f.dt});
    auto db = upkeep::OpenUpkeepDatabase(lake);
    ASSERT_TRUE(db.ok());
    auto conn = duck::Connection::Open(*db);
    ASSERT_TRUE(conn.ok());
    const std::string today = DateOf(now);
    std::map<std::string, int> seen;  // per cluster: its days so far
    const Timestamp today_start = *ParseTimestamp(today);
    const int64_t hours_today = (now - today_start).micros() / Duration::Hours(1).micros();
    for (const auto& [cluster, dt] : days) {
      // Each cluster rolls a different day up part-way, and today up to half its hours.
      const int index = seen[cluster]++;
      const Timestamp day = *ParseTimestamp(dt);
      if (dt == today) {
        if (hours_today < 2) continue;
        // Its alerts (a late column) to two hours less.
        const RollupMarks marks{day + Duration::Hours(hours_today / 2),
                                day + Duration::Hours(std::max<int64_t>(0, hours_today / 2 - 2))};
        auto hours = upkeep::ExtendRollupDay(**state, lake, **conn, cluster, dt, marks);
        ASSERT_TRUE(hours.ok()) << hours.status().ToString();
        partial_.push_back({cluster, marks});
      } else if (index == 1 + static_cast<int>(cluster.back() - '0') % 2) {  // a whole day of rows (the first is not)
        // The alerts (a late column) behind the rest, then caught up past the first mark.
        for (auto [until, late] : {std::pair{9, 5}, std::pair{14, 11}}) {
          const RollupMarks marks{day + Duration::Hours(until), day + Duration::Hours(late)};
          auto hours = upkeep::ExtendRollupDay(**state, lake, **conn, cluster, dt, marks);
          ASSERT_TRUE(hours.ok()) << hours.status().ToString();
          EXPECT_GT(*hours, 0) << cluster << " " << dt << " to " << until;
        }
        partial_.push_back({cluster, {day + Duration::Hours(14), day + Duration::Hours(11)}});
      } else {
        auto hours = upkeep::RebuildRollupDay(**state, lake, **conn, cluster, dt);
        ASSERT_TRUE(hours.ok()) << hours.status().ToString();
        ++rolled_up_days_;
      }
    }
    conn->reset();
    const std::vector<std::pair<std::string, std::string>> purges = {{"stl_query", "query % 5 = 0"},
                                                                     {"sys_query_history", "query_id % 5 = 0"}};
    for (const auto& [table, predicate] : purges) {
      auto purged = upkeep::PurgeRows(**state, lake, *config_, {.table = table, .predicate = predicate});
      ASSERT_TRUE(purged.ok()) << purged.status().ToString();
      EXPECT_GT(purged->rows_matched, 0) << table;
      rebuilt_days_ += purged->rollup_days_rebuilt;
    }
  }
  static void TearDownTestSuite() {
    spdlog::set_level(log_level_);
    delete config_;
    delete dir_;
  }

  std::unique_ptr<QueryEngine> Open(std::optional<std::string> views_for_sql = std::nullopt,
                                    std::optional<int64_t> kept_rollup_rows = std::nullopt) {
    auto state = OpenSqliteStateStore(config_->state_path, OpenMode::kReadOnly);
    EXPECT_TRUE(state.ok());
    auto engine = QueryEngine::Open({.lake_root = config_->lake_path,
                                     .memory_limit_bytes = 512LL << 20,
                                     .threads = 1,
                                     .views_for_sql = std::move(views_for_sql),
                                     .kept_rollup_rows = kept_rollup_rows},
                                    state->get());
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    return engine.ok() ? std::move(engine).value() : nullptr;
  }

  static inline test::TempDir* dir_ = nullptr;
  static inline Config* config_ = nullptr;
  static inline int rolled_up_days_ = 0;
  static inline int rebuilt_days_ = 0;
  static inline std::vector<std::pair<std::string, RollupMarks>> partial_;  // cluster, its day's marks
  static inline spdlog::level::level_enum log_level_ = spdlog::level::info;
};

TEST_F(WorkloadLake, EqualsTheRawAggregatesForRandomRangesAndClusters) {
  ASSERT_GE(rolled_up_days_, 4);
  ASSERT_GE(partial_.size(), 4u);
  EXPECT_GE(rebuilt_days_, 4) << "the purges rebuilt rolled-up days of both families, whole and part-way";
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  const std::vector<std::string> span = RowsOf(*engine,
                                               "SELECT epoch(min(hour))::BIGINT, epoch(max(hour))::BIGINT, "
                                               "count(*) FILTER (WHERE source = 'rollup'), "
                                               "count(*) FILTER (WHERE source = 'raw') FROM workload_hourly");
  ASSERT_EQ(span.size(), 1u);
  int64_t first = 0, last = 0, rollup_rows = 0, raw_rows = 0;
  ASSERT_EQ(std::sscanf(span[0].c_str(), "%ld|%ld|%ld|%ld", &first, &last, &rollup_rows, &raw_rows), 4);
  EXPECT_GT(rollup_rows, 0);
  EXPECT_GT(raw_rows, 0);
  const std::vector<std::string> clusters = {"sim-1", "sim-2", "sim-3", "sim-serverless-4"};

  // The whole lake, then random ranges (any hour to any later hour, sometimes with dt bounds
  // too) of random sets of clusters.
  std::vector<std::string> filters = {"true"};
  std::mt19937 random(18);
  const int64_t hours = (last - first) / 3600 + 1;
  for (int i = 0; i < 24; ++i) {
    const int64_t from = first + static_cast<int64_t>(random() % static_cast<uint64_t>(hours)) * 3600;
    const int64_t to = from + static_cast<int64_t>(1 + random() % static_cast<uint64_t>(hours)) * 3600;
    std::string in;
    for (const auto& c : clusters)
      if (random() % 2) in += (in.empty() ? "'" : ", '") + c + "'";
    std::string where =
        fmt::format("hour >= to_timestamp({})::TIMESTAMP AND hour < to_timestamp({})::TIMESTAMP", from, to);
    if (!in.empty()) where += " AND cluster IN (" + in + ")";
    if (i % 3 == 0) where += fmt::format(" AND dt BETWEEN to_timestamp({})::DATE AND to_timestamp({})::DATE", from, to);
    filters.push_back(where);
  }
  // Ranges that start, end or cut at a part-way roll-up's marks: the hour before one is the
  // roll-up's, the hour at it the raw rows'. A mark one hour off counts an hour twice or never.
  for (const auto& [cluster, marks] : partial_) {
    for (const Timestamp mark : {marks.until, marks.late_until})
      for (const auto& [from, to] : {std::pair{-1, 1}, std::pair{-3, 0}, std::pair{0, 2}, std::pair{-1, 0}, std::pair{0, 1}})
        filters.push_back(fmt::format("cluster = '{}' AND hour >= to_timestamp({})::TIMESTAMP AND hour < to_timestamp({})::TIMESTAMP",
                                      cluster, (mark + Duration::Hours(from)).micros() / 1'000'000,
                                      (mark + Duration::Hours(to)).micros() / 1'000'000));
  }
  for (const auto& where : filters) {
    const auto routed = RowsOf(*engine, fmt::format(fmt::runtime(kRouted), fmt::arg("where", where)));
    const auto raw = RowsOf(*engine, fmt::format(fmt::runtime(kReference), fmt::arg("where", where)));
    EXPECT_EQ(routed, raw) << where;
    if (where == "true") {
      EXPECT_EQ(static_cast<int64_t>(routed.size()), rollup_rows + raw_rows);
    }
  }
}

TEST_F(WorkloadLake, ThePartWayRollupsAnswerTheHoursBeforeTheirEndTheRawRowsTheRest) {
  auto engine = Open();
  ASSERT_NE(engine, nullptr);
  for (const auto& [cluster, marks] : partial_) {
    const Timestamp until = marks.until;
    const auto sources = RowsOf(*engine, fmt::format(
        "SELECT hour < to_timestamp({})::TIMESTAMP AS before, string_agg(DISTINCT source, ',') FROM workload_hourly "
        "WHERE cluster = '{}' AND dt = to_timestamp({})::DATE GROUP BY ALL ORDER BY ALL",
        until.micros() / 1'000'000, cluster, until.micros() / 1'000'000 - 1));
    ASSERT_EQ(sources.size(), 2u) << cluster;
    EXPECT_EQ(sources[0], "false|raw") << cluster;
    EXPECT_EQ(sources[1], "true|rollup") << cluster;
  }
}

TEST_F(WorkloadLake, ALongRangeOpensTheRollupsNotTheRawFilesOfTheDaysTheyCover) {
  const std::string sql = "SELECT cluster, sum(queries) FROM workload_hourly GROUP BY cluster ORDER BY cluster";
  auto routed = Open(sql);
  ASSERT_NE(routed, nullptr);
  auto state = OpenSqliteStateStore(config_->state_path, OpenMode::kReadOnly);
  ASSERT_TRUE(state.ok());
  std::map<std::pair<std::string, std::string>, RollupMarks> rolled_up;
  std::set<std::string> rollup_files, raw_files_of_rolled_days, raw_files_of_other_days;
  const auto files = *(*state)->ListFiles({.states = {FileState::kPublished}});
  for (const auto& f : files)
    if (f.table == kRollupTable) {
      rolled_up[{f.cluster, f.dt}] = RolledUpMarks(f);
      rollup_files.insert(config_->lake_path + "/" + f.path);
    }
  for (const auto& f : files) {
    if (!IsHourlyInput(f.table)) continue;
    // Covered: the roll-up has the whole day, or every hour the file's rows count in.
    const auto r = rolled_up.find({f.cluster, f.dt});
    const bool covered = r != rolled_up.end() && (r->second.late_until == *ParseTimestamp(f.dt) + Duration::Days(1) ||
                                                  (f.max_cursor && *f.max_cursor < r->second.For(f.table)));
    (covered ? raw_files_of_rolled_days : raw_files_of_other_days).insert(config_->lake_path + "/" + f.path);
  }
  ASSERT_FALSE(raw_files_of_rolled_days.empty());
  ASSERT_FALSE(raw_files_of_other_days.empty());
  // What the sandbox lets DuckDB open for this statement: every roll-up, the raw files of the
  // days without one (of the family the day is counted from), nothing else.
  // (by their table names: the engine reads a local lake's files by their reader names).
  const std::string readers = config_->lake_path + "/" + LakeLayout::ReaderDir() + "/";
  std::set<std::string> opened;
  for (const auto& path : routed->readable_files())
    opened.insert(path.starts_with(readers) ? config_->lake_path + "/" + path.substr(readers.size()) : path);
  for (const auto& f : rollup_files) EXPECT_TRUE(opened.count(f)) << f;
  for (const auto& f : raw_files_of_rolled_days) EXPECT_FALSE(opened.count(f)) << f;
  for (const auto& f : opened) EXPECT_TRUE(rollup_files.count(f) || raw_files_of_other_days.count(f)) << f;

  // And it answers as the engine with every view does.
  auto full = Open();
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(RowsOf(*routed, sql), RowsOf(*full, sql));
  EXPECT_EQ(RowsOf(*routed, sql).size(), 4u);
}

TEST_F(WorkloadLake, ALongLivedEngineKeepsTheRawRowsOnceAndAnswersAsTheRawFiles) {
  // A statement that does not read the view leaves them; after the first that names it,
  // the engine keeps them in the background, and answers alike from them.
  auto kept = Open();
  ASSERT_NE(kept, nullptr);
  EXPECT_FALSE(RowsOf(*kept, "SELECT count(*) FROM stl_query").empty());
  kept->WaitForBackgroundWork();
  EXPECT_FALSE(kept->workload_rows_kept());
  const std::string all = fmt::format(fmt::runtime(kRouted), fmt::arg("where", "true"));
  const auto rows = RowsOf(*kept, all);
  kept->WaitForBackgroundWork();
  EXPECT_TRUE(kept->workload_rows_kept());
  EXPECT_EQ(RowsOf(*kept, all), rows);
  // One statement's engine reads the raw files inside the view, as every statement did.
  auto inline_view = Open(all);
  ASSERT_NE(inline_view, nullptr);
  EXPECT_EQ(rows, RowsOf(*inline_view, all));
  EXPECT_FALSE(inline_view->workload_rows_kept());
  for (const auto& [cluster, marks] : partial_) {
    const std::string around = fmt::format(fmt::runtime(kRouted), fmt::arg("where", fmt::format(
        "cluster = '{}' AND hour >= to_timestamp({})::TIMESTAMP - INTERVAL 3 HOUR", cluster, marks.late_until.micros() / 1'000'000)));
    EXPECT_EQ(RowsOf(*kept, around), RowsOf(*Open(around), around)) << cluster;
  }
  // A name built at run time reads the view too, and finds its raw rows.
  auto built = Open();
  ASSERT_NE(built, nullptr);
  const auto counted = RowsOf(*built, "SELECT count(*) FROM query('SELECT * FROM workload' || '_hourly')");
  built->WaitForBackgroundWork();
  EXPECT_TRUE(built->workload_rows_kept());
  EXPECT_EQ(RowsOf(*built, "SELECT count(*) FROM query('SELECT * FROM workload' || '_hourly')"), counted);
  EXPECT_EQ(counted, std::vector<std::string>{std::to_string(rows.size())});
}

TEST_F(WorkloadLake, ALongLivedEngineKeepsTheNewestDaysRollupsAndAnswersAsTheFiles) {
  const std::string all = fmt::format(fmt::runtime(kRouted), fmt::arg("where", "true"));
  const auto expected = RowsOf(*Open(all), all);
  ASSERT_FALSE(expected.empty());
  // The roll-up rows per day, newest first: what each bound must keep.
  auto state = OpenSqliteStateStore(config_->state_path, OpenMode::kReadOnly);
  ASSERT_TRUE(state.ok());
  const auto files = (*state)->ListFiles({.states = {FileState::kPublished}});
  ASSERT_TRUE(files.ok());
  std::map<std::string, int64_t, std::greater<>> rows_by_day;
  for (const auto& f : *files)
    if (f.table == kRollupTable) rows_by_day[f.dt] += f.rows;
  ASSERT_GE(rows_by_day.size(), 3u);
  const int64_t newest = rows_by_day.begin()->second, second = std::next(rows_by_day.begin())->second;
  int64_t every = 0;
  for (const auto& [dt, rows] : rows_by_day) every += rows;
  // None (the bound below the newest day), the newest day alone (a bound that reaches into
  // the second day takes none of it), two days, every day: the same rows each time.
  const std::vector<std::pair<int64_t, int64_t>> bounds = {
      {newest - 1, 0}, {newest + second - 1, newest}, {newest + second, newest + second}, {every, every}};
  for (const auto& [bound, kept_rows] : bounds) {
    auto engine = Open(std::nullopt, bound);
    ASSERT_NE(engine, nullptr);
    EXPECT_EQ(RowsOf(*engine, all), expected) << "at most " << bound << " rows kept";
    engine->WaitForBackgroundWork();
    EXPECT_EQ(RowsOf(*engine, all), expected) << "at most " << bound << " rows kept";
    EXPECT_TRUE(engine->workload_rows_kept());
    const auto kept = RowsOf(
        *engine, fmt::format("SELECT count(*) FROM duckdb_tables() WHERE table_name = '{}'", kWorkloadRollupRowsTable));
    ASSERT_EQ(kept, std::vector<std::string>{kept_rows ? "1" : "0"}) << bound;
    if (kept_rows) {
      EXPECT_EQ(RowsOf(*engine, fmt::format("SELECT count(*) FROM {}", kWorkloadRollupRowsTable)),
                std::vector<std::string>{std::to_string(kept_rows)})
          << bound;
    }
  }
  // Statements that run while the rows are copied answer alike, from the files or the
  // kept rows, whichever the view reads when each starts.
  auto busy = Open();
  ASSERT_NE(busy, nullptr);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(RowsOf(*busy, all), expected) << i;
  // An engine destroyed just after the statement that starts the copy ends cleanly, whether
  // or not the copy is done (it is interrupted and joined).
  auto gone = Open();
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(RowsOf(*gone, all), expected);
  gone.reset();

  // A question of the newest day reads no roll-up file then, and answers alike.
  const std::string today =
      fmt::format(fmt::runtime(kRouted), fmt::arg("where", fmt::format("dt = DATE '{}'", rows_by_day.begin()->first)));
  auto newest_kept = Open(std::nullopt, newest);
  ASSERT_NE(newest_kept, nullptr);
  const auto first = RowsOf(*newest_kept, today);
  newest_kept->WaitForBackgroundWork();
  EXPECT_TRUE(newest_kept->workload_rows_kept());
  EXPECT_EQ(RowsOf(*newest_kept, today), first);
  EXPECT_EQ(first, RowsOf(*Open(today), today));
}

}  // namespace
}  // namespace fleetlog
