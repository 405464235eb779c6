// Reading a window is one transaction: BEGIN, DECLARE a NO SCROLL cursor over the window's
// SELECT, FETCH FORWARD n until a short batch (n sized by bytes, see NextFetchRows),
// COMMIT. Redshift has no COPY TO STDOUT; a cursor is its documented way to read a large
// result in pieces (the leader node materialises the result, but we hold one batch at a
// time), and a cursor lives in a transaction. Single-node Redshift clusters cap FETCH at 1000 rows, so batch_rows must not
// exceed that there.
//
// The next FETCH is received on a helper thread while the current batch is decoded and
// handed to the sink on the caller's thread, so the server produces and sends rows while we
// decode them: the export runs at the speed of the slower of the two rather than their sum.
// (Merely sending the next FETCH early is not enough: with rows of kilobytes, as querytxt
// char(4000) is, the server stalls as soon as the socket buffer is full.)
//
// Any failure inside the transaction rolls it back, so the connection is clean for the next
// table; a connection that broke is dropped, and the next Connect() opens a new one.
#include "source/pg/pg_source.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <system_error>
#include <vector>

#include <libpq-fe.h>

#include "source/pg/pg_decode.h"
#include "source/pg/pg_error.h"
#include "source/pg/pg_query.h"

namespace fleetlog {
namespace {

constexpr const char* kCursorName = "fleetlog_cursor";

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, ConnDeleter>;

// "host:port" as the DSN names them, for messages (libpq's own defaults when it does not).
std::string HostOfDsn(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return "(unparsable dsn)";
  }
  std::string host, port;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    if (host.empty() && (std::strcmp(o->keyword, "host") == 0 || std::strcmp(o->keyword, "hostaddr") == 0))
      host = o->val;
    else if (std::strcmp(o->keyword, "port") == 0)
      port = o->val;
  }
  PQconninfoFree(options);
  return fmt::format("{}:{}", host.empty() ? "localhost" : host, port.empty() ? "5432" : port);
}

// Runs `fetch` on a thread of its own; synchronously at get() when no thread can be started.
template <typename Fetch>
auto FetchAhead(const Fetch& fetch) -> std::future<decltype(fetch())> {
  try {
    return std::async(std::launch::async, fetch);
  } catch (const std::system_error&) {
    return std::async(std::launch::deferred, fetch);
  }
}

class PgSource final : public Source {
 public:
  explicit PgSource(PgSourceOptions options) : options_(std::move(options)), host_(HostOfDsn(options_.dsn)) {}
  ~PgSource() override { Disconnect(); }

  Status Connect() override;
  Result<Timestamp> Now() override;
  Status Read(const SourceQuery& query, const BatchSink& sink) override;
  void Cancel() override;
  Result<TableProbe> ProbeTable(const TableSpec& spec) override;
  Result<Visibility> ProbeVisibility() override;
  std::string TlsProtocol() override;

 private:
  // The first value of `sql`'s result, or nothing when it fails or is empty or NULL (a
  // catalog relation that this server does not have).
  std::optional<std::string> FirstValue(const std::string& sql);
  PgErrorContext ErrorContext(std::string_view table) const {
    return {.cluster = options_.cluster,
            .host = host_,
            .table = table,
            .statement_timeout = options_.statement_timeout,
            .password = options_.password,
            .cancel_requested = cancel_requested_.load()};
  }
  Status OpenConnection();
  void Disconnect();
  // The Status for the failed statement whose result is `result` (may be null), dropping
  // the connection when it broke.
  Status StatementFailed(const PGresult* result, std::string_view table);
  Result<PgResult> Execute(const std::string& sql, ExecStatusType expected, std::string_view table);
  Status StreamCursor(const SourceQuery& query, const BatchSink& sink);
  void EndFailedTransaction();
  Status Cancelled(std::string_view table) const {
    return Error(StatusCode::kCancelled, "cluster {}: reading {} was cancelled", options_.cluster, table);
  }

  const PgSourceOptions options_;
  const std::string host_;
  PgConn conn_;  // null when disconnected
  std::atomic<bool> cancel_requested_{false};
  std::mutex cancel_mu_;
  PGcancel* cancel_ = nullptr;  // guarded by cancel_mu_; set while conn_ is
};

Status PgSource::OpenConnection() {
  // The DSN is expanded in place of "dbname"; the keywords after it override what it says,
  // and the one before it is a default it may override. The password never enters a
  // connection string, so no string we build or log can hold it.
  const std::string timeout_seconds = std::to_string((options_.connect_timeout.micros() + 999999) / 1000000);
  std::vector<const char*> keys = {"fallback_application_name", "dbname", "client_encoding"};
  std::vector<const char*> values = {"fleetlog", options_.dsn.c_str(), "UTF8"};
  if (!options_.password.empty()) {
    keys.push_back("password");
    values.push_back(options_.password.c_str());
  }
  if (options_.connect_timeout.micros() > 0) {
    keys.push_back("connect_timeout");
    values.push_back(timeout_seconds.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PgConn conn(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) return PgConnectError(conn.get(), ErrorContext({}));
  conn_ = std::move(conn);
  {
    std::lock_guard<std::mutex> lock(cancel_mu_);
    cancel_ = PQgetCancel(conn_.get());
  }
  // The decoders rely on ISO dates, UTC and round-trip floats; Redshift accepts all four.
  const std::string session = fmt::format(
      "SET statement_timeout = {}; SET timezone = 'UTC'; SET datestyle = 'ISO, MDY'; SET extra_float_digits = 3",
      options_.statement_timeout.micros() / 1000);
  auto result = Execute(session, PGRES_COMMAND_OK, {});
  if (!result.ok()) {
    Disconnect();
    return result.status();
  }
  return Status::Ok();
}

void PgSource::Disconnect() {
  {
    std::lock_guard<std::mutex> lock(cancel_mu_);
    PQfreeCancel(cancel_);
    cancel_ = nullptr;
  }
  conn_.reset();
}

Status PgSource::StatementFailed(const PGresult* result, std::string_view table) {
  Status status = PgStatementError(conn_.get(), result, ErrorContext(table));
  if (PQstatus(conn_.get()) == CONNECTION_BAD) Disconnect();
  return status;
}

Result<PgResult> PgSource::Execute(const std::string& sql, ExecStatusType expected, std::string_view table) {
  PgResult result(PQexec(conn_.get(), sql.c_str()));
  if (result == nullptr || PQresultStatus(result.get()) != expected) return StatementFailed(result.get(), table);
  return result;
}

Status PgSource::Connect() {
  if (conn_ != nullptr && PQstatus(conn_.get()) == CONNECTION_OK &&
      PQtransactionStatus(conn_.get()) == PQTRANS_IDLE && Execute("SELECT 1", PGRES_TUPLES_OK, {}).ok())
    return Status::Ok();
  Disconnect();
  return OpenConnection();
}

Result<Timestamp> PgSource::Now() {
  if (conn_ == nullptr) RETURN_IF_ERROR(OpenConnection());
  const char* clock = options_.redshift ? "SELECT getdate()" : "SELECT (now() AT TIME ZONE 'UTC')::timestamp";
  ASSIGN_OR_RETURN(PgResult result, Execute(clock, PGRES_TUPLES_OK, {}));
  const std::string_view text =
      PQntuples(result.get()) == 1 && PQnfields(result.get()) == 1 ? PQgetvalue(result.get(), 0, 0) : "";
  int64_t micros = 0;
  if (!ParsePgTimestamp(text, &micros))
    return Error(StatusCode::kCorruption, "cluster {}: {} returned \"{}\", not a timestamp", options_.cluster,
                 clock, text);
  return Timestamp::FromMicros(micros);
}

Status PgSource::Read(const SourceQuery& query, const BatchSink& sink) {
  if (query.spec == nullptr || query.batch_rows == 0)
    return InvalidArgument("cluster {}: a read needs a table spec and batch_rows > 0", options_.cluster);
  const std::string_view table = query.spec->name;
  cancel_requested_ = false;
  ASSIGN_OR_RETURN(const std::string select, RenderWindowSelect(*query.spec, query.lower, query.upper));
  if (conn_ == nullptr) RETURN_IF_ERROR(OpenConnection());

  Status status = Execute("BEGIN", PGRES_COMMAND_OK, table).status();
  if (status.ok())
    status = Execute(fmt::format("DECLARE {} NO SCROLL CURSOR FOR {}", kCursorName, select), PGRES_COMMAND_OK, table)
                 .status();
  if (status.ok()) status = StreamCursor(query, sink);
  if (status.ok()) status = Execute("COMMIT", PGRES_COMMAND_OK, table).status();
  if (!status.ok()) EndFailedTransaction();
  return status;
}

// Rows of the FETCH after one whose rows averaged `row_bytes` on the wire: about
// batch_bytes of them. Padded stl_query rows (4.4 KB) come ~1,900 at a time rather than
// 8,192 (36 MB per result, two in flight); narrow rows still come batch_rows at a time.
size_t NextFetchRows(const SourceQuery& query, size_t row_bytes) {
  constexpr size_t kMinFetchRows = 256;
  const size_t by_bytes = query.batch_bytes / std::max<size_t>(row_bytes, 1);
  return std::min(query.batch_rows, std::max(by_bytes, kMinFetchRows));
}

size_t ResultBytes(const PGresult* result) {
  size_t bytes = 0;
  const int rows = PQntuples(result), fields = PQnfields(result);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < fields; ++c) bytes += static_cast<size_t>(PQgetlength(result, r, c));
  return bytes;
}

Status PgSource::StreamCursor(const SourceQuery& query, const BatchSink& sink) {
  const std::string_view table = query.spec->name;
  const auto fetch = [this, table](size_t rows) {
    return [this, table, sql = fmt::format("FETCH FORWARD {} FROM {}", rows, kCursorName)] {
      return Execute(sql, PGRES_TUPLES_OK, table);
    };
  };
  constexpr size_t kFirstFetchRows = 1024;  // before we know how wide the rows are
  size_t fetch_rows = std::min(query.batch_rows, kFirstFetchRows);
  std::optional<PgResultDecoder> decoder;
  Result<PgResult> current = fetch(fetch_rows)();
  for (;;) {
    if (cancel_requested_) return Cancelled(table);
    if (!current.ok()) return current.status();
    PgResult result = std::move(current).value();
    const auto rows = static_cast<size_t>(PQntuples(result.get()));
    if (rows == 0) return Status::Ok();
    // A short batch means the cursor is exhausted; otherwise the next FETCH is received on
    // a helper thread while this one decodes and runs the sink. Only that thread touches
    // the connection until get() returns.
    std::future<Result<PgResult>> next;
    if (rows == fetch_rows) {
      fetch_rows = NextFetchRows(query, ResultBytes(result.get()) / rows);
      next = FetchAhead(fetch(fetch_rows));
    }
    if (!decoder) decoder.emplace(result.get(), query.spec->keep_padding);
    RowBatch batch(decoder->schema());
    Status status = decoder->Append(result.get(), &batch);
    if (!status.ok()) status = status.WithContext(fmt::format("cluster {}: reading {}", options_.cluster, table));
    result.reset();
    if (status.ok()) status = sink(batch);
    if (!next.valid()) return status.ok() && cancel_requested_ ? Cancelled(table) : status;
    current = next.get();  // even on failure: the connection must be idle before we return
    RETURN_IF_ERROR(status);
  }
}

void PgSource::EndFailedTransaction() {
  if (conn_ == nullptr) return;
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    Disconnect();
    return;
  }
  if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return;
  PgResult result(PQexec(conn_.get(), "ROLLBACK"));
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) Disconnect();
}

void PgSource::Cancel() {
  cancel_requested_ = true;
  std::lock_guard<std::mutex> lock(cancel_mu_);
  if (cancel_ == nullptr) return;
  char error[256];
  // Best effort: if the request does not arrive, the flag still stops the read between batches.
  PQcancel(cancel_, error, sizeof error);
}

std::optional<std::string> PgSource::FirstValue(const std::string& sql) {
  PgResult r(PQexec(conn_.get(), sql.c_str()));
  if (r == nullptr || PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) < 1 || PQnfields(r.get()) < 1 ||
      PQgetisnull(r.get(), 0, 0))
    return std::nullopt;
  std::string value = PQgetvalue(r.get(), 0, 0);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

Result<TableProbe> PgSource::ProbeTable(const TableSpec& spec) {
  if (conn_ == nullptr) RETURN_IF_ERROR(OpenConnection());
  const std::string table = QuotePgIdentifier(spec.name);
  ASSIGN_OR_RETURN(PgResult columns, Execute(fmt::format("SELECT * FROM {} WHERE false", table), PGRES_TUPLES_OK,
                                             spec.name));
  TableProbe probe;
  probe.columns = PgResultDecoder(columns.get(), spec.keep_padding).schema();
  if (spec.cursor.empty() || FindColumn(probe.columns, spec.cursor) < 0) return probe;
  ASSIGN_OR_RETURN(PgResult oldest, Execute(fmt::format("SELECT min({}) FROM {}", QuotePgIdentifier(spec.cursor), table),
                                            PGRES_TUPLES_OK, spec.name));
  int64_t micros = 0;
  if (PQntuples(oldest.get()) == 1 && !PQgetisnull(oldest.get(), 0, 0) &&
      ParsePgTimestamp(PQgetvalue(oldest.get(), 0, 0), &micros))
    probe.oldest = Timestamp::FromMicros(micros);
  return probe;
}

// Redshift shows every user's rows to a superuser, to a user with SYSLOG ACCESS UNRESTRICTED
// (pg_user_info.syslogaccess) and to holders of the sys:monitor role (svv_user_grants). A
// PostgreSQL stand-in may define those catalog relations; a server without them answers no.
Result<Visibility> PgSource::ProbeVisibility() {
  if (conn_ == nullptr) RETURN_IF_ERROR(OpenConnection());
  Visibility v;
  v.user = FirstValue("SELECT current_user").value_or("?");
  if (FirstValue("SELECT usesuper FROM pg_user WHERE usename = current_user") == "t") {
    v.all_users = true;
    v.how = "superuser";
  } else if (FirstValue("SELECT upper(trim(syslogaccess)) FROM pg_user_info WHERE usename = current_user") ==
             "UNRESTRICTED") {
    v.all_users = true;
    v.how = "SYSLOG ACCESS UNRESTRICTED";
  } else if (auto role = FirstValue(
                 "SELECT min(trim(role_name)) FROM svv_user_grants WHERE trim(user_name) = current_user AND "
                 "trim(role_name) IN ('sys:monitor', 'sys:operator', 'sys:dba', 'sys:superuser')")) {
    v.all_users = true;
    v.how = "role " + *role;
  } else {
    v.how = "not a superuser, SYSLOG ACCESS is not UNRESTRICTED and no sys:monitor role";
  }
  return v;
}

std::string PgSource::TlsProtocol() {
  if (conn_ == nullptr || !PQsslInUse(conn_.get())) return "";
  const char* protocol = PQsslAttribute(conn_.get(), "protocol");
  return protocol ? protocol : "TLS";
}

}  // namespace

std::unique_ptr<Source> MakePgSource(PgSourceOptions options) {
  return std::make_unique<PgSource>(std::move(options));
}

}  // namespace fleetlog
