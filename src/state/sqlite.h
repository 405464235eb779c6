// A thin RAII layer over the SQLite C API: a connection and prepared statements, with
// SQLite's result codes mapped to Status in one place.
// Thread-safety: not thread-safe; the owner serialises access.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "core/status.h"

namespace fleetlog::sqlite {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& Bind(int index, int64_t v) { sqlite3_bind_int64(stmt_, index, v); return *this; }
  Statement& Bind(int index, std::string_view v) {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int index, std::string_view v) {
    sqlite3_bind_blob(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindNull(int index) { sqlite3_bind_null(stmt_, index); return *this; }
  Statement& Bind(int index, const std::optional<int64_t>& v) { return v ? Bind(index, *v) : BindNull(index); }

  // Steps once: true when a row is ready, false when done.
  Result<bool> Step();
  // Steps to the end, for statements that return no rows.
  Status Run();

  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::optional<int64_t> OptInt(int col) const { return IsNull(col) ? std::nullopt : std::optional(Int(col)); }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_blob(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // flags: SQLITE_OPEN_* flags.
  static Result<Database> Open(const std::string& path, int flags);
  Database(Database&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() { sqlite3_close_v2(db_); }

  Status Exec(const std::string& sql);
  Result<Statement> Prepare(std::string_view sql);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* raw() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Maps a SQLite result code to a Status.
Status FromSqlite(sqlite3* db, int rc, std::string_view what);

}  // namespace fleetlog::sqlite
