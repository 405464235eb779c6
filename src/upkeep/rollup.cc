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
// when a day has no files of that table. A cluster-day is rolled up from one family: STL
// when it has files of any STL input, else SYS (Serverless workgroups, views = "sys"), so a
// cluster exporting both counts each query once. The SYS inputs fill the same columns:
// sys_query_history is both the queries (q) and their queue times (w); sys_query_detail's
// steps give the spilled (s) and alerting (a) queries, in the hour of their query's end.
struct RollupInput {
  const char* table;
  ViewFamily family;
  const char* cte;
  const char* sql;    // {0} is the read_parquet source; {1} the day's sys_query_history, when with_history
  const char* empty;
  bool with_history = false;
};

constexpr const char* kEmptyQueries =
    "SELECT NULL::TIMESTAMP AS hour, 0::BIGINT AS queries, 0::BIGINT AS aborted, NULL::DOUBLE AS p50_run_s, "
    "NULL::DOUBLE AS p95_run_s WHERE false";
constexpr const char* kEmptyQueues =
    "SELECT NULL::TIMESTAMP AS hour, 0::BIGINT AS wlm_queries, NULL::DOUBLE AS p50_queue_s, NULL::DOUBLE AS p95_queue_s, "
    "NULL::DOUBLE AS max_queue_s WHERE false";
constexpr const char* kEmptyDisk = "SELECT NULL::TIMESTAMP AS hour, 0::BIGINT AS disk_based_queries WHERE false";
constexpr const char* kEmptyAlerts = "SELECT NULL::TIMESTAMP AS hour, 0::BIGINT AS alerts WHERE false";

const RollupInput kInputs[] = {
    {"stl_query", ViewFamily::kStl, "q",
     "SELECT date_trunc('hour', endtime) AS hour, count(*) AS queries, count(*) FILTER (WHERE aborted = 1) AS aborted, "
     "quantile_cont(epoch(endtime) - epoch(starttime), 0.5) AS p50_run_s, "
     "quantile_cont(epoch(endtime) - epoch(starttime), 0.95) AS p95_run_s FROM {0} GROUP BY 1",
     kEmptyQueries},
    {"stl_wlm_query", ViewFamily::kStl, "w",
     "SELECT date_trunc('hour', service_class_end_time) AS hour, count(*) AS wlm_queries, "
     "quantile_cont(total_queue_time / 1e6, 0.5) AS p50_queue_s, quantile_cont(total_queue_time / 1e6, 0.95) AS p95_queue_s, "
     "max(total_queue_time / 1e6) AS max_queue_s FROM {0} GROUP BY 1",
     kEmptyQueues},
    {"stl_scan", ViewFamily::kStl, "s",
     "SELECT date_trunc('hour', endtime) AS hour, count(DISTINCT query) FILTER (WHERE type = 3) AS disk_based_queries "
     "FROM {0} GROUP BY 1",
     kEmptyDisk},
    {"stl_alert_event_log", ViewFamily::kStl, "a",
     "SELECT date_trunc('hour', event_time) AS hour, count(*) AS alerts FROM {0} GROUP BY 1", kEmptyAlerts},
    {"sys_query_history", ViewFamily::kSys, "q",
     "SELECT date_trunc('hour', end_time) AS hour, count(*) AS queries, "
     "count(*) FILTER (WHERE status IN ('failed', 'canceled', 'cancelled')) AS aborted, "
     "quantile_cont(elapsed_time / 1e6, 0.5) AS p50_run_s, quantile_cont(elapsed_time / 1e6, 0.95) AS p95_run_s "
     "FROM {0} GROUP BY 1",
     kEmptyQueries},
    {"sys_query_history", ViewFamily::kSys, "w",
     "SELECT date_trunc('hour', end_time) AS hour, count(queue_time) AS wlm_queries, "
     "quantile_cont(queue_time / 1e6, 0.5) AS p50_queue_s, quantile_cont(queue_time / 1e6, 0.95) AS p95_queue_s, "
     "max(queue_time / 1e6) AS max_queue_s FROM {0} GROUP BY 1",
     kEmptyQueues},
    {"sys_query_detail", ViewFamily::kSys, "s",
     "SELECT date_trunc('hour', h.end_time) AS hour, count(DISTINCT d.query_id) FILTER (WHERE "
     "d.spilled_block_local_disk > 0 OR d.spilled_block_remote_disk > 0) AS disk_based_queries "
     "FROM {0} d JOIN {1} h USING (query_id) GROUP BY 1",
     kEmptyDisk, true},
    {"sys_query_detail", ViewFamily::kSys, "a",
     "SELECT date_trunc('hour', h.end_time) AS hour, count(*) FILTER (WHERE trim(d.alert) <> '') AS alerts "
     "FROM {0} d JOIN {1} h USING (query_id) GROUP BY 1",
     kEmptyAlerts, true},
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
    for (const auto& in : kInputs)
      if (std::find(v.begin(), v.end(), in.table) == v.end()) v.push_back(in.table);
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
  std::map<std::string, std::vector<CommittedFile>> day_files;  // per input table
  for (const auto& table : RollupInputs()) {
    ASSIGN_OR_RETURN(auto files, state.ListFiles({.table = table, .cluster = cluster, .states = {FileState::kPublished}}));
    std::erase_if(files, [&](const CommittedFile& f) { return f.dt != dt; });
    day_files[table] = std::move(files);
  }
  const bool stl = std::any_of(std::begin(kInputs), std::end(kInputs), [&](const RollupInput& in) {
    return in.family == ViewFamily::kStl && !day_files[in.table].empty();
  });
  const ViewFamily family = stl ? ViewFamily::kStl : ViewFamily::kSys;
  std::vector<LocalFiles> inputs;  // held until the roll-up is staged
  auto source = [&](const std::vector<CommittedFile>& files) -> Result<std::string> {
    ASSIGN_OR_RETURN(inputs.emplace_back(), ResolveLakeFiles(lake, files));
    return fmt::format("read_parquet({}, union_by_name = true, hive_partitioning = false)", ParquetList(inputs.back()));
  };
  const std::vector<CommittedFile>& history = day_files["sys_query_history"];
  std::string with;
  int64_t rows_read = 0;
  std::set<std::string> counted;
  for (const auto& in : kInputs) {
    if (in.family != family) continue;
    const std::vector<CommittedFile>& files = day_files[in.table];
    if (counted.insert(in.table).second)
      for (const auto& f : files) rows_read += f.rows;
    const bool empty = files.empty() || (in.with_history && history.empty());
    std::string body = in.empty;
    if (!empty) {
      ASSIGN_OR_RETURN(const std::string from, source(files));
      std::string from_history;
      if (in.with_history) {
        ASSIGN_OR_RETURN(from_history, source(history));
      }
      body = fmt::format(fmt::runtime(in.sql), from, from_history);
    }
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
