// The query engine: DuckDB in process, with one view per lake table over its published
// files (hive partitioning gives every table `cluster` and `dt`), helper views that rebuild
// full statement text, and a sandbox that is on before any user SQL runs:
//   - only read-only statements (SELECT, EXPLAIN of a SELECT, DESCRIBE, SUMMARIZE) are
//     accepted, as DuckDB's own parser classifies them (never a scanner of fleetlog's);
//   - DuckDB may open exactly the committed files its views read (allowed_paths, then
//     enable_external_access = false, then lock_configuration): no folder may be listed,
//     no other file read, nothing written (no temp_directory either, so nothing spills);
//   - a committed file that is not a regular file inside the lake (a symlink, or a path
//     through one) is refused, never followed;
//   - no extension is installed or loaded; memory and threads are capped.
// docs/security.md says what else bounds a statement (the worker process, Landlock, rlimits).
// Views read only the files of the partitions a query's filters on `cluster` and `dt` keep,
// and, given the tables' cursor columns, the files its filters on them and on the query and
// transaction ids can need (prune.h).
// A QueryEngine sees the snapshot of committed files taken when it was opened.
// Thread-safety: Run() from one thread at a time; Interrupt() from any thread. The engine may
// run a thread of its own (query/keeper.h), which it ends when it is destroyed.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/row_batch.h"
#include "core/status.h"
#include "duck/duck.h"
#include "lake/layout.h"
#include "lake/schema_catalog.h"
#include "query/prune.h"
#include "state/state_store.h"

namespace fleetlog {

class Keeper;

struct EngineOptions {
  std::string lake_root;
  int64_t memory_limit_bytes = 2LL << 30;
  int threads = 2;
  // When set, views are made only for the tables this SQL may read: those whose names, or
  // the names of the helper views over them, occur in it as words (every table when it
  // reads the catalog). Opening then costs the same whatever the size of the lake.
  std::optional<std::string> views_for_sql;
  // Tables whose committed files record the range of this column (min_cursor, max_cursor).
  // When set, views read only the files a statement can need by its filters on that column
  // and on the id columns (query/prune.h): with views_for_sql, the views are made so; else
  // (a long-lived engine) each Run() narrows the views of the tables it can skip files of,
  // for that statement only. Unset: every view reads every file.
  std::map<std::string, std::string> cursor_columns;
  // A long-lived engine keeps workload_hourly's newest roll-ups in memory, at most this many
  // rows (NewestRollups, query/workload_hourly.h); unset: KeptRollupRows.
  std::optional<int64_t> kept_rollup_rows;
  // A long-lived engine keeps the smallest tables whole in memory, as many as this many
  // bytes hold (TablesToKeep, query/keeper.h); a table with a text view is kept as the
  // view's reassembled statements instead. Unset: KeptTableBytes.
  std::optional<int64_t> kept_table_bytes;
  // When set, called once the views are made and before DuckDB starts its worker threads
  // and locks its configuration, with the files the engine may read: the place to confine
  // the process (query/confine.h), since a kernel restriction reaches only threads started
  // after it. A failure fails Open().
  std::function<Status(const std::vector<std::string>& readable_files)> confine;
};

// What a roll-up row kept in memory is reckoned to take: its 15 columns and DuckDB's blocks.
// The bench lake's 14,400 roll-up rows and 167 raw rows (20 clusters, 31 days) took 4.5 MB
// of DuckDB's memory, 310 bytes a row.
inline constexpr int64_t kKeptRollupRowBytes = 320;

// What an engine opened with `options` keeps in memory: nothing when it is made for one
// statement (views_for_sql); else kept_rollup_rows of workload_hourly's roll-ups and
// kept_table_bytes of the smallest tables, by default an eighth of memory_limit_bytes each.
// The copies count against DuckDB's memory_limit; a query worker's memory cap grows by
// their sum, KeptMemoryAllowance (query/worker.h).
int64_t KeptRollupRows(const EngineOptions& options);
int64_t KeptTableBytes(const EngineOptions& options);
int64_t KeptMemoryAllowance(const EngineOptions& options);

struct LakeTable {
  std::string name;
  TableSchema columns;  // as stored, without `cluster` and `dt`
  int64_t files = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
};

// A helper view that rebuilds statements from 200-character pieces: the pieces of each group
// concatenated in `sequence` order as stored (trailing blanks of a non-final piece are
// content), then the two characters \n turned into newlines. Its columns: the group's, then
// userid, text, pieces (the count) and dt (the first piece's).
struct TextView {
  const char* table;  // "stl_querytext"
  const char* view;   // "stl_querytext_full"
  const char* group;  // "cluster, query": the columns that identify one statement
  const char* user;   // the user column: "userid" (STL) or "user_id" (SYS)
};
std::span<const TextView> TextViews();
// The text view over `table`, or null.
const TextView* TextViewOf(std::string_view table);

// DuckDB's aggregate that concatenates a group's pieces (`text`, `sequence`: column names
// as SQL) in sequence order, as string_agg(text, '' ORDER BY sequence) does: NULL pieces
// skipped, NULL when every piece is NULL, a NULL sequence last. It sorts one list per group
// instead of DuckDB's ordered aggregate, which took twice as long over a month of DDL text.
std::string PiecesInOrderSql(std::string_view text, std::string_view sequence);

// What the engine reads: the published files and the recorded schemas, as of one moment.
struct LakeSnapshot {
  std::vector<CommittedFile> files;              // published only
  std::map<std::string, TableSchema> schemas;    // table -> recorded columns
};
// `state` may be null (an empty lake). With `tables`, the snapshot holds those tables' files
// and schemas only (TablesReadBy).
Result<LakeSnapshot> LoadLakeSnapshot(StateStore* state,
                                      const std::optional<std::set<std::string>>& tables = std::nullopt);

// The tables whose files an engine made for `sql` alone (EngineOptions::views_for_sql) can
// read, as a superset: the words of `sql` and the tables of the views it names. Nullopt when
// that may be any table (it names the catalog or workload_hourly). A one-shot engine's
// snapshot need hold no other table: `fleetlog query` then reads a few hundred files from the
// state store, not every file of the lake.
std::optional<std::set<std::string>> TablesReadBy(const std::string& sql);

// The tables of `snapshot` by name, each with its recorded columns and its files' count, rows
// and bytes; a table with neither files nor recorded columns is left out. What an engine over
// `snapshot` lists (QueryEngine::tables()), without opening one.
std::vector<LakeTable> LakeTables(const LakeSnapshot& snapshot);

// A snapshot whose files DuckDB can read locally, under `root`, while `hold` lives.
struct LocalSnapshot {
  std::string root;
  LakeSnapshot snapshot;
  std::shared_ptr<void> hold;
};
// The files of the tables the engine would make views for, by the local names DuckDB reads
// (lake/lake_files.h): for a lake in an object store, copies fetched into the local cache;
// for a local lake, their reader names under the lake, which outlive their retirement from
// the table folders. The others keep their lake paths (counted, never read). The query server
// localizes before it hands a snapshot to a confined worker, which fetches nothing.
Result<LocalSnapshot> LocalizeSnapshot(const EngineOptions& options, const LakeSnapshot& snapshot);

class QueryEngine {
 public:
  // `state` may be null (an empty lake): then no table views exist.
  static Result<std::unique_ptr<QueryEngine>> Open(const EngineOptions& options, StateStore* state);
  static Result<std::unique_ptr<QueryEngine>> Open(const EngineOptions& options, const LakeSnapshot& snapshot);

  // Runs user SQL under the sandbox. Fails with kPermissionDenied for statements that are
  // not read-only, and with DuckDB's own message for anything else it refuses.
  Result<duck::QueryResult> Run(const std::string& sql);
  void Interrupt() { conn_->Interrupt(); }
  const std::vector<LakeTable>& tables() const { return tables_; }
  // The files this engine can open (those of the views it made), with their total size:
  // every byte a statement can read is in them, however it names them.
  const std::vector<std::string>& readable_files() const { return readable_files_; }
  int64_t readable_bytes() const { return readable_bytes_; }
  // How many files the last Run() did not read because of its filters (a long-lived
  // engine's per-statement pruning, EngineOptions::cursor_columns): for tests and logs.
  int64_t last_skipped_files() const { return last_skipped_files_; }
  // The tables whose views were made, for messages about what a statement may read.
  const std::vector<std::string>& viewed_tables() const { return viewed_tables_; }
  // Waits for the engine's background work (below) to end: for tests.
  void WaitForBackgroundWork();
  // A long-lived engine keeps in memory, once a statement may have read them (query/keeper.h),
  // workload_hourly's raw rows (kWorkloadRawTable) and newest roll-ups
  // (kWorkloadRollupRowsTable), and the smallest tables (EngineOptions::kept_table_bytes).
  // The copies are made in a thread of the engine's own, while statements go on: those that
  // start before a copy is done read the files, as a one-statement engine does.
  // Whether workload_hourly reads its kept rows:
  bool workload_rows_kept() const;
  // The tables and text views that read their kept rows, by name.
  std::vector<std::string> kept_relations() const;
  // Why copies failed since the last call, each once (Keeper::TakeFailures): those views
  // read their files, slower and the same.
  std::vector<std::string> TakeKeepFailures();
  // The copies started so far, by name (workload_hourly, a table, a text view): what an
  // engine over the next snapshot is asked to keep before statements need it (Keep()).
  std::vector<std::string> started_copies() const;
  // Starts the copies named as a statement naming them would; unknown names are ignored.
  void Keep(const std::vector<std::string>& names);

  ~QueryEngine();

 private:
  QueryEngine() = default;
  // Open() once every file of `snapshot` is local under options.lake_root.
  static Result<std::unique_ptr<QueryEngine>> OpenLocal(const EngineOptions& options, const LakeSnapshot& snapshot);
  // Shadows the view of each table whose files a statement with `ranges` can skip with a
  // temporary view over the files it needs, and lifts the shadow from every other table.
  Status PruneViewsFor(const StatementRanges& ranges);
  std::shared_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
  std::vector<LakeTable> tables_;
  std::vector<std::string> readable_files_;
  int64_t readable_bytes_ = 0;
  std::vector<std::string> viewed_tables_;
  // A long-lived engine's per-statement pruning (EngineOptions::cursor_columns).
  bool prune_each_statement_ = false;
  std::map<std::string, std::string> cursor_columns_;
  std::string lake_root_;
  std::string select_sql_;  // the statement the engine was opened for, when DuckDB serialised it (a SELECT)
  std::vector<CommittedFile> files_;                                         // the viewed tables' files
  std::map<std::string, std::vector<const CommittedFile*>> files_by_table_;  // into files_
  int64_t last_skipped_files_ = 0;
  // Table -> the files its temporary view reads, for the tables the last statement narrowed.
  std::map<std::string, std::vector<const CommittedFile*>> narrowed_;
  // A long-lived engine's SELECTs by their text -> their ranges (one statement each, as
  // DuckDB serialised them), so that a statement asked again (a dashboard's panels at each
  // refresh) is not counted, parsed and serialised again before it runs. The ranges depend
  // on the text alone: the engine's cursor columns and locked configuration do not change.
  // Bounded by RememberRanges.
  std::unordered_map<std::string, StatementRanges> ranges_by_sql_;
  size_t ranges_by_sql_bytes_ = 0;
  void RememberRanges(const std::string& sql, const StatementRanges& ranges);
  // A long-lived engine's copies in memory (workload_rows_kept, kept_relations).
  std::unique_ptr<Keeper> keeper_;
  std::shared_ptr<void> hold_;  // the local copies of an object store's files, while the engine lives
};

}  // namespace fleetlog
