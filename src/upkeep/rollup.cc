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

// How far a day's roll-up files reach (RolledUpUntil of the furthest); none without files.
std::optional<Timestamp> EndOf(const std::vector<CommittedFile>& rollups) {
  std::optional<Timestamp> end;
  for (const auto& f : rollups) end = std::max(end.value_or(RolledUpUntil(f)), RolledUpUntil(f));
  return end;
}

Result<std::vector<CommittedFile>> RollupFilesOf(StateStore& state, const std::string& cluster, const std::string& dt) {
  ASSIGN_OR_RETURN(auto files, state.ListFiles({.table = kRollupTable, .cluster = cluster, .states = {FileState::kPublished}}));
  std::erase_if(files, [&](const CommittedFile& f) { return f.dt != dt; });
  return files;
}

// Writes the roll-up of (cluster, dt) for the hours before `until`, replacing `old` (the
// day's roll-up files) in one commit: the hours from `from` on computed from the raw files
// published now that may hold rows there, and, when `from` is after the day's start, the
// hours before it copied from `old` (one file, which ends at `from`). Returns the number of
// hours added.
Result<int64_t> WriteRollup(StateStore& state, const LakeLayout& lake, duck::Connection& conn, const std::string& cluster,
                            const std::string& dt, Timestamp from, Timestamp until, const std::vector<CommittedFile>& old) {
  const Timestamp started = lake.env().Now();
  ASSIGN_OR_RETURN(Timestamp day, DayStart(dt));
  const bool extend = from > day;
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
    // A file whose rows all count in hours before `from` (its cursor range bounds the time an
    // hour is counted by: query/workload_hourly.h) adds nothing.
    if (extend) std::erase_if(files, [&](const CommittedFile& f) { return CountsOnlyBefore(f, from); });
    if (files.empty() || IsStlTable(table) != stl) continue;
    ASSIGN_OR_RETURN(inputs.emplace_back(), ResolveLakeFiles(lake, files));
    relations[table] = fmt::format("read_parquet({}, union_by_name = true, hive_partitioning = false)",
                                   ParquetList(inputs.back()));
    // Rows before `from` count in hours the roll-up has.
    if (extend) relations[table] = RowsFrom(relations[table], table, from);
    for (const auto& f : files) rows_read += f.rows;
  }
  const std::string aggregates = HourlyAggregateSql(family, [&](const std::string& table) {
    const auto it = relations.find(table);
    return it == relations.end() ? std::string() : it->second;
  }, /*by_cluster_day=*/false);
  std::string select = fmt::format("SELECT * FROM ({}) WHERE hour >= make_timestamp({}::BIGINT) AND "
                                   "hour < make_timestamp({}::BIGINT)", aggregates, from.micros(), until.micros());
  int64_t kept = 0;
  if (extend) {
    if (old.size() != 1) return Internal("extending the roll-up of cluster {}, {} needs its one roll-up file", cluster, dt);
    ASSIGN_OR_RETURN(inputs.emplace_back(), ResolveLakeFiles(lake, old));
    select = fmt::format("SELECT * FROM read_parquet({}, hive_partitioning = false) UNION ALL BY NAME ({})",
                         ParquetList(inputs.back()), select);
    kept = old.front().rows;
    rows_read += kept;
  }
  std::string columns;
  for (const auto& c : RollupSchema()) columns += (columns.empty() ? "" : ", ") + c.name;
  select = fmt::format("SELECT {} FROM ({}) ORDER BY hour", columns, select);

  RETURN_IF_ERROR(RecordSchema(state, kRollupTable, RollupSchema()));
  ASSIGN_OR_RETURN(NewFile f, StageSelect(conn, lake, kRollupTable, cluster, dt, select));
  f.min_cursor = day;
  f.max_cursor = until - Duration::Micros(1);  // RolledUpUntil
  const int64_t hours = f.rows - kept;
  Replacement r;
  r.add.push_back(std::move(f));
  for (const auto& o : old) r.retire.push_back(o.id);
  r.crash_prefix = "rollup";
  r.run = {.cluster = cluster, .table = kRollupTable, .started_at = started, .finished_at = lake.env().Now(),
           .window_lower = from, .window_upper = until, .rows_read = rows_read,
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
  return EndOf(files);
}

Result<bool> HasRollup(StateStore& state, const std::string& cluster, const std::string& dt) {
  ASSIGN_OR_RETURN(auto end, RollupEnd(state, cluster, dt));
  ASSIGN_OR_RETURN(Timestamp day, DayStart(dt));
  return end && *end >= day + Duration::Days(1);
}

Result<int64_t> ExtendRollupDay(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                const std::string& cluster, const std::string& dt, Timestamp until) {
  ASSIGN_OR_RETURN(auto old, RollupFilesOf(state, cluster, dt));
  ASSIGN_OR_RETURN(Timestamp day, DayStart(dt));
  // One roll-up file per day; were there more (a crash can leave none, never two), the day is
  // computed again from its start.
  const Timestamp from = old.size() == 1 ? RolledUpUntil(old.front()) : day;
  return WriteRollup(state, lake, conn, cluster, dt, from, until, old);
}

Result<int64_t> RebuildRollupDay(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                 const std::string& cluster, const std::string& dt) {
  ASSIGN_OR_RETURN(auto old, RollupFilesOf(state, cluster, dt));
  ASSIGN_OR_RETURN(Timestamp day, DayStart(dt));
  // To where it reached; a day without a roll-up is rolled up whole (purge rebuilds closed days).
  const Timestamp until = EndOf(old).value_or(day + Duration::Days(1));
  return WriteRollup(state, lake, conn, cluster, dt, day, until, old);
}

Result<Timestamp> ClosedHoursEnd(StateStore& state, const Config& config, const std::string& cluster, Timestamp now) {
  std::vector<std::string> inputs;
  if (const ClusterConfig* c = config.FindCluster(cluster))
    for (const auto& table : config.TablesOf(*c))
      if (IsRollupInput(table)) inputs.push_back(table);
  if (inputs.empty()) inputs = RollupInputs();
  Timestamp end = now;
  for (const auto& table : inputs) {
    ASSIGN_OR_RETURN(Timestamp t, ReceiveHorizon(state, config, cluster, table, now));
    end = std::min(end, t);
  }
  return HourStart(end);
}

Result<RollupReport> BuildRollups(StateStore& state, const LakeLayout& lake, const Config& config, Timestamp now) {
  // Days with any input rows, those with input files not published yet, and how far each
  // day's roll-up goes.
  ASSIGN_OR_RETURN(auto files, state.ListFiles({.states = {FileState::kCommitted, FileState::kPublished}}));
  std::set<Day> candidates, pending;
  std::map<Day, Timestamp> rolled_up;
  for (const auto& f : files) {
    if (f.table == kRollupTable && f.state == FileState::kPublished) {
      auto [it, fresh] = rolled_up.try_emplace({f.cluster, f.dt}, RolledUpUntil(f));
      if (!fresh) it->second = std::max(it->second, RolledUpUntil(f));
    }
    if (!IsRollupInput(f.table)) continue;
    candidates.insert({f.cluster, f.dt});
    if (f.state == FileState::kCommitted) pending.insert({f.cluster, f.dt});
  }
  std::map<std::string, Timestamp> closed;  // per cluster: ClosedHoursEnd
  for (const auto& [cluster, dt] : candidates) {
    if (closed.count(cluster)) continue;
    ASSIGN_OR_RETURN(closed[cluster], ClosedHoursEnd(state, config, cluster, now));
  }

  RollupReport report;
  std::shared_ptr<duck::Database> db;
  std::unique_ptr<duck::Connection> conn;
  for (const auto& day : candidates) {
    auto start = DayStart(day.second);
    if (pending.count(day) || !start.ok()) continue;
    const Timestamp day_end = *start + Duration::Days(1);
    const Timestamp until = std::min(day_end, closed[day.first]);
    const auto done = rolled_up.find(day);
    if (until <= (done == rolled_up.end() ? *start : done->second)) continue;
    if (!conn) {
      ASSIGN_OR_RETURN(db, OpenUpkeepDatabase(lake));
      ASSIGN_OR_RETURN(conn, duck::Connection::Open(db));
    }
    auto hours = ExtendRollupDay(state, lake, *conn, day.first, day.second, until);
    if (!hours.ok()) {
      report.errors.push_back(fmt::format("roll-up of cluster {}, {}: {}", day.first, day.second, hours.status().message()));
      continue;
    }
    ++(until == day_end ? report.days : report.open_days);
    report.hours += *hours;
  }
  return report;
}

}  // namespace fleetlog::upkeep
