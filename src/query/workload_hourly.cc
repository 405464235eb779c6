#include "query/workload_hourly.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "core/table_names.h"
#include "duck/duck.h"

namespace fleetlog {
namespace {

// One input's hourly aggregates. {src} is the relation over the input's rows, {hist} that over
// sys_query_history's (when with_history), {by} the key columns in front of `hour` ("" for one
// cluster-day). The SYS inputs fill the STL columns: sys_query_history is both the queries (q)
// and their queue times (w); sys_query_detail's steps give the spilled (s) and alerting (a)
// queries, in the hour of their query's end.
struct HourlyPart {
  const char* table;
  ViewFamily family;
  const char* sql;
  const char* empty;  // the part's columns, after {by}, of a relation without rows
  bool with_history = false;
  bool late = false;  // its columns are late (workload_hourly.h, kLateHoursKey)
};

constexpr const char* kEmptyQueries =
    "NULL::TIMESTAMP AS hour, 0::BIGINT AS queries, 0::BIGINT AS aborted, NULL::DOUBLE AS p50_run_s, "
    "NULL::DOUBLE AS p95_run_s";
constexpr const char* kEmptyQueues =
    "NULL::TIMESTAMP AS hour, 0::BIGINT AS wlm_queries, NULL::DOUBLE AS p50_queue_s, NULL::DOUBLE AS p95_queue_s, "
    "NULL::DOUBLE AS max_queue_s";
constexpr const char* kEmptyDisk = "NULL::TIMESTAMP AS hour, 0::BIGINT AS disk_based_queries";
constexpr const char* kEmptyAlerts = "NULL::TIMESTAMP AS hour, 0::BIGINT AS alerts";

const HourlyPart kParts[] = {
    {"stl_query", ViewFamily::kStl,
     "SELECT {by}date_trunc('hour', endtime) AS hour, count(*) AS queries, count(*) FILTER (WHERE aborted = 1) AS aborted, "
     "quantile_cont(epoch(endtime) - epoch(starttime), 0.5) AS p50_run_s, "
     "quantile_cont(epoch(endtime) - epoch(starttime), 0.95) AS p95_run_s FROM {src} GROUP BY ALL",
     kEmptyQueries},
    {"stl_wlm_query", ViewFamily::kStl,
     "SELECT {by}date_trunc('hour', service_class_end_time) AS hour, count(*) AS wlm_queries, "
     "quantile_cont(total_queue_time / 1e6, 0.5) AS p50_queue_s, quantile_cont(total_queue_time / 1e6, 0.95) AS p95_queue_s, "
     "max(total_queue_time / 1e6) AS max_queue_s FROM {src} GROUP BY ALL",
     kEmptyQueues},
    {"stl_scan", ViewFamily::kStl,
     "SELECT {by}date_trunc('hour', endtime) AS hour, count(DISTINCT query) FILTER (WHERE type = 3) AS disk_based_queries "
     "FROM {src} GROUP BY ALL",
     kEmptyDisk},
    {"stl_alert_event_log", ViewFamily::kStl,
     "SELECT {by}date_trunc('hour', event_time) AS hour, count(*) AS alerts FROM {src} GROUP BY ALL", kEmptyAlerts,
     false, true},
    {"sys_query_history", ViewFamily::kSys,
     "SELECT {by}date_trunc('hour', end_time) AS hour, count(*) AS queries, "
     "count(*) FILTER (WHERE status IN ('failed', 'canceled', 'cancelled')) AS aborted, "
     "quantile_cont(elapsed_time / 1e6, 0.5) AS p50_run_s, quantile_cont(elapsed_time / 1e6, 0.95) AS p95_run_s "
     "FROM {src} GROUP BY ALL",
     kEmptyQueries},
    {"sys_query_history", ViewFamily::kSys,
     "SELECT {by}date_trunc('hour', end_time) AS hour, count(queue_time) AS wlm_queries, "
     "quantile_cont(queue_time / 1e6, 0.5) AS p50_queue_s, quantile_cont(queue_time / 1e6, 0.95) AS p95_queue_s, "
     "max(queue_time / 1e6) AS max_queue_s FROM {src} GROUP BY ALL",
     kEmptyQueues},
    {"sys_query_detail", ViewFamily::kSys,
     "SELECT {by}date_trunc('hour', h.end_time) AS hour, count(DISTINCT d.query_id) FILTER (WHERE "
     "d.spilled_block_local_disk > 0 OR d.spilled_block_remote_disk > 0) AS disk_based_queries "
     "FROM {src} d JOIN {hist} h USING ({by}query_id) GROUP BY ALL",
     kEmptyDisk, true},
    {"sys_query_detail", ViewFamily::kSys,
     "SELECT {by}date_trunc('hour', h.end_time) AS hour, count(*) FILTER (WHERE trim(d.alert) <> '') AS alerts "
     "FROM {src} d JOIN {hist} h USING ({by}query_id) GROUP BY ALL",
     kEmptyAlerts, true, true},
};

// The parts side by side: each column of a key and hour has its value in at most one row
// (its part's, or a roll-up's), so sum() and max() over a key and hour take that value, and
// a column no row has is NULL there.
constexpr const char* kCombine =
    "SELECT {by}hour, coalesce(sum(queries), 0)::BIGINT AS queries, coalesce(sum(aborted), 0)::BIGINT AS aborted, "
    "max(p50_run_s)::DOUBLE AS p50_run_s, max(p95_run_s)::DOUBLE AS p95_run_s, "
    "coalesce(sum(wlm_queries), 0)::BIGINT AS wlm_queries, max(p50_queue_s)::DOUBLE AS p50_queue_s, "
    "max(p95_queue_s)::DOUBLE AS p95_queue_s, max(max_queue_s)::DOUBLE AS max_queue_s, "
    "coalesce(sum(disk_based_queries), 0)::BIGINT AS disk_based_queries, {alerts}::BIGINT AS alerts{extra} "
    "FROM ({parts}) GROUP BY {by}hour";

constexpr const char* kKeys = "cluster, dt, ";
constexpr const char* kNullKeys = "NULL::VARCHAR AS cluster, NULL::DATE AS dt, ";

// Whether a part whose columns are late (or not) reads `table`.
bool ReadByParts(const std::string& table, bool late) {
  return std::any_of(std::begin(kParts), std::end(kParts), [&](const HourlyPart& p) {
    return p.late == late && (table == p.table || (p.with_history && table == "sys_query_history"));
  });
}

// The view's columns, in order, but `source`.
std::string ViewColumns() {
  std::string columns = "cluster, hour";
  for (const auto& c : HourlySchema())
    if (c.name != "hour") columns += ", " + c.name;
  return columns + ", dt";
}

}  // namespace

const TableSchema& HourlySchema() {
  static const TableSchema schema = {
      {"hour", ColumnType::kTimestamp},   {"queries", ColumnType::kInt64},     {"aborted", ColumnType::kInt64},
      {"p50_run_s", ColumnType::kDouble}, {"p95_run_s", ColumnType::kDouble},  {"wlm_queries", ColumnType::kInt64},
      {"p50_queue_s", ColumnType::kDouble}, {"p95_queue_s", ColumnType::kDouble}, {"max_queue_s", ColumnType::kDouble},
      {"disk_based_queries", ColumnType::kInt64}, {"alerts", ColumnType::kInt64}};
  return schema;
}

const std::vector<std::string>& HourlyInputs() {
  static const std::vector<std::string> inputs = [] {
    std::vector<std::string> v;
    for (const auto& p : kParts)
      if (std::find(v.begin(), v.end(), p.table) == v.end()) v.push_back(p.table);
    return v;
  }();
  return inputs;
}

bool IsHourlyInput(const std::string& table) {
  const auto& in = HourlyInputs();
  return std::find(in.begin(), in.end(), table) != in.end();
}

const char* HourlyTimeColumn(const std::string& table) {
  static const std::map<std::string, const char*> columns = {
      {"stl_query", "endtime"},        {"stl_wlm_query", "service_class_end_time"}, {"stl_scan", "endtime"},
      {"stl_alert_event_log", "event_time"}, {"sys_query_history", "end_time"}};
  const auto it = columns.find(table);
  return it == columns.end() ? nullptr : it->second;
}

bool CountsOnlyBefore(const CommittedFile& f, Timestamp t) { return f.max_cursor && *f.max_cursor < t; }

std::string RowsFrom(const std::string& relation, const std::string& table, Timestamp t) {
  const char* time = HourlyTimeColumn(table);
  if (time == nullptr) return relation;
  return fmt::format("(SELECT * FROM {} WHERE {} >= make_timestamp({}::BIGINT))", relation, time, t.micros());
}

std::string HourlyPartsSql(ViewFamily family, const std::function<std::string(const std::string& table)>& relation,
                           bool by_cluster_day) {
  const char* by = by_cluster_day ? kKeys : "";
  const std::string history = relation("sys_query_history");
  std::string parts;
  for (const auto& p : kParts) {
    if (p.family != family) continue;
    const std::string src = relation(p.table);
    std::string part;
    if (src.empty() || (p.with_history && history.empty()))
      part = fmt::format("SELECT {}{} WHERE false", by_cluster_day ? kNullKeys : "", p.empty);
    else
      part = fmt::format(fmt::runtime(p.sql), fmt::arg("by", by), fmt::arg("src", src), fmt::arg("hist", history));
    parts += fmt::format("{}(SELECT *, {} AS late FROM ({}))", parts.empty() ? "" : " UNION ALL BY NAME ", p.late, part);
  }
  return parts;
}

std::string CombineHourlySql(const std::string& parts, const std::string& by, std::optional<Timestamp> late_until,
                             const std::string& extra) {
  const std::string alerts =
      late_until ? fmt::format("CASE WHEN hour < make_timestamp({}::BIGINT) THEN coalesce(sum(alerts), 0) END",
                               late_until->micros())
                 : std::string("coalesce(sum(alerts), 0)");
  return fmt::format(fmt::runtime(kCombine), fmt::arg("by", by), fmt::arg("alerts", alerts), fmt::arg("extra", extra),
                     fmt::arg("parts", parts));
}

std::vector<const CommittedFile*> WorkloadRoute::files() const {
  std::vector<const CommittedFile*> out = rollups;
  for (const auto* family : {&stl, &sys})
    for (const auto& [table, files] : *family) out.insert(out.end(), files.begin(), files.end());
  return out;
}

Timestamp RolledUpUntil(const CommittedFile& rollup) {
  auto day = ParseTimestamp(rollup.dt);
  if (!day.ok()) return Timestamp::FromMicros(std::numeric_limits<int64_t>::max());
  const Timestamp end = *day + Duration::Days(1);
  return rollup.max_cursor ? std::min(end, *rollup.max_cursor + Duration::Micros(1)) : end;
}

RollupMarks RolledUpMarks(const CommittedFile& rollup) {
  const Timestamp until = RolledUpUntil(rollup);
  const auto it = rollup.id_ranges.find(kLateHoursKey);
  return {until, it == rollup.id_ranges.end() ? until : std::min(until, Timestamp::FromMicros(it->second.max))};
}

bool IsLateHourlyInput(const std::string& table) { return ReadByParts(table, /*late=*/true); }
bool IsPromptHourlyInput(const std::string& table) { return ReadByParts(table, /*late=*/false); }

Timestamp RollupMarks::For(const std::string& table) const {
  return IsLateHourlyInput(table) ? std::min(until, late_until) : until;
}

WorkloadRoute RouteWorkload(const std::vector<CommittedFile>& files) {
  using Day = WorkloadRoute::Day;
  WorkloadRoute route;
  std::map<Day, RollupMarks> rolled_up;
  std::set<Day> stl_days;
  for (const auto& f : files) {
    if (f.table == kRollupTable) {
      rolled_up[{f.cluster, f.dt}] = RolledUpMarks(f);
      route.rollups.push_back(&f);
    } else if (IsHourlyInput(f.table) && IsStlTable(f.table)) {
      stl_days.insert({f.cluster, f.dt});
    }
  }
  for (const auto& [day, marks] : rolled_up) {
    auto start = ParseTimestamp(day.second);
    if (start.ok() && marks.late_until < *start + Duration::Days(1)) route.partial[day] = marks;
  }
  for (const auto& f : files) {
    const Day day{f.cluster, f.dt};
    if (!IsHourlyInput(f.table)) continue;
    if (rolled_up.count(day)) {
      // An hour is counted by a time that the file's cursor range bounds (an input's cursor
      // column, or its parent query's end for sys_query_detail), so a file that ends before
      // the roll-up's end holds only hours the roll-up has.
      const auto partial = route.partial.find(day);
      if (partial == route.partial.end() || CountsOnlyBefore(f, partial->second.For(f.table))) continue;
    }
    // As the roll-ups choose: a day with any STL input is STL, and its SYS rows are not read.
    if (IsStlTable(f.table)) route.stl[f.table].push_back(&f);
    else if (!stl_days.count(day)) route.sys[f.table].push_back(&f);
  }
  return route;
}

std::string WorkloadRawRowsSql(const WorkloadRoute& route,
                               const std::function<std::string(const std::vector<const CommittedFile*>&)>& files_relation) {
  std::string rows;
  for (const auto& [family, tables] : {std::pair{ViewFamily::kStl, &route.stl}, std::pair{ViewFamily::kSys, &route.sys}}) {
    if (tables->empty()) continue;
    // The files of days rolled up part-way go apart, grouped by where their rows start to
    // count, with their rows before it left out as they are read (they count in hours the
    // roll-up has): files are sorted by time, so row groups' statistics skip most of a day's
    // early rows.
    auto relation = [&, tables = tables](const std::string& table) -> std::string {
      const auto it = tables->find(table);
      if (it == tables->end()) return "";
      const char* time = HourlyTimeColumn(table);
      if (route.partial.empty() || time == nullptr) return files_relation(it->second);
      std::map<std::optional<Timestamp>, std::vector<const CommittedFile*>> by_start;
      for (const auto* f : it->second) {
        const auto p = route.partial.find({f->cluster, f->dt});
        by_start[p == route.partial.end() ? std::nullopt : std::optional(p->second.For(table))].push_back(f);
      }
      std::string out;
      for (const auto& [start, files] : by_start) {
        const std::string files_of = files_relation(files);
        out += (out.empty() ? "" : " UNION ALL BY NAME ") + std::string("SELECT * FROM ") +
               (start ? RowsFrom(files_of, table, *start) : files_of);
      }
      return "(" + out + ")";
    };
    std::string raw = HourlyPartsSql(family, relation, true);
    // Of a day rolled up part-way, the raw rows answer each part's hours from its mark on.
    if (!route.partial.empty()) {
      std::string marks;
      for (const auto& [day, m] : route.partial)
        marks += fmt::format("{}({}, DATE {}, make_timestamp({}::BIGINT), make_timestamp({}::BIGINT))",
                             marks.empty() ? "" : ", ", duck::QuoteString(day.first), duck::QuoteString(day.second),
                             m.until.micros(), m.late_until.micros());
      raw = fmt::format("SELECT a.* FROM ({}) a LEFT JOIN (VALUES {}) m(cluster, dt, until, late_until) "
                        "ON a.cluster = m.cluster AND a.dt = m.dt "
                        "WHERE m.until IS NULL OR a.hour >= CASE WHEN a.late THEN m.late_until ELSE m.until END",
                        raw, marks);
    }
    rows += fmt::format("{}(SELECT *, 'raw' AS source FROM ({}))", rows.empty() ? "" : "\nUNION ALL BY NAME ", raw);
  }
  return rows.empty() ? "" : "SELECT * FROM " + rows;
}

std::vector<const CommittedFile*> NewestRollups(const WorkloadRoute& route, int64_t max_rows) {
  std::map<std::string, std::vector<const CommittedFile*>, std::greater<>> by_day;
  for (const auto* f : route.rollups) by_day[f->dt].push_back(f);
  std::vector<const CommittedFile*> kept;
  int64_t rows = 0;
  for (const auto& [dt, files] : by_day) {
    int64_t day_rows = 0;
    for (const auto* f : files) day_rows += f->rows;
    if (rows + day_rows > max_rows) break;
    rows += day_rows;
    kept.insert(kept.end(), files.begin(), files.end());
  }
  return kept;
}

std::string WorkloadRollupRowsSql(
    const std::vector<const CommittedFile*>& rollups,
    const std::function<std::string(const std::vector<const CommittedFile*>&)>& files_relation) {
  return fmt::format("SELECT {}, false AS late, 'rollup' AS source FROM {}", ViewColumns(), files_relation(rollups));
}

std::string WorkloadViewSql(const WorkloadRoute& route,
                            const std::function<std::string(const std::vector<const CommittedFile*>&)>& files_relation,
                            const std::string& raw_rows, const KeptRollups& kept) {
  if (route.empty()) {
    std::string nulls = "NULL::VARCHAR AS cluster";
    for (const auto& c : HourlySchema()) nulls += fmt::format(", NULL::{} AS {}", ColumnTypeSql(c.type), c.name);
    return fmt::format("CREATE OR REPLACE VIEW {} AS\nSELECT {}, NULL::DATE AS dt, NULL::VARCHAR AS source WHERE false",
                       kWorkloadView, nulls);
  }
  // Every row as a part (HourlyPartsSql): the roll-ups' (all their columns: `late` false, and
  // their late columns NULL where not known yet) and the raw parts' for the hours after them.
  std::string rows;
  auto add = [&](const std::string& select) { rows += (rows.empty() ? "(" : "\nUNION ALL BY NAME (") + select + ")"; };
  std::vector<const CommittedFile*> unkept;
  for (const auto* f : route.rollups)
    if (!kept.files.count(f)) unkept.push_back(f);
  if (!kept.files.empty()) add("SELECT * FROM " + kept.table);
  if (!unkept.empty()) add(WorkloadRollupRowsSql(unkept, files_relation));
  if (!raw_rows.empty()) add("SELECT * FROM " + raw_rows);
  // An hour's source is that of its columns but the late ones.
  const std::string combined =
      CombineHourlySql(rows, kKeys, std::nullopt, ", coalesce(min(source) FILTER (WHERE NOT late), min(source)) AS source");
  return fmt::format("CREATE OR REPLACE VIEW {} AS\nSELECT {}, source FROM ({})", kWorkloadView, ViewColumns(), combined);
}

}  // namespace fleetlog
