#include "state/sqlite.h"

namespace fleetlog::sqlite {

Status FromSqlite(sqlite3* db, int rc, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  StatusCode code = StatusCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = StatusCode::kUnavailable; break;
    case SQLITE_FULL: code = StatusCode::kResourceExhausted; break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY: code = StatusCode::kIoError; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: code = StatusCode::kCorruption; break;
    case SQLITE_CONSTRAINT: code = StatusCode::kAlreadyExists; break;
    default: break;
  }
  return Status(code, fmt::format("state store: {}: {}", what, msg));
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return FromSqlite(db_, rc, sqlite3_sql(stmt_));
}

Status Statement::Run() {
  for (;;) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

Result<Database> Database::Open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = FromSqlite(db, rc, "open " + path);
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_busy_timeout(db, 10000);
  return Database(db);
}

Status Database::Exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  return FromSqlite(db_, rc, sql.substr(0, 60));
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return FromSqlite(db_, rc, "prepare");
  return Statement(db_, stmt);
}

}  // namespace fleetlog::sqlite
