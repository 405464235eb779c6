#include "upkeep/compaction.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <tuple>

#include "core/fs.h"
#include "upkeep/policy.h"
#include "lake/replace.h"
#include "lake/schema_catalog.h"

namespace fleetlog::upkeep {
namespace {

using duck::QuoteIdent;
using PartitionKey = std::tuple<std::string, std::string, std::string>;  // table, cluster, dt

bool Selected(const std::vector<std::string>& only, const std::string& name) {
  return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
}

std::string OrderBy(const std::vector<std::string>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + QuoteIdent(c);
  return out;
}


// Stages the merged rows of `files` as `outputs` files of about equal row counts.
Result<std::vector<NewFile>> StageMerged(duck::Connection& conn, const LakeLayout& lake,
                                         const std::vector<CommittedFile>& files, const std::string& order,
                                         int64_t total_rows, int64_t outputs) {
  const CommittedFile& first = files.front();
  ASSIGN_OR_RETURN(const LocalFiles local, ResolveLakeFiles(lake, files));
  const std::string source =
      fmt::format("read_parquet({}, union_by_name = true, hive_partitioning = false)", ParquetList(local));
  std::vector<NewFile> staged;
  auto stage = [&](const std::string& select) -> Status {
    auto f = StageSelect(conn, lake, first.table, first.cluster, first.dt, select);
    if (!f.ok()) return f.status();
    staged.push_back(std::move(f).value());
    return Status::Ok();
  };
  Status status;
  if (outputs <= 1) {
    status = stage("SELECT * FROM " + source + (order.empty() ? "" : " ORDER BY " + order));
  } else {
    // Number the rows once in sort order, then cut the numbering into `outputs` ranges.
    const std::string numbered = "compact_" + RandomHex(6);
    status = conn.Exec(fmt::format("CREATE TEMP TABLE {} AS SELECT *, row_number() OVER ({}) AS __fleetlog_rn FROM {}",
                                   numbered, order.empty() ? "" : "ORDER BY " + order, source));
    const int64_t per_file = (total_rows + outputs - 1) / outputs;
    for (int64_t i = 0; status.ok() && i * per_file < total_rows; ++i) {
      status = stage(fmt::format("SELECT * EXCLUDE (__fleetlog_rn) FROM {} WHERE __fleetlog_rn > {} AND __fleetlog_rn <= {} "
                                 "ORDER BY __fleetlog_rn",
                                 numbered, i * per_file, (i + 1) * per_file));
    }
    (void)conn.Exec("DROP TABLE IF EXISTS " + numbered);
  }
  if (!status.ok()) {
    RemoveStagedFiles(lake, staged);
    return status;
  }
  return staged;
}

}  // namespace

Result<PartitionCompaction> CompactFiles(StateStore& state, const LakeLayout& lake, duck::Connection& conn,
                                         const std::vector<CommittedFile>& files,
                                         const std::vector<std::string>& sort_columns, int64_t target_file_bytes) {
  if (files.size() < 2) return Internal("compaction needs at least two files");
  const CommittedFile& first = files.front();
  const Timestamp started = lake.env().Now();
  int64_t rows = 0, bytes = 0;
  std::optional<Timestamp> min_cursor, max_cursor;
  bool ranges_known = true;
  for (const auto& f : files) {
    rows += f.rows;
    bytes += f.bytes;
    ranges_known = ranges_known && f.min_cursor && f.max_cursor;
    if (f.min_cursor && (!min_cursor || *f.min_cursor < *min_cursor)) min_cursor = f.min_cursor;
    if (f.max_cursor && (!max_cursor || *f.max_cursor > *max_cursor)) max_cursor = f.max_cursor;
  }
  // A range must cover every row (queries skip files by it): one input without its range
  // leaves the merged file's range unknown.
  if (!ranges_known) min_cursor = max_cursor = std::nullopt;
  const int64_t outputs = std::max<int64_t>(1, (bytes + target_file_bytes - 1) / std::max<int64_t>(1, target_file_bytes));
  ASSIGN_OR_RETURN(auto staged, StageMerged(conn, lake, files, OrderBy(sort_columns), rows, outputs));

  PartitionCompaction result;
  for (auto& f : staged) {
    // The dedupe of later exports only needs a range that covers the file's rows.
    f.min_cursor = min_cursor;
    f.max_cursor = max_cursor;
    result.rows += f.rows;
    result.bytes_out += f.bytes;
  }
  result.files_out = static_cast<int>(staged.size());
  if (result.rows != rows) {
    RemoveStagedFiles(lake, staged);
    return Error(StatusCode::kCorruption, "merging {} files of {} gave {} rows instead of {}; nothing was changed",
                 files.size(), LakeLayout::PartitionDir(first.table, first.cluster, first.dt), result.rows, rows);
  }
  CrashPoint("compact-staged");

  Replacement replacement;
  replacement.add = std::move(staged);
  for (const auto& f : files) replacement.retire.push_back(f.id);
  replacement.crash_prefix = "compact";
  RunRecord& run = replacement.run;
  run.kind = "compact";
  run.cluster = first.cluster;
  run.table = first.table;
  run.started_at = started;
  run.finished_at = lake.env().Now();
  run.window_lower = min_cursor;
  run.window_upper = max_cursor;
  run.rows_read = rows;
  run.rows_written = result.rows;
  run.bytes_written = result.bytes_out;
  RETURN_IF_ERROR(CommitReplacement(state, lake, std::move(replacement)).status());
  return result;
}

Result<CompactionReport> CompactLake(StateStore& state, const LakeLayout& lake, const Config& config,
                                     const CompactionOptions& options, Timestamp now) {
  ASSIGN_OR_RETURN(auto files, state.ListFiles({.states = {FileState::kCommitted, FileState::kPublished}}));
  std::map<PartitionKey, std::vector<CommittedFile>> partitions;
  std::set<PartitionKey> pending;  // committed, not yet published: recovery's business first
  for (auto& f : files) {
    if (!Selected(options.tables, f.table) || !Selected(options.clusters, f.cluster)) continue;
    PartitionKey key{f.table, f.cluster, f.dt};
    if (f.state == FileState::kCommitted) pending.insert(key);
    else partitions[key].push_back(std::move(f));
  }

  // Which partitions to merge, and their small files: those that must be merged (closed, or
  // past the file limit) first, then the early ones, most files first, while time is left.
  using Merge = std::pair<PartitionKey, std::vector<CommittedFile>>;
  std::vector<Merge> due, early;
  std::map<std::pair<std::string, std::string>, Timestamp> horizons;
  for (auto& [key, all] : partitions) {
    const auto& [table, cluster, dt] = key;
    if (pending.count(key)) continue;
    std::vector<CommittedFile> small;
    int64_t small_bytes = 0;
    for (const auto& f : all) {
      if (f.bytes >= options.target_file_bytes / 2) continue;
      small.push_back(f);
      small_bytes += f.bytes;
    }
    if (small.size() < 2) continue;
    auto horizon = horizons.find({cluster, table});
    if (horizon == horizons.end()) {
      ASSIGN_OR_RETURN(Timestamp h, ReceiveHorizon(state, config, cluster, table, now));
      horizon = horizons.emplace(std::make_pair(cluster, table), h).first;
    }
    const bool closed = DayEndsBy(dt, horizon->second);
    if (closed || static_cast<int>(all.size()) > options.max_files_per_partition)
      due.emplace_back(key, std::move(small));
    else if (static_cast<int>(small.size()) > options.eager_files && small_bytes < options.eager_bytes)
      early.emplace_back(key, std::move(small));
  }
  std::stable_sort(early.begin(), early.end(),
                   [](const Merge& a, const Merge& b) { return a.second.size() > b.second.size(); });

  CompactionReport report;
  std::shared_ptr<duck::Database> db;
  std::unique_ptr<duck::Connection> conn;
  std::map<std::string, TableSchema> schemas;
  auto merge = [&](const PartitionKey& key, const std::vector<CommittedFile>& small) -> Status {
    const auto& [table, cluster, dt] = key;
    if (options.dry_run) {
      ++report.partitions;
      report.files_in += static_cast<int>(small.size());
      for (const auto& f : small) {
        report.bytes_in += f.bytes;
        report.rows += f.rows;
      }
      return Status::Ok();
    }
    if (!conn) {
      ASSIGN_OR_RETURN(db, OpenUpkeepDatabase(lake));
      ASSIGN_OR_RETURN(conn, duck::Connection::Open(db));
    }
    if (!schemas.count(table)) {
      ASSIGN_OR_RETURN(schemas[table], StoredSchema(state, table));
    }
    auto done = CompactFiles(state, lake, *conn, small, SortColumnsOf(config, table, schemas[table]),
                             options.target_file_bytes);
    if (!done.ok()) {
      report.errors.push_back(fmt::format("{}: {}", LakeLayout::PartitionDir(table, cluster, dt), done.status().message()));
      return Status::Ok();
    }
    ++report.partitions;
    report.files_in += static_cast<int>(small.size());
    for (const auto& f : small) report.bytes_in += f.bytes;
    report.files_out += done->files_out;
    report.rows += done->rows;
    report.bytes_out += done->bytes_out;
    return Status::Ok();
  };
  for (const auto& [key, small] : due) RETURN_IF_ERROR(merge(key, small));
  const auto early_until = std::chrono::steady_clock::now() + std::chrono::microseconds(options.eager_budget.micros());
  for (const auto& [key, small] : early) {
    if (!options.dry_run && std::chrono::steady_clock::now() >= early_until) break;
    RETURN_IF_ERROR(merge(key, small));
  }
  return report;
}

}  // namespace fleetlog::upkeep
