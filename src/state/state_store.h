// The state store: what fleetlog has committed. Cursors, committed files and runs, and a
// small key-value area for models and table schemas. Every change that makes rows visible
// goes through Commit(), one transaction, so a crash leaves either all of it or none.
// The interface can be backed by SQLite (the default) or, later, PostgreSQL.
// Thread-safety: implementations are safe for concurrent use from many threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "core/time.h"

namespace fleetlog {

enum class FileState {
  kCommitted,    // committed, still at its staging path: recovery or the writer publishes it
  kPublished,    // at its lake path, visible to readers
  kRetired,      // replaced by a later commit (compaction, purge); deleted after a grace period
  kQuarantined,  // found damaged by `verify --repair`; kept aside, not read
};
const char* FileStateName(FileState state);

// The smallest and largest non-NULL value of an integer column over a file's rows, inclusive.
struct IdRange {
  int64_t min = 0, max = 0;
  bool operator==(const IdRange&) const = default;
};
// Column name -> its range, for the id columns readers filter on (query and transaction
// ids): what lets the query engine skip a file by `query = 42` (query/prune.h).
using IdRanges = std::map<std::string, IdRange>;
// "query:1:5,xid:7:9" (the state store's and the journal's form), and back; text that is
// not of that form reads as no ranges (unknown: the file is never skipped by them).
std::string IdRangesToText(const IdRanges& ranges);
IdRanges IdRangesFromText(std::string_view text);

struct NewFile {
  std::string table;
  std::string cluster;
  std::string dt;            // YYYY-MM-DD
  std::string path;          // lake-relative final path
  std::string staging_path;  // lake-relative staging path; equal to `path` when the file is
                             // already in place (upkeep): then the commit publishes it
  int64_t rows = 0;
  int64_t bytes = 0;
  std::string checksum;      // BLAKE2b-256 hex of the file's bytes
  std::optional<Timestamp> min_cursor, max_cursor;
  std::string columns;       // the file's columns as written, SchemaToText form ("query BIGINT, ...");
                             // empty when unknown (files committed before fleetlog recorded it)
  IdRanges id_ranges;        // a column absent: unknown (older files, or only NULLs in it)
};

struct CommittedFile : NewFile {
  int64_t id = 0;
  int64_t commit_id = 0;
  FileState state = FileState::kCommitted;
  Timestamp committed_at;
  std::optional<Timestamp> retired_at;
};

enum class RunStatus { kOk, kFailed };

struct RunRecord {
  int64_t id = 0;
  std::string cluster;
  std::string table;
  Timestamp started_at;
  Timestamp finished_at;
  RunStatus status = RunStatus::kOk;
  std::optional<Timestamp> window_lower, window_upper;
  std::optional<Timestamp> source_now;  // the source's clock at cycle start
  int64_t rows_read = 0;
  int64_t rows_written = 0;
  int64_t rows_duplicate = 0;
  int64_t bytes_written = 0;
  std::string error;
  std::string kind = "export";  // export | compact | purge | ...
};

// Sums over every recorded run of one (cluster, table, kind, status): counters for /metrics.
struct RunTotals {
  std::string cluster, table, kind;
  RunStatus status = RunStatus::kOk;
  int64_t runs = 0;
  int64_t rows_written = 0;
  int64_t bytes_written = 0;
  Duration duration;  // summed finished_at - started_at
};

struct CursorRecord {
  std::string cluster;
  std::string table;
  Timestamp position;
  Timestamp updated_at;
};

// One atomic change: files added, files retired, the cursor moved, and the audit row.
struct CommitRequest {
  std::vector<NewFile> add;
  std::vector<int64_t> retire;  // file ids that the added files replace
  std::optional<CursorRecord> cursor;
  RunRecord run;
  // Keys set (as PutValue would) in the same transaction: the commit journal's applied mark.
  std::vector<std::pair<std::string, std::string>> values;
};

struct FileFilter {
  std::optional<std::string> table, cluster;
  std::vector<FileState> states;  // empty: all
  std::optional<std::vector<std::string>> tables;  // any of them (empty: no file); unset: every table
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Applies `request` in one transaction; returns the commit id. On failure nothing changed.
  virtual Result<int64_t> Commit(const CommitRequest& request) = 0;
  // Records a run that committed nothing (a failure); returns its id.
  virtual Result<int64_t> RecordRun(const RunRecord& run) = 0;

  virtual Result<std::optional<Timestamp>> GetCursor(const std::string& cluster, const std::string& table) = 0;
  virtual Result<std::vector<CursorRecord>> ListCursors() = 0;
  virtual Result<std::vector<CommittedFile>> ListFiles(const FileFilter& filter) = 0;
  // Moves files from kCommitted to kPublished once they are at their lake path.
  virtual Status MarkPublished(const std::vector<int64_t>& file_ids) = 0;
  virtual Status SetFileState(int64_t file_id, FileState state) = 0;
  // Forgets retired files (after they were deleted from disk).
  virtual Status DeleteFiles(const std::vector<int64_t>& file_ids) = 0;

  // The newest run of each (cluster, table, kind).
  virtual Result<std::vector<RunRecord>> LatestRuns() = 0;
  // The newest `limit` runs, newest first, optionally for one cluster.
  virtual Result<std::vector<RunRecord>> RecentRuns(int limit, const std::string& cluster = "") = 0;
  // Totals of every run ever recorded, by (cluster, table, kind, status).
  virtual Result<std::vector<RunTotals>> ListRunTotals() = 0;
  // Consecutive failed runs of (cluster, table) since its last success: for back-off.
  virtual Result<int> FailureStreak(const std::string& cluster, const std::string& table) = 0;

  // Small values: table schemas, detector models, settings. Empty optional when absent.
  virtual Result<std::optional<std::string>> GetValue(const std::string& key) = 0;
  virtual Status PutValue(const std::string& key, const std::string& value) = 0;
  virtual Status DeleteValue(const std::string& key) = 0;
  virtual Result<std::vector<std::string>> ListKeys(const std::string& prefix) = 0;

  // A cheap mark of the store's contents: it differs between two calls whenever anything
  // may have changed in between (through this object or any other connection), so a reader
  // that keeps what it loaded reloads only when the mark moves. Empty: unknown (reload).
  virtual Result<std::string> ChangeMark() { return std::string(); }
};

enum class OpenMode { kReadWrite, kReadOnly };

// The reserve file of the state store at `path` (see OpenSqliteStateStore); missing once used.
inline std::string StateStoreReservePath(const std::string& path) { return path + ".reserve"; }

// Opens (creating and migrating when kReadWrite) the SQLite state store at `path`, a local
// file (SQLite does its own I/O); `env` makes its folder and gives the clock for commit times.
// kReadOnly fails with kNotFound when the file does not exist. kReadWrite keeps an 8 MiB
// reserve file at StateStoreReservePath(path) that RecordRun frees to record a failure on a
// full disk.
Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::string& path, OpenMode mode,
                                                         Env* env = Env::Default());

}  // namespace fleetlog
