#include "upkeep/rollup.h"

#include <algorithm>
#include <map>
#include <set>

#include "upkeep/policy.h"
#include "lake/replace.h"
#include "lake/schema_catalog.h"
#include "query/workload_hourly.h"
#include "core/table_names.h"

namespace fleetlog::upkeep {
namespace {

using Day = std::pair<std::string, std::string>;  // cluster, dt

Timestamp HourStart(Timestamp t) {
  const int64_t hour = Duration::Hours(1).micros();
  const int64_t us = t.micros();
  return Timestamp::FromMicros(us - ((us % hour) + hour) % hour);
}

// How far a day's roll-up files reach (the marks of the furthest); none without files.
std::optional<RollupMarks> MarksOf(const std::vector<CommittedFile>& rollups) {
  std::optional<RollupMarks> marks;
  for (const auto& f : rollups)
    if (const RollupMarks m = RolledUpMarks(f); !marks || m.until > marks->until) marks = m;
  return marks;
}

Result<std::vector<CommittedFile>> RollupFilesOf(StateStore& state, const std::string& cluster, const std::string& dt) {
  ASSIGN_OR_RETURN(auto files, state.ListFiles({.table = kRollupTable, .cluster = cluster, .states = {FileState::kPublished}}));
  std::erase_if(files, [&](const CommittedFile& f) { return f.dt != dt; });
  return files;
}

// Writes the roll-up of (cluster, dt) to `until` (its late columns to until.late_until, the
// others to until.until), replacing `old` (the day's roll-up files) in one commit: the hours
// from `from` on (each part's from its mark) computed from the raw files published now that
// may hold rows there, and, when from.until is after the day's start, the rows before it
// copied from `old` (one file, which ends there; its late columns, NULL from from.late_until
// on, filled as far as they are known now). Returns the number of hours added.
Result<int64_t> WriteRollup(StateStore& state, const LakeLayout& lake, duck::Connection& conn, const std::string& cluster,
                            const std::string& dt, RollupMarks from, RollupMarks until, const std::vector<CommittedFile>& old) {
  const Timestamp started = lake.env().Now();
  ASSIGN_OR_RETURN(Timestamp day, DayStart(dt));
  const bool extend = from.until > day;
  std::map<std::string, std::vector<CommittedFile>> day_files;  // per input table
  for (const auto& table : RollupInputs()) {
    ASSIGN_OR_RETURN(auto files, state.ListFiles({.table = table, .cluster = cluster, .states = {FileState::kPublished}}));
    std::erase_if(files, [&](const CommittedFile& f) { return f.dt != dt; });
    day_files[table] = std::move(files);
  }
  // As workload_hourly routes a day without a roll-up (query/workload_hourly.h): STL when the
  // day has files of any STL input, else SYS.
  const bool stl = std::any_of(day_files.begin(), day_files.end(), [](const auto& in) {
    return IsStlTable(in.first) && !in.second.empty();
  });
  const ViewFamily family = stl ? ViewFamily::kStl : ViewFamily::kSys;
  std::vector<LocalFiles> inputs;  // held until the roll-up is staged
  std::map<std::string, std::string> relations;  // input table -> read_parquet over the files read
  int64_t rows_read = 0;
  for (auto& [table, files] : day_files) {
    // A file whose rows all count in hours before the table's mark (its cursor range bounds
    // the time an hour is counted by: query/workload_hourly.h) adds nothing.
    const Timestamp start = from.For(table);
    if (extend) std::erase_if(files, [&](const CommittedFile& f) { return CountsOnlyBefore(f, start); });
    if (files.empty() || IsStlTable(table) != stl) continue;
    ASSIGN_OR_RETURN(inputs.emplace_back(), ResolveLakeFiles(lake, files));
    relations[table] = fmt::format("read_parquet({}, union_by_name = true, hive_partitioning = false)",
                                   ParquetList(inputs.back()));
    // Rows before the mark count in hours the roll-up has.
    if (extend) relations[table] = RowsFrom(relations[table], table, start);
    for (const auto& f : files) rows_read += f.rows;
  }
  const std::string parts = HourlyPartsSql(family, [&](const std::string& table) {
    const auto it = relations.find(table);
    return it == relations.end() ? std::string() : it->second;
  }, /*by_cluster_day=*/false);
  auto at = [](Timestamp t) { return fmt::format("make_timestamp({}::BIGINT)", t.micros()); };
  std::string rows = fmt::format(
      "SELECT * FROM ({}) WHERE hour >= CASE WHEN late THEN {} ELSE {} END AND hour < CASE WHEN late THEN {} ELSE {} END",
      parts, at(from.late_until), at(from.until), at(until.late_until), at(until.until));
  int64_t kept = 0;
  if (extend) {
    if (old.size() != 1) return Internal("extending the roll-up of cluster {}, {} needs its one roll-up file", cluster, dt);
    ASSIGN_OR_RETURN(inputs.emplace_back(), ResolveLakeFiles(lake, old));
    rows = fmt::format("(SELECT *, false AS late FROM read_parquet({}, hive_partitioning = false)) UNION ALL BY NAME ({})",
                       ParquetList(inputs.back()), rows);
    kept = old.front().rows;
    rows_read += kept;
  }
  std::string columns;
  for (const auto& c : RollupSchema()) columns += (columns.empty() ? "" : ", ") + c.name;
  const std::string select =
      fmt::format("SELECT {} FROM ({}) ORDER BY hour", columns, CombineHourlySql(rows, "", until.late_until));

  RETURN_IF_ERROR(RecordSchema(state, kRollupTable, RollupSchema()));
  ASSIGN_OR_RETURN(NewFile f, StageSelect(conn, lake, kRollupTable, cluster, dt, select));
  f.min_cursor = day;
  f.max_cursor = until.until - Duration::Micros(1);  // RolledUpUntil
  if (until.late_until < until.until)  // RolledUpMarks
    f.id_ranges[kLateHoursKey] = {until.late_until.micros(), until.late_until.micros()};
  const int64_t hours = f.rows - kept;
  Replacement r;
  r.add.push_back(std::move(f));
  for (const auto& o : old) r.retire.push_back(o.id);
  r.crash_prefix = "rollup";
  r.run = {.cluster = cluster, .table = kRollupTable, .started_at = started, .finished_at = lake.env().Now(),
           .window_lower = from.late_until, .window_upper = until.until, .rows_read = rows_read,
           .rows_written = hours, .bytes_written = r.add.front().bytes, .kind = "rollup"};
  RETURN_IF_ERROR(CommitReplacement(state, lake, std::move(r)).status());
  return hours;
}

}  // namespace

const TableSchema& RollupSchema() { return HourlySchema(); }
const std::vector<std::string>& RollupInputs() { return HourlyInputs(); }
bool IsRollupInput(const std::string& table) { return IsHourlyInput(table); }

Result<std::optional<Timestamp>> RollupEnd(StateStore& state, const std::string& cluster, const std::string& dt) {
  ASSIGN_OR_RETURN(auto files, RollupFilesOf(state, cluster, dt));
  const auto marks = MarksOf(files);
  return marks ? std::optional(marks->until) : std::nullopt;
}

Result<bool> HasRollup(StateStore& state, const std::string& cluster, const std::string& dt) {
  ASSIGN_OR_RETURN(auto files, RollupFilesOf(state, cluster, dt));
  ASSIGN_OR_RETURN(Timestamp day, DayStart(dt));
  const auto marks = MarksOf(files);
  return marks && marks->late_until >= day + Duration::Days(1);
}

Result<int64_t> ExtendRollupDay(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                const std::string& cluster, const std::string& dt, RollupMarks until) {
  ASSIGN_OR_RETURN(auto old, RollupFilesOf(state, cluster, dt));
  ASSIGN_OR_RETURN(Timestamp day, DayStart(dt));
  // One roll-up file per day; were there more (a crash can leave none, never two), the day is
  // computed again from its start.
  const RollupMarks from = old.size() == 1 ? *MarksOf(old) : RollupMarks{day, day};
  until.late_until = std::min(until.late_until, until.until);
  return WriteRollup(state, lake, conn, cluster, dt, from, until, old);
}

Result<int64_t> RebuildRollupDay(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                 const std::string& cluster, const std::string& dt) {
  ASSIGN_OR_RETURN(auto old, RollupFilesOf(state, cluster, dt));
  ASSIGN_OR_RETURN(Timestamp day, DayStart(dt));
  // To where it reached; a day without a roll-up is rolled up whole (purge rebuilds closed days).
  const Timestamp end = day + Duration::Days(1);
  const RollupMarks until = MarksOf(old).value_or(RollupMarks{end, end});
  return WriteRollup(state, lake, conn, cluster, dt, {day, day}, until, old);
}

Result<RollupMarks> ClosedHours(StateStore& state, const Config& config, const std::string& cluster, Timestamp now) {
  std::vector<std::string> inputs;
  if (const ClusterConfig* c = config.FindCluster(cluster))
    for (const auto& table : config.TablesOf(*c))
      if (IsRollupInput(table)) inputs.push_back(table);
  if (inputs.empty()) inputs = RollupInputs();
  RollupMarks closed{now, now};
  for (const auto& table : inputs) {
    ASSIGN_OR_RETURN(Timestamp t, ReceiveHorizon(state, config, cluster, table, now));
    if (IsPromptHourlyInput(table)) closed.until = std::min(closed.until, t);
    if (IsLateHourlyInput(table)) closed.late_until = std::min(closed.late_until, t);
  }
  closed.until = HourStart(closed.until);
  closed.late_until = std::min(closed.until, HourStart(closed.late_until));
  return closed;
}

Result<RollupReport> BuildRollups(StateStore& state, const LakeLayout& lake, const Config& config, Timestamp now) {
  // Days with any input rows, those with input files not published yet, and how far each
  // day's roll-up goes.
  ASSIGN_OR_RETURN(auto files, state.ListFiles({.states = {FileState::kCommitted, FileState::kPublished}}));
  std::set<Day> candidates, pending;
  std::map<Day, std::vector<CommittedFile>> rollups;
  for (const auto& f : files) {
    if (f.table == kRollupTable && f.state == FileState::kPublished) rollups[{f.cluster, f.dt}].push_back(f);
    if (!IsRollupInput(f.table)) continue;
    candidates.insert({f.cluster, f.dt});
    if (f.state == FileState::kCommitted) pending.insert({f.cluster, f.dt});
  }
  std::map<std::string, RollupMarks> closed;  // per cluster: ClosedHours
  for (const auto& [cluster, dt] : candidates) {
    if (closed.count(cluster)) continue;
    ASSIGN_OR_RETURN(closed[cluster], ClosedHours(state, config, cluster, now));
  }

  RollupReport report;
  std::shared_ptr<duck::Database> db;
  std::unique_ptr<duck::Connection> conn;
  for (const auto& day : candidates) {
    auto start = DayStart(day.second);
    if (pending.count(day) || !start.ok()) continue;
    const Timestamp day_end = *start + Duration::Days(1);
    const auto rolled_up = rollups.find(day);
    const RollupMarks done = rolled_up == rollups.end() ? RollupMarks{*start, *start} : *MarksOf(rolled_up->second);
    // Marks never go back (a cursor moved back does not undo hours rolled up).
    // Both stay ordered (late_until <= until): each side of each max() is.
    const RollupMarks until{std::max(done.until, std::min(day_end, closed[day.first].until)),
                            std::max(done.late_until, std::min(day_end, closed[day.first].late_until))};
    if (until.until <= done.until && until.late_until <= done.late_until) continue;
    if (!conn) {
      ASSIGN_OR_RETURN(db, OpenUpkeepDatabase(lake));
      ASSIGN_OR_RETURN(conn, duck::Connection::Open(db));
    }
    auto hours = ExtendRollupDay(state, lake, *conn, day.first, day.second, until);
    if (!hours.ok()) {
      report.errors.push_back(fmt::format("roll-up of cluster {}, {}: {}", day.first, day.second, hours.status().message()));
      continue;
    }
    ++(until.late_until == day_end ? report.days : report.open_days);
    report.hours += *hours;
  }
  return report;
}

}  // namespace fleetlog::upkeep
