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

}  // namespace

const TableSchema& RollupSchema() { return HourlySchema(); }
const std::vector<std::string>& RollupInputs() { return HourlyInputs(); }
bool IsRollupInput(const std::string& table) { return IsHourlyInput(table); }

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
  // As workload_hourly routes a day without a roll-up (query/workload_hourly.h): STL when the
  // day has files of any STL input, else SYS.
  const bool stl = std::any_of(day_files.begin(), day_files.end(), [](const auto& in) {
    return IsStlTable(in.first) && !in.second.empty();
  });
  const ViewFamily family = stl ? ViewFamily::kStl : ViewFamily::kSys;
  std::vector<LocalFiles> inputs;  // held until the roll-up is staged
  std::map<std::string, std::string> relations;  // input table -> read_parquet over the day's files
  int64_t rows_read = 0;
  for (const auto& [table, files] : day_files) {
    if (files.empty() || IsStlTable(table) != stl) continue;
    ASSIGN_OR_RETURN(inputs.emplace_back(), ResolveLakeFiles(lake, files));
    relations[table] = fmt::format("read_parquet({}, union_by_name = true, hive_partitioning = false)",
                                   ParquetList(inputs.back()));
    for (const auto& f : files) rows_read += f.rows;
  }
  const std::string select = HourlyAggregateSql(family, [&](const std::string& table) {
    const auto it = relations.find(table);
    return it == relations.end() ? std::string() : it->second;
  }, /*by_cluster_day=*/false);
  ASSIGN_OR_RETURN(auto old, state.ListFiles({.table = kRollupTable, .cluster = cluster, .states = {FileState::kPublished}}));
  std::erase_if(old, [&](const CommittedFile& f) { return f.dt != dt; });

  RETURN_IF_ERROR(RecordSchema(state, kRollupTable, RollupSchema()));
  ASSIGN_OR_RETURN(NewFile f, StageSelect(conn, lake, kRollupTable, cluster, dt, select));
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
