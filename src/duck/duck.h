// RAII over DuckDB's C API (v1.4 LTS): a database, a connection, a materialised result and
// an appender, with DuckDB's errors mapped to Status in one place. fleetlog uses only the C
// API because DuckDB's C++ ABI is not stable across compilers.
// Thread-safety: a Database may be shared; a Connection is used by one thread at a time,
// except Interrupt(), which any thread may call.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <duckdb.h>

#include "core/status.h"

namespace fleetlog::duck {

class Database {
 public:
  // Opens an in-memory database with the given settings (name -> value) applied at start.
  static Result<std::shared_ptr<Database>> OpenInMemory(const std::map<std::string, std::string>& settings);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() { duckdb_close(&db_); }
  duckdb_database raw() const { return db_; }

 private:
  Database() = default;
  duckdb_database db_ = nullptr;
};

// A materialised query result. Values are read as text, which is how fleetlog prints them.
class QueryResult {
 public:
  explicit QueryResult(duckdb_result r) : result_(r) {}
  QueryResult(QueryResult&& other) noexcept
      : result_(other.result_),
        moved_(other.moved_),
        declared_types_(std::move(other.declared_types_)),
        declared_names_(std::move(other.declared_names_)) {
    other.moved_ = true;
  }
  QueryResult(const QueryResult&) = delete;
  QueryResult& operator=(const QueryResult&) = delete;
  ~QueryResult() {
    if (!moved_) duckdb_destroy_result(&result_);
  }

  size_t column_count() { return static_cast<size_t>(duckdb_column_count(&result_)); }
  size_t row_count() { return static_cast<size_t>(duckdb_row_count(&result_)); }
  std::string column_name(size_t col) { return duckdb_column_name(&result_, col); }
  duckdb_type column_type(size_t col);
  // The SQL name of a column's type, such as "BIGINT" or "TIMESTAMP".
  std::string column_type_name(size_t col);
  bool is_null(size_t col, size_t row) { return duckdb_value_is_null(&result_, col, row); }
  std::string text(size_t col, size_t row);
  int64_t int64(size_t col, size_t row) { return duckdb_value_int64(&result_, col, row); }
  double dbl(size_t col, size_t row) { return duckdb_value_double(&result_, col, row); }
  duckdb_result* raw() { return &result_; }

  // Names the columns' types as they were before the engine turned some into text (see
  // QueryEngine::Run): column_type() and column_type_name() then answer these.
  void DeclareTypes(std::vector<duckdb_type> types, std::vector<std::string> names) {
    declared_types_ = std::move(types);
    declared_names_ = std::move(names);
  }

 private:
  duckdb_result result_;
  bool moved_ = false;
  std::vector<duckdb_type> declared_types_;
  std::vector<std::string> declared_names_;
};

// DuckDB's SQL name of a type, such as "BIGINT", "DECIMAL(18,3)" or "LIST".
std::string TypeName(duckdb_logical_type type);
// Whether QueryResult::text() reads values of this type directly; others (LIST, STRUCT,
// MAP, ARRAY, UNION, ENUM, UUID, BIT, ...) must be cast to VARCHAR in SQL first.
bool IsReadableAsText(duckdb_type type);

// One prepared statement: its result's columns are known before it runs.
class PreparedStatement {
 public:
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;
  ~PreparedStatement() { duckdb_destroy_prepare(&stmt_); }

  size_t column_count() { return static_cast<size_t>(duckdb_prepared_statement_column_count(stmt_)); }
  std::string column_name(size_t col);
  duckdb_type column_type(size_t col) { return duckdb_prepared_statement_column_type(stmt_, col); }
  std::string column_type_name(size_t col);
  duckdb_statement_type statement_type() { return duckdb_prepared_statement_type(stmt_); }
  Result<QueryResult> Execute();

 private:
  friend class Connection;
  PreparedStatement() = default;
  duckdb_prepared_statement stmt_ = nullptr;
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(std::shared_ptr<Database> db);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { duckdb_disconnect(&conn_); }

  // Runs one or more statements; the result of the last. Errors carry DuckDB's message.
  Result<QueryResult> Query(std::string_view sql);
  Status Exec(std::string_view sql);
  // Prepares exactly one statement; errors carry DuckDB's message (kPermissionDenied for a sandbox refusal).
  Result<std::unique_ptr<PreparedStatement>> Prepare(std::string_view sql);
  // Runs one statement as Exec() does, for long statements (COPY, CREATE TABLE AS): this
  // thread runs DuckDB's tasks too, but sleeps instead of spinning while the other threads
  // hold every task. (duckdb_query() polls for tasks in a tight loop, which on a machine
  // with few cores takes CPU time from the threads doing the work.)
  Status ExecLong(std::string_view sql);
  // ExecLong that keeps the result (one statement).
  Result<QueryResult> QueryLong(std::string_view sql);
  // Returns the type of each statement in `sql` (each is prepared, not run), or DuckDB's
  // error: kPermissionDenied when the sandbox refused to prepare one.
  Result<std::vector<duckdb_statement_type>> StatementTypes(std::string_view sql);
  // How many statements DuckDB's parser finds in `sql` (nothing is prepared); the parser's
  // error when it finds none or cannot parse it.
  Result<size_t> CountStatements(std::string_view sql);
  // Prepares and runs exactly one statement; more than one is an error.
  Status ExecOne(std::string_view sql);
  // Asks a running query on this connection to stop; it fails with an "interrupted" error.
  void Interrupt() { duckdb_interrupt(conn_); }
  duckdb_connection raw() const { return conn_; }

 private:
  Connection() = default;
  std::shared_ptr<Database> db_;
  duckdb_connection conn_ = nullptr;
};

// Appends rows to a table, faster than INSERT. Call EndRow() after each row's values.
class Appender {
 public:
  static Result<std::unique_ptr<Appender>> Open(Connection& conn, const std::string& table);
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;
  ~Appender() { duckdb_appender_destroy(&app_); }

  void Int32(int32_t v) { duckdb_append_int32(app_, v); }
  void Int64(int64_t v) { duckdb_append_int64(app_, v); }
  void Double(double v) { duckdb_append_double(app_, v); }
  void Bool(bool v) { duckdb_append_bool(app_, v); }
  void TimestampMicros(int64_t us) { duckdb_append_timestamp(app_, duckdb_timestamp{us}); }
  void Varchar(std::string_view v) { duckdb_append_varchar_length(app_, v.data(), v.size()); }
  void Null() { duckdb_append_null(app_); }
  Status EndRow();
  Status Flush();

 private:
  Appender() = default;
  Status Error(std::string_view what);
  duckdb_appender app_ = nullptr;
};

// Quotes an identifier or a string literal for DuckDB SQL.
std::string QuoteIdent(std::string_view name);
std::string QuoteString(std::string_view text);

}  // namespace fleetlog::duck
