#include "duck/duck.h"

#include <chrono>
#include <limits>
#include <thread>

#include "core/time.h"

namespace fleetlog::duck {
namespace {

// One mapper from DuckDB's error types to Status codes.
Status FromDuckError(duckdb_error_type type, const char* message) {
  StatusCode code = StatusCode::kInvalidArgument;  // most DuckDB errors are about the SQL
  switch (type) {
    case DUCKDB_ERROR_INTERRUPT: code = StatusCode::kCancelled; break;
    case DUCKDB_ERROR_IO: code = StatusCode::kIoError; break;
    case DUCKDB_ERROR_PERMISSION: code = StatusCode::kPermissionDenied; break;
    case DUCKDB_ERROR_OUT_OF_MEMORY: code = StatusCode::kResourceExhausted; break;
    case DUCKDB_ERROR_INTERNAL:
    case DUCKDB_ERROR_FATAL: code = StatusCode::kInternal; break;
    default: break;
  }
  return Status(code, message ? message : "unknown DuckDB error");
}

// The type of an error known only by its message, which DuckDB starts with the type's name
// (a pending result has no error type in the C API).
duckdb_error_type ErrorTypeOfMessage(const char* message) {
  const std::string_view m = message ? message : "";
  if (m.starts_with("Out of Memory Error")) return DUCKDB_ERROR_OUT_OF_MEMORY;
  if (m.starts_with("INTERRUPT Error")) return DUCKDB_ERROR_INTERRUPT;
  if (m.starts_with("IO Error")) return DUCKDB_ERROR_IO;
  if (m.starts_with("Permission Error")) return DUCKDB_ERROR_PERMISSION;
  if (m.starts_with("INTERNAL Error") || m.starts_with("FATAL Error")) return DUCKDB_ERROR_INTERNAL;
  return DUCKDB_ERROR_INVALID;
}

// TIMESTAMP WITH TIME ZONE as DuckDB prints it in UTC: "2026-11-21 03:44:32.5+00", the
// fraction without trailing zeros and only when non-zero.
std::string FormatTimestampTz(int64_t us) {
  if (us == std::numeric_limits<int64_t>::max()) return "infinity";
  if (us == -std::numeric_limits<int64_t>::max()) return "-infinity";
  std::string text = FormatTimestamp(Timestamp::FromMicros(us));
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
  }
  return text + "+00";
}

}  // namespace

Result<std::shared_ptr<Database>> Database::OpenInMemory(const std::map<std::string, std::string>& settings) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) return Internal("DuckDB: cannot create a config");
  for (const auto& [name, value] : settings) {
    if (duckdb_set_config(config, name.c_str(), value.c_str()) != DuckDBSuccess) {
      duckdb_destroy_config(&config);
      return Internal("DuckDB: cannot set {} = {}", name, value);
    }
  }
  std::shared_ptr<Database> db(new Database());
  char* error = nullptr;
  const duckdb_state state = duckdb_open_ext(nullptr, &db->db_, config, &error);
  duckdb_destroy_config(&config);
  if (state != DuckDBSuccess) {
    Status s = Internal("DuckDB: cannot open: {}", error ? error : "?");
    duckdb_free(error);
    return s;
  }
  return db;
}

std::string TypeName(duckdb_logical_type type) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_DECIMAL: return fmt::format("DECIMAL({},{})", duckdb_decimal_width(type), duckdb_decimal_scale(type));
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_LIST: return "LIST";
    case DUCKDB_TYPE_ARRAY: return "ARRAY";
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    case DUCKDB_TYPE_UNION: return "UNION";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_BIT: return "BIT";
    default: return "OTHER";
  }
}

bool IsReadableAsText(duckdb_type type) {
  switch (type) {
    case DUCKDB_TYPE_BOOLEAN: case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL: case DUCKDB_TYPE_VARCHAR: case DUCKDB_TYPE_BLOB: case DUCKDB_TYPE_DATE:
    case DUCKDB_TYPE_TIME: case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_INTERVAL:
      return true;
    default:
      return false;
  }
}

duckdb_type QueryResult::column_type(size_t col) {
  return col < declared_types_.size() ? declared_types_[col] : duckdb_column_type(&result_, col);
}

std::string QueryResult::column_type_name(size_t col) {
  if (col < declared_names_.size()) return declared_names_[col];
  duckdb_logical_type type = duckdb_column_logical_type(&result_, col);
  std::string out = TypeName(type);
  duckdb_destroy_logical_type(&type);
  return out;
}

std::string QueryResult::text(size_t col, size_t row) {
  if (duckdb_column_type(&result_, col) == DUCKDB_TYPE_TIMESTAMP_TZ) {
    // duckdb_value_varchar() yields NULL for this type; its values are µs since the epoch.
    const auto* us = static_cast<const int64_t*>(duckdb_column_data(&result_, col));
    return us ? FormatTimestampTz(us[row]) : "";
  }
  char* v = duckdb_value_varchar(&result_, col, row);
  std::string out = v ? v : "";
  duckdb_free(v);
  return out;
}

Result<std::unique_ptr<Connection>> Connection::Open(std::shared_ptr<Database> db) {
  std::unique_ptr<Connection> conn(new Connection());
  if (duckdb_connect(db->raw(), &conn->conn_) != DuckDBSuccess) return Internal("DuckDB: cannot connect");
  conn->db_ = std::move(db);
  return conn;
}

Result<QueryResult> Connection::Query(std::string_view sql) {
  duckdb_result result;
  const std::string text(sql);
  if (duckdb_query(conn_, text.c_str(), &result) != DuckDBSuccess) {
    Status s = FromDuckError(duckdb_result_error_type(&result), duckdb_result_error(&result));
    duckdb_destroy_result(&result);
    return s;
  }
  return QueryResult(result);
}

Result<std::unique_ptr<PreparedStatement>> Connection::Prepare(std::string_view sql) {
  std::unique_ptr<PreparedStatement> stmt(new PreparedStatement());
  const std::string text(sql);
  if (duckdb_prepare(conn_, text.c_str(), &stmt->stmt_) != DuckDBSuccess) {
    // A sandbox refusal ("Permission Error: ...") stays apart from mistakes in the SQL.
    const char* error = duckdb_prepare_error(stmt->stmt_);
    const bool denied = ErrorTypeOfMessage(error) == DUCKDB_ERROR_PERMISSION;
    return FromDuckError(denied ? DUCKDB_ERROR_PERMISSION : DUCKDB_ERROR_PARSER, error ? error : "cannot prepare the statement");
  }
  return stmt;
}

std::string PreparedStatement::column_name(size_t col) {
  const char* name = duckdb_prepared_statement_column_name(stmt_, col);
  std::string out = name ? name : "";
  duckdb_free(const_cast<char*>(name));
  return out;
}

std::string PreparedStatement::column_type_name(size_t col) {
  duckdb_logical_type type = duckdb_prepared_statement_column_logical_type(stmt_, col);
  std::string out = TypeName(type);
  duckdb_destroy_logical_type(&type);
  return out;
}

Result<QueryResult> PreparedStatement::Execute() {
  duckdb_result result;
  if (duckdb_execute_prepared(stmt_, &result) != DuckDBSuccess) {
    Status s = FromDuckError(duckdb_result_error_type(&result), duckdb_result_error(&result));
    duckdb_destroy_result(&result);
    return s;
  }
  return QueryResult(result);
}

Status Connection::Exec(std::string_view sql) {
  auto r = Query(sql);
  return r.ok() ? Status::Ok() : r.status();
}

Status Connection::ExecLong(std::string_view sql) {
  auto r = QueryLong(sql);
  return r.ok() ? Status::Ok() : r.status();
}

Result<QueryResult> Connection::QueryLong(std::string_view sql) {
  const std::string text(sql);
  duckdb_prepared_statement prepared = nullptr;
  if (duckdb_prepare(conn_, text.c_str(), &prepared) != DuckDBSuccess) {
    const char* err = duckdb_prepare_error(prepared);
    Status s = FromDuckError(DUCKDB_ERROR_PARSER, err);
    duckdb_destroy_prepare(&prepared);
    return s;
  }
  duckdb_pending_result pending = nullptr;
  if (duckdb_pending_prepared(prepared, &pending) != DuckDBSuccess) {
    Status s = FromDuckError(DUCKDB_ERROR_INVALID, duckdb_pending_error(pending));
    duckdb_destroy_pending(&pending);
    duckdb_destroy_prepare(&prepared);
    return s;
  }
  duckdb_pending_state state;
  for (;;) {
    state = duckdb_pending_execute_task(pending);
    if (state == DUCKDB_PENDING_RESULT_READY || state == DUCKDB_PENDING_ERROR) break;
    if (state == DUCKDB_PENDING_NO_TASKS_AVAILABLE) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (state == DUCKDB_PENDING_ERROR) {
    Status s = FromDuckError(ErrorTypeOfMessage(duckdb_pending_error(pending)), duckdb_pending_error(pending));
    duckdb_destroy_pending(&pending);
    duckdb_destroy_prepare(&prepared);
    return s;
  }
  duckdb_result result;
  const bool ok = duckdb_execute_pending(pending, &result) == DuckDBSuccess;
  duckdb_destroy_pending(&pending);
  duckdb_destroy_prepare(&prepared);
  if (!ok) {
    Status s = FromDuckError(duckdb_result_error_type(&result), duckdb_result_error(&result));
    duckdb_destroy_result(&result);
    return s;
  }
  return QueryResult(result);
}

Result<std::vector<duckdb_statement_type>> Connection::StatementTypes(std::string_view sql) {
  duckdb_extracted_statements extracted = nullptr;
  const std::string text(sql);
  const idx_t count = duckdb_extract_statements(conn_, text.c_str(), &extracted);
  if (count == 0) {
    const char* err = duckdb_extract_statements_error(extracted);
    Status s = InvalidArgument("{}", err ? err : "no SQL statement given");
    duckdb_destroy_extracted(&extracted);
    return s;
  }
  std::vector<duckdb_statement_type> types;
  for (idx_t i = 0; i < count; ++i) {
    duckdb_prepared_statement prepared = nullptr;
    if (duckdb_prepare_extracted_statement(conn_, extracted, i, &prepared) != DuckDBSuccess) {
      // A failed prepare has no error type in the C API, but DuckDB's message names it:
      // keep sandbox refusals ("Permission Error: ...") apart from mistakes in the SQL.
      const char* err = duckdb_prepare_error(prepared);
      const bool denied = err != nullptr && std::string_view(err).starts_with("Permission Error");
      Status s = FromDuckError(denied ? DUCKDB_ERROR_PERMISSION : DUCKDB_ERROR_PARSER, err);
      duckdb_destroy_prepare(&prepared);
      duckdb_destroy_extracted(&extracted);
      return s;
    }
    types.push_back(duckdb_prepared_statement_type(prepared));
    duckdb_destroy_prepare(&prepared);
  }
  duckdb_destroy_extracted(&extracted);
  return types;
}

Result<size_t> Connection::CountStatements(std::string_view sql) {
  duckdb_extracted_statements extracted = nullptr;
  const std::string text(sql);
  const idx_t count = duckdb_extract_statements(conn_, text.c_str(), &extracted);
  Result<size_t> out = static_cast<size_t>(count);
  if (count == 0) {
    const char* err = duckdb_extract_statements_error(extracted);
    out = InvalidArgument("{}", err ? err : "no SQL statement given");
  }
  duckdb_destroy_extracted(&extracted);
  return out;
}

Status Connection::ExecOne(std::string_view sql) {
  ASSIGN_OR_RETURN(auto prepared, Prepare(sql));
  auto result = prepared->Execute();
  return result.ok() ? Status::Ok() : result.status();
}

Result<std::unique_ptr<Appender>> Appender::Open(Connection& conn, const std::string& table) {
  std::unique_ptr<Appender> app(new Appender());
  if (duckdb_appender_create(conn.raw(), nullptr, table.c_str(), &app->app_) != DuckDBSuccess)
    return app->Error("create appender for " + table);
  return app;
}

Status Appender::EndRow() {
  if (duckdb_appender_end_row(app_) != DuckDBSuccess) return Error("append a row");
  return Status::Ok();
}

Status Appender::Flush() {
  if (duckdb_appender_flush(app_) != DuckDBSuccess) return Error("flush appended rows");
  return Status::Ok();
}

Status Appender::Error(std::string_view what) {
  const char* err = duckdb_appender_error(app_);
  return Internal("DuckDB: cannot {}: {}", what, err ? err : "?");
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuoteString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace fleetlog::duck
