// The SQLite-backed state store. WAL with synchronous=FULL: a returned Commit() survives a
// power cut. One connection, guarded by a mutex; other processes (readers such as
// `fleetlog query`) open their own connections, which WAL lets run beside the writer.
//
// A writer keeps a reserve file beside the store (<path>.reserve). When the disk fills, the
// export's writes fail and so would the record of that failure, leaving `status` showing the
// tables as never run; instead RecordRun frees the reserve and records the failure in its space.
// The next writer to open the store on a disk with room makes the reserve again.
#include <spdlog/spdlog.h>

#include <mutex>

#include "core/env.h"
#include "state/sqlite.h"
#include "state/state_store.h"

namespace fleetlog {
namespace {

using sqlite::Database;
using sqlite::Statement;

// Versioned migrations: entry i moves the schema from version i to i + 1. Never edit a
// shipped entry; append a new one.
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE cursors (
      cluster TEXT NOT NULL, tbl TEXT NOT NULL, position INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      PRIMARY KEY (cluster, tbl));
    CREATE TABLE commits (id INTEGER PRIMARY KEY, committed_at INTEGER NOT NULL, run_id INTEGER);
    CREATE TABLE files (
      id INTEGER PRIMARY KEY, commit_id INTEGER NOT NULL REFERENCES commits(id),
      tbl TEXT NOT NULL, cluster TEXT NOT NULL, dt TEXT NOT NULL,
      path TEXT NOT NULL UNIQUE, staging_path TEXT NOT NULL,
      rows INTEGER NOT NULL, bytes INTEGER NOT NULL, checksum TEXT NOT NULL,
      min_cursor INTEGER, max_cursor INTEGER,
      state INTEGER NOT NULL, retired_at INTEGER);
    CREATE INDEX files_by_partition ON files (tbl, cluster, dt);
    CREATE INDEX files_by_state ON files (state);
    CREATE TABLE runs (
      id INTEGER PRIMARY KEY, kind TEXT NOT NULL, cluster TEXT NOT NULL, tbl TEXT NOT NULL,
      started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL, status INTEGER NOT NULL,
      window_lower INTEGER, window_upper INTEGER, source_now INTEGER,
      rows_read INTEGER NOT NULL, rows_written INTEGER NOT NULL, rows_duplicate INTEGER NOT NULL,
      bytes_written INTEGER NOT NULL, error TEXT NOT NULL);
    CREATE INDEX runs_by_target ON runs (cluster, tbl, kind, id);
    CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    )sql",
    // The columns of each file as written ("name TYPE, ..."); NULL for older files.
    "ALTER TABLE files ADD COLUMN columns TEXT;",
    // The ranges of each file's id columns (IdRangesToText); NULL for older files: unknown.
    "ALTER TABLE files ADD COLUMN id_ranges TEXT;",
};

std::optional<int64_t> Micros(const std::optional<Timestamp>& t) {
  return t ? std::optional(t->micros()) : std::nullopt;
}
std::optional<Timestamp> FromMicros(const std::optional<int64_t>& us) {
  return us ? std::optional(Timestamp::FromMicros(*us)) : std::nullopt;
}

// Room for the failure records of a cycle of a large fleet, WAL frames included.
constexpr size_t kReserveBytes = 8 << 20;

class SqliteStateStore final : public StateStore {
 public:
  SqliteStateStore(Database db, Env* env, std::string reserve_path)
      : db_(std::move(db)), clock_(env->clock()), env_(env), reserve_path_(std::move(reserve_path)) {}

  // Makes the reserve file when it is missing; a full disk leaves it missing (and is
  // reported by the writes that follow, not here).
  void KeepReserve() {
    auto exists = env_->FileExists(reserve_path_);
    if (!exists.ok() || *exists) return;
    if (Status s = env_->WriteFile(reserve_path_, std::string(kReserveBytes, '\0'), {.mode = 0600}); !s.ok())
      spdlog::warn("cannot make the state store's reserve {}: {}", reserve_path_, s.message());
  }

  Result<int64_t> SchemaVersion() {
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare("PRAGMA user_version"));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row ? stmt.Int(0) : 0;
  }

  // A reader (OpenMode::kReadOnly) never migrates: it reads what the store's version holds.
  Status ReadSchemaVersion() {
    ASSIGN_OR_RETURN(version_, SchemaVersion());
    return Status::Ok();
  }

  Status Migrate() {
    ASSIGN_OR_RETURN(const int64_t version, SchemaVersion());
    const auto latest = static_cast<int64_t>(std::size(kMigrations));
    if (version > latest)
      return Error(StatusCode::kInvalidArgument,
                   "the state store has schema version {}, newer than this fleetlog knows ({}): upgrade fleetlog", version, latest);
    for (int64_t v = version; v < latest; ++v) {
      RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
      Status s = db_.Exec(kMigrations[v]);
      if (s.ok()) s = db_.Exec(fmt::format("PRAGMA user_version = {}", v + 1));
      if (!s.ok()) {
        (void)db_.Exec("ROLLBACK");
        return s.WithContext(fmt::format("migrating the state store to version {}", v + 1));
      }
      RETURN_IF_ERROR(db_.Exec("COMMIT"));
    }
    return ReadSchemaVersion();
  }

  Result<int64_t> Commit(const CommitRequest& request) override {
    std::lock_guard lock(mu_);
    ++writes_;
    RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
    auto result = CommitLocked(request);
    if (!result.ok()) {
      (void)db_.Exec("ROLLBACK");
      return result;
    }
    if (Status committed = db_.Exec("COMMIT"); !committed.ok()) {
      (void)db_.Exec("ROLLBACK");  // a failed COMMIT may leave the transaction open
      return committed;
    }
    return result;
  }

  Result<int64_t> RecordRun(const RunRecord& run) override {
    std::lock_guard lock(mu_);
    ++writes_;
    auto id = InsertRun(run);
    if (id.ok() || id.status().code() != StatusCode::kResourceExhausted) return id;
    auto exists = env_->FileExists(reserve_path_);
    if (!exists.ok() || !*exists) return id;
    spdlog::error("the disk holding the state store is full: freeing its {} MiB reserve to record the failure; "
                  "free space on that disk", kReserveBytes >> 20);
    if (Status s = env_->DeleteFile(reserve_path_); !s.ok()) return id;
    return InsertRun(run);
  }

  Result<std::optional<Timestamp>> GetCursor(const std::string& cluster, const std::string& table) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT position FROM cursors WHERE cluster = ? AND tbl = ?"));
    stmt.Bind(1, cluster).Bind(2, table);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<Timestamp>();
    return std::optional(Timestamp::FromMicros(stmt.Int(0)));
  }

  Result<std::vector<CursorRecord>> ListCursors() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT cluster, tbl, position, updated_at FROM cursors ORDER BY cluster, tbl"));
    std::vector<CursorRecord> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      out.push_back({stmt.Text(0), stmt.Text(1), Timestamp::FromMicros(stmt.Int(2)), Timestamp::FromMicros(stmt.Int(3))});
    }
    return out;
  }

  Result<std::vector<CommittedFile>> ListFiles(const FileFilter& filter) override {
    std::lock_guard lock(mu_);
    std::string sql =
        "SELECT f.id, f.commit_id, f.tbl, f.cluster, f.dt, f.path, f.staging_path, f.rows, f.bytes, f.checksum, "
        "f.min_cursor, f.max_cursor, f.state, c.committed_at, f.retired_at, " +
        std::string(version_ >= 2 ? "f.columns" : "NULL") + ", " +
        std::string(version_ >= 3 ? "f.id_ranges" : "NULL") + " FROM files f JOIN commits c ON c.id = f.commit_id WHERE 1";
    // Only the filter's own terms: `(?1 IS NULL OR f.tbl = ?1)` cannot use files_by_partition,
    // and SQLite then walked every file by state (7 ms a call over 15,000 files, once per table
    // run of every cycle, against 0.014 ms by the index).
    if (filter.table) sql += " AND f.tbl = ?1";
    if (filter.cluster) sql += " AND f.cluster = ?2";
    if (filter.tables) {
      sql += " AND f.tbl IN (";
      for (size_t i = 0; i < filter.tables->size(); ++i) sql += fmt::format("{}?{}", i ? "," : "", i + 3);
      sql += ")";
    }
    if (!filter.states.empty()) {
      sql += " AND f.state IN (";
      for (size_t i = 0; i < filter.states.size(); ++i)
        sql += fmt::format("{}{}", i ? "," : "", static_cast<int>(filter.states[i]));
      sql += ")";
    }
    sql += " ORDER BY f.tbl, f.cluster, f.dt, f.id";
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare(sql));
    if (filter.table) stmt.Bind(1, *filter.table);
    if (filter.cluster) stmt.Bind(2, *filter.cluster);
    if (filter.tables)
      for (size_t i = 0; i < filter.tables->size(); ++i) stmt.Bind(static_cast<int>(i + 3), (*filter.tables)[i]);
    std::vector<CommittedFile> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      CommittedFile f;
      f.id = stmt.Int(0);
      f.commit_id = stmt.Int(1);
      f.table = stmt.Text(2);
      f.cluster = stmt.Text(3);
      f.dt = stmt.Text(4);
      f.path = stmt.Text(5);
      f.staging_path = stmt.Text(6);
      f.rows = stmt.Int(7);
      f.bytes = stmt.Int(8);
      f.checksum = stmt.Text(9);
      f.min_cursor = FromMicros(stmt.OptInt(10));
      f.max_cursor = FromMicros(stmt.OptInt(11));
      f.state = static_cast<FileState>(stmt.Int(12));
      f.committed_at = Timestamp::FromMicros(stmt.Int(13));
      f.retired_at = FromMicros(stmt.OptInt(14));
      f.columns = stmt.Text(15);
      f.id_ranges = IdRangesFromText(stmt.Text(16));
      out.push_back(std::move(f));
    }
    return out;
  }

  Status MarkPublished(const std::vector<int64_t>& file_ids) override {
    std::lock_guard lock(mu_);
    return UpdateEach(file_ids, fmt::format("UPDATE files SET state = {} WHERE id = ? AND state = {}",
                                            static_cast<int>(FileState::kPublished), static_cast<int>(FileState::kCommitted)));
  }

  Status SetFileState(int64_t file_id, FileState state) override {
    std::lock_guard lock(mu_);
    return UpdateEach({file_id}, fmt::format("UPDATE files SET state = {} WHERE id = ?", static_cast<int>(state)));
  }

  Status DeleteFiles(const std::vector<int64_t>& file_ids) override {
    std::lock_guard lock(mu_);
    return UpdateEach(file_ids, "DELETE FROM files WHERE id = ?");
  }

  Result<std::vector<RunRecord>> LatestRuns() override {
    std::lock_guard lock(mu_);
    return QueryRuns(std::string(kRunColumns) +
                         " WHERE id IN (SELECT max(id) FROM runs GROUP BY cluster, tbl, kind) ORDER BY cluster, tbl, kind",
                     "");
  }

  Result<std::vector<RunRecord>> RecentRuns(int limit, const std::string& cluster) override {
    std::lock_guard lock(mu_);
    return QueryRuns(fmt::format("{} WHERE (?1 = '' OR cluster = ?1) ORDER BY id DESC LIMIT {}", kRunColumns, limit), cluster);
  }

  Result<std::vector<RunTotals>> ListRunTotals() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare(
        "SELECT cluster, tbl, kind, status, count(*), sum(rows_written), sum(bytes_written), "
        "sum(finished_at - started_at) FROM runs GROUP BY cluster, tbl, kind, status ORDER BY cluster, tbl, kind, status"));
    std::vector<RunTotals> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      out.push_back({.cluster = stmt.Text(0), .table = stmt.Text(1), .kind = stmt.Text(2),
                     .status = stmt.Int(3) == 0 ? RunStatus::kOk : RunStatus::kFailed, .runs = stmt.Int(4),
                     .rows_written = stmt.Int(5), .bytes_written = stmt.Int(6), .duration = Duration::Micros(stmt.Int(7))});
    }
    return out;
  }

  Result<int> FailureStreak(const std::string& cluster, const std::string& table) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare(
        "SELECT count(*) FROM runs WHERE cluster = ?1 AND tbl = ?2 AND kind = 'export' AND status = 1 AND id > "
        "coalesce((SELECT max(id) FROM runs WHERE cluster = ?1 AND tbl = ?2 AND kind = 'export' AND status = 0), 0)"));
    stmt.Bind(1, cluster).Bind(2, table);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row ? static_cast<int>(stmt.Int(0)) : 0;
  }

  Result<std::optional<std::string>> GetValue(const std::string& key) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT value FROM kv WHERE key = ?"));
    stmt.Bind(1, key);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<std::string>();
    return std::optional(stmt.Text(0));
  }

  Status PutValue(const std::string& key, const std::string& value) override {
    std::lock_guard lock(mu_);
    ++writes_;
    return PutValueLocked(key, value);
  }

  Status DeleteValue(const std::string& key) override {
    std::lock_guard lock(mu_);
    ++writes_;
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare("DELETE FROM kv WHERE key = ?"));
    stmt.Bind(1, key);
    return stmt.Run();
  }

  // SQLite's data_version moves when another connection commits; writes_ counts this one's.
  Result<std::string> ChangeMark() override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare("PRAGMA data_version"));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    return fmt::format("{}.{}", row ? stmt.Int(0) : -1, writes_);
  }

  Result<std::vector<std::string>> ListKeys(const std::string& prefix) override {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare("SELECT key FROM kv WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key"));
    stmt.Bind(1, prefix);
    std::vector<std::string> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      out.push_back(stmt.Text(0));
    }
    return out;
  }

 private:
  static constexpr const char* kRunColumns =
      "SELECT id, kind, cluster, tbl, started_at, finished_at, status, window_lower, window_upper, source_now, "
      "rows_read, rows_written, rows_duplicate, bytes_written, error FROM runs";

  Result<int64_t> CommitLocked(const CommitRequest& request) {
    ASSIGN_OR_RETURN(int64_t run_id, InsertRun(request.run));
    ASSIGN_OR_RETURN(auto commit, db_.Prepare("INSERT INTO commits (committed_at, run_id) VALUES (?, ?)"));
    commit.Bind(1, clock_.Now().micros()).Bind(2, run_id);
    RETURN_IF_ERROR(commit.Run());
    const int64_t commit_id = db_.LastInsertId();
    for (const auto& f : request.add) {
      ASSIGN_OR_RETURN(auto stmt, db_.Prepare(
          "INSERT INTO files (commit_id, tbl, cluster, dt, path, staging_path, rows, bytes, checksum, min_cursor, "
          "max_cursor, state, columns, id_ranges) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
      stmt.Bind(1, commit_id).Bind(2, f.table).Bind(3, f.cluster).Bind(4, f.dt).Bind(5, f.path).Bind(6, f.staging_path);
      stmt.Bind(7, f.rows).Bind(8, f.bytes).Bind(9, f.checksum).Bind(10, Micros(f.min_cursor)).Bind(11, Micros(f.max_cursor));
      // A file already at its lake path (an upkeep replacement) is published by this very
      // commit, so readers never see its predecessors retired and it not yet visible.
      const FileState state = f.staging_path == f.path ? FileState::kPublished : FileState::kCommitted;
      stmt.Bind(12, static_cast<int64_t>(state));
      if (f.columns.empty()) stmt.BindNull(13);
      else stmt.Bind(13, f.columns);
      if (f.id_ranges.empty()) stmt.BindNull(14);
      else stmt.Bind(14, IdRangesToText(f.id_ranges));
      RETURN_IF_ERROR(stmt.Run());
    }
    for (int64_t id : request.retire) {
      ASSIGN_OR_RETURN(auto stmt, db_.Prepare(fmt::format(
          "UPDATE files SET state = {}, retired_at = ? WHERE id = ? AND state IN ({}, {})", static_cast<int>(FileState::kRetired),
          static_cast<int>(FileState::kCommitted), static_cast<int>(FileState::kPublished))));
      stmt.Bind(1, clock_.Now().micros()).Bind(2, id);
      RETURN_IF_ERROR(stmt.Run());
      if (sqlite3_changes(db_.raw()) != 1)
        return Error(StatusCode::kAlreadyExists, "file {} was already replaced by another commit", id);
    }
    if (request.cursor) {
      ASSIGN_OR_RETURN(auto stmt, db_.Prepare(
          "INSERT INTO cursors (cluster, tbl, position, updated_at) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (cluster, tbl) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at"));
      stmt.Bind(1, request.cursor->cluster).Bind(2, request.cursor->table).Bind(3, request.cursor->position.micros());
      stmt.Bind(4, clock_.Now().micros());
      RETURN_IF_ERROR(stmt.Run());
    }
    for (const auto& [key, value] : request.values) RETURN_IF_ERROR(PutValueLocked(key, value));
    return commit_id;
  }

  Status PutValueLocked(const std::string& key, const std::string& value) {
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)"));
    stmt.Bind(1, key).BindBlob(2, value);
    return stmt.Run();
  }

  Result<int64_t> InsertRun(const RunRecord& r) {
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare(
        "INSERT INTO runs (kind, cluster, tbl, started_at, finished_at, status, window_lower, window_upper, source_now, "
        "rows_read, rows_written, rows_duplicate, bytes_written, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    stmt.Bind(1, r.kind).Bind(2, r.cluster).Bind(3, r.table).Bind(4, r.started_at.micros()).Bind(5, r.finished_at.micros());
    stmt.Bind(6, static_cast<int64_t>(r.status)).Bind(7, Micros(r.window_lower)).Bind(8, Micros(r.window_upper));
    stmt.Bind(9, Micros(r.source_now)).Bind(10, r.rows_read).Bind(11, r.rows_written).Bind(12, r.rows_duplicate);
    stmt.Bind(13, r.bytes_written).Bind(14, r.error);
    RETURN_IF_ERROR(stmt.Run());
    return db_.LastInsertId();
  }

  Result<std::vector<RunRecord>> QueryRuns(const std::string& sql, const std::string& param) {
    ASSIGN_OR_RETURN(auto stmt, db_.Prepare(sql));
    if (sql.find("?1") != std::string::npos) stmt.Bind(1, param);
    std::vector<RunRecord> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      RunRecord r;
      r.id = stmt.Int(0);
      r.kind = stmt.Text(1);
      r.cluster = stmt.Text(2);
      r.table = stmt.Text(3);
      r.started_at = Timestamp::FromMicros(stmt.Int(4));
      r.finished_at = Timestamp::FromMicros(stmt.Int(5));
      r.status = static_cast<RunStatus>(stmt.Int(6));
      r.window_lower = FromMicros(stmt.OptInt(7));
      r.window_upper = FromMicros(stmt.OptInt(8));
      r.source_now = FromMicros(stmt.OptInt(9));
      r.rows_read = stmt.Int(10);
      r.rows_written = stmt.Int(11);
      r.rows_duplicate = stmt.Int(12);
      r.bytes_written = stmt.Int(13);
      r.error = stmt.Text(14);
      out.push_back(std::move(r));
    }
    return out;
  }

  Status UpdateEach(const std::vector<int64_t>& ids, const std::string& sql) {
    ++writes_;
    RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
    for (int64_t id : ids) {
      auto stmt = db_.Prepare(sql);
      Status s = stmt.ok() ? stmt->Bind(1, id).Run() : stmt.status();
      if (!s.ok()) {
        (void)db_.Exec("ROLLBACK");
        return s;
      }
    }
    return db_.Exec("COMMIT");
  }

  std::mutex mu_;
  Database db_;
  const Clock& clock_;
  Env* const env_;
  const std::string reserve_path_;
  int64_t version_ = 0;  // of the store's schema (kMigrations); set at open
  uint64_t writes_ = 0;  // GUARDED_BY(mu_): changes made through this connection
};

}  // namespace

const char* FileStateName(FileState state) {
  switch (state) {
    case FileState::kCommitted: return "committed";
    case FileState::kPublished: return "published";
    case FileState::kRetired: return "retired";
    case FileState::kQuarantined: return "quarantined";
  }
  return "?";
}

Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::string& path, OpenMode mode, Env* env) {
  ASSIGN_OR_RETURN(const bool exists, env->FileExists(path));
  if (mode == OpenMode::kReadOnly && !exists)
    return Error(StatusCode::kNotFound, "state store {} does not exist yet: run `fleetlog export` first", path);
  if (mode == OpenMode::kReadWrite) RETURN_IF_ERROR(env->CreateDir(ParentDir(path)));
  const int flags = SQLITE_OPEN_READWRITE | (mode == OpenMode::kReadWrite ? SQLITE_OPEN_CREATE : 0);
  ASSIGN_OR_RETURN(auto db, sqlite::Database::Open(path, flags));
  if (mode == OpenMode::kReadWrite) {
    // WAL is recorded in the file, so readers need not set it (setting it writes). The -wal and
    // -shm files stay after the writer closes, so a reader needs no new space on a full disk.
    RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode = WAL"));
    int persist = 1;
    sqlite3_file_control(db.raw(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  }
  RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = FULL"));
  RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = ON"));
  // Sorts (a lake snapshot lists thousands of files in order) stay in memory: a temporary
  // file in /var/tmp made the snapshot of 5,000 files take about 50 ms instead of 30, and
  // needs space that a full disk does not have.
  RETURN_IF_ERROR(db.Exec("PRAGMA temp_store = MEMORY"));
  auto store = std::make_unique<SqliteStateStore>(std::move(db), env, StateStoreReservePath(path));
  RETURN_IF_ERROR(mode == OpenMode::kReadWrite ? store->Migrate() : store->ReadSchemaVersion());
  if (mode == OpenMode::kReadWrite) store->KeepReserve();
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace fleetlog
