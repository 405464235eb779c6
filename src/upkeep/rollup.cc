#include "upkeep/rollup.h"

#include <algorithm>
#include <map>
#include <set>

#include "upkeep/policy.h"
#include "lake/replace.h"
#include "lake/schema_catalog.h"

namespace fleetlog::upkeep {
namespace {

// One input's hourly aggregates: the SQL over its files, and the typed empty relation used
// when a day has no files of that table.
struct RollupInput {
  const char* table;
  const char* cte;
  const char* sql;    // {} is the read_parquet source
  const char* empty;
};

const RollupInput kInputs[] = {
    {"stl_query", "q",
     "SELECT date_trunc('hour', endtime) AS hour, count(*) AS queries, count(*) FILTER (WHERE aborted = 1) AS aborted, "
     "quantile_cont(epoch(endtime) - epoch(starttime), 0.5) AS p50_run_s, "
     "quantile_cont(epoch(endtime) - epoch(starttime), 0.95) AS p95_run_s FROM {} GROUP BY 1",
     "SELECT NULL::TIMESTAMP AS hour, 0::BIGINT AS queries, 0::BIGINT AS aborted, NULL::DOUBLE AS p50_run_s, "
     "NULL::DOUBLE AS p95_run_s WHERE false"},
    {"stl_wlm_query", "w",
     "SELECT date_trunc('hour', service_class_end_time) AS hour, count(*) AS wlm_queries, "
     "quantile_cont(total_queue_time / 1e6, 0.5) AS p50_queue_s, quantile_cont(total_queue_time / 1e6, 0.95) AS p95_queue_s, "
     "max(total_queue_time / 1e6) AS max_queue_s FROM {} GROUP BY 1",
     "SELECT NULL::TIMESTAMP AS hour, 0::BIGINT AS wlm_queries, NULL::DOUBLE AS p50_queue_s, NULL::DOUBLE AS p95_queue_s, "
     "NULL::DOUBLE AS max_queue_s WHERE false"},
    {"stl_scan", "s",
     "SELECT date_trunc('hour', endtime) AS hour, count(DISTINCT query) FILTER (WHERE type = 3) AS disk_based_queries "
     "FROM {} GROUP BY 1",
     "SELECT NULL::TIMESTAMP AS hour, 0::BIGINT AS disk_based_queries WHERE false"},
    {"stl_alert_event_log", "a",
     "SELECT date_trunc('hour', event_time) AS hour, count(*) AS alerts FROM {} GROUP BY 1",
     "SELECT NULL::TIMESTAMP AS hour, 0::BIGINT AS alerts WHERE false"},
};

constexpr const char* kSelect =
    "SELECT h.hour, coalesce(q.queries, 0)::BIGINT AS queries, coalesce(q.aborted, 0)::BIGINT AS aborted, "
    "q.p50_run_s::DOUBLE AS p50_run_s, q.p95_run_s::DOUBLE AS p95_run_s, "
    "coalesce(w.wlm_queries, 0)::BIGINT AS wlm_queries, w.p50_queue_s::DOUBLE AS p50_queue_s, "
    "w.p95_queue_s::DOUBLE AS p95_queue_s, w.max_queue_s::DOUBLE AS max_queue_s, "
    "coalesce(s.disk_based_queries, 0)::BIGINT AS disk_based_queries, coalesce(a.alerts, 0)::BIGINT AS alerts "
    "FROM (SELECT hour FROM q UNION SELECT hour FROM w UNION SELECT hour FROM s UNION SELECT hour FROM a) h "
    "LEFT JOIN q USING (hour) LEFT JOIN w USING (hour) LEFT JOIN s USING (hour) LEFT JOIN a USING (hour) ORDER BY h.hour";

using Day = std::pair<std::string, std::string>;  // cluster, dt

}  // namespace

const TableSchema& RollupSchema() {
  static const TableSchema schema = {
      {"hour", ColumnType::kTimestamp},   {"queries", ColumnType::kInt64},     {"aborted", ColumnType::kInt64},
      {"p50_run_s", ColumnType::kDouble}, {"p95_run_s", ColumnType::kDouble},  {"wlm_queries", ColumnType::kInt64},
      {"p50_queue_s", ColumnType::kDouble}, {"p95_queue_s", ColumnType::kDouble}, {"max_queue_s", ColumnType::kDouble},
      {"disk_based_queries", ColumnType::kInt64}, {"alerts", ColumnType::kInt64}};
  return schema;
}

const std::vector<std::string>& RollupInputs() {
  static const std::vector<std::string> inputs = [] {
    std::vector<std::string> v;
    for (const auto& in : kInputs) v.push_back(in.table);
    return v;
  }();
  return inputs;
}

bool IsRollupInput(const std::string& table) {
  const auto& in = RollupInputs();
  return std::find(in.begin(), in.end(), table) != in.end();
}

Result<bool> HasRollup(StateStore& state, const std::string& cluster, const std::string& dt) {
  ASSIGN_OR_RETURN(auto files, state.ListFiles({.table = kRollupTable, .cluster = cluster, .states = {FileState::kPublished}}));
  return std::any_of(files.begin(), files.end(), [&](const CommittedFile& f) { return f.dt == dt; });
}

Result<int64_t> RebuildRollupDay(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                 const std::string& cluster, const std::string& dt) {
  const Timestamp started = lake.env().Now();
  std::string with;
  int64_t rows_read = 0;
  for (const auto& in : kInputs) {
    ASSIGN_OR_RETURN(auto files, state.ListFiles({.table = in.table, .cluster = cluster, .states = {FileState::kPublished}}));
    std::erase_if(files, [&](const CommittedFile& f) { return f.dt != dt; });
    for (const auto& f : files) rows_read += f.rows;
    const std::string body =
        files.empty() ? std::string(in.empty)
                      : fmt::format(fmt::runtime(in.sql),
                                    fmt::format("read_parquet({}, union_by_name = true, hive_partitioning = false)",
                                                ParquetList(lake, files)));
    with += fmt::format("{}{} AS ({})", with.empty() ? "WITH " : ", ", in.cte, body);
  }
  ASSIGN_OR_RETURN(auto old, state.ListFiles({.table = kRollupTable, .cluster = cluster, .states = {FileState::kPublished}}));
  std::erase_if(old, [&](const CommittedFile& f) { return f.dt != dt; });

  RETURN_IF_ERROR(RecordSchema(state, kRollupTable, RollupSchema()));
  ASSIGN_OR_RETURN(NewFile f, StageSelect(conn, lake, kRollupTable, cluster, dt, with + " " + kSelect));
  ASSIGN_OR_RETURN(Timestamp day, DayStart(dt));
  f.min_cursor = day;
  f.max_cursor = day + Duration::Days(1) - Duration::Micros(1);
  const int64_t hours = f.rows;
  Replacement r;
  r.add.push_back(std::move(f));
  for (const auto& o : old) r.retire.push_back(o.id);
  r.crash_prefix = "rollup";
  r.run = {.cluster = cluster, .table = kRollupTable, .started_at = started, .finished_at = lake.env().Now(),
           .window_lower = day, .window_upper = day + Duration::Days(1), .rows_read = rows_read,
           .rows_written = hours, .bytes_written = r.add.front().bytes, .kind = "rollup"};
  RETURN_IF_ERROR(CommitReplacement(state, lake, std::move(r)).status());
  return hours;
}

Result<RollupReport> BuildRollups(StateStore& state, const LakeLayout& lake, const Config& config, Timestamp now) {
  // Days with any input rows, whether every input of the cluster is closed there, and the
  // days already rolled up.
  ASSIGN_OR_RETURN(auto files, state.ListFiles({.states = {FileState::kCommitted, FileState::kPublished}}));
  std::set<Day> candidates, done, pending;
  for (const auto& f : files) {
    if (f.table == kRollupTable && f.state == FileState::kPublished) done.insert({f.cluster, f.dt});
    if (!IsRollupInput(f.table)) continue;
    candidates.insert({f.cluster, f.dt});
    if (f.state == FileState::kCommitted) pending.insert({f.cluster, f.dt});
  }
  std::map<std::string, Timestamp> horizon;  // per cluster: the earliest of its inputs'
  for (const auto& [cluster, dt] : candidates) {
    if (horizon.count(cluster)) continue;
    Timestamp h = now;
    for (const auto& table : RollupInputs()) {
      ASSIGN_OR_RETURN(Timestamp t, ReceiveHorizon(state, config, cluster, table, now));
      h = std::min(h, t);
    }
    horizon[cluster] = h;
  }

  RollupReport report;
  std::shared_ptr<duck::Database> db;
  std::unique_ptr<duck::Connection> conn;
  for (const auto& day : candidates) {
    if (done.count(day) || pending.count(day) || !DayEndsBy(day.second, horizon[day.first])) continue;
    if (!conn) {
      ASSIGN_OR_RETURN(db, OpenUpkeepDatabase(lake));
      ASSIGN_OR_RETURN(conn, duck::Connection::Open(db));
    }
    auto hours = RebuildRollupDay(state, lake, *conn, day.first, day.second);
    if (!hours.ok()) {
      report.errors.push_back(fmt::format("roll-up of cluster {}, {}: {}", day.first, day.second, hours.status().message()));
      continue;
    }
    ++report.days;
    report.hours += *hours;
  }
  return report;
}

}  // namespace fleetlog::upkeep
