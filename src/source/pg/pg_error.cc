// Failures reach us in two shapes. A failed statement carries a SQLSTATE, which is what we
// map on: message texts differ between PostgreSQL versions and Redshift. A failed
// connection carries only libpq's text, so that text is first turned into the SQLSTATE the
// server sent with it, and both shapes then go through StatusCodeForSqlstate.
#include "source/pg/pg_error.h"

#include <array>
#include <utility>

namespace fleetlog {
namespace {

// libpq's messages end in a newline and may span lines ("connection to server at ... failed:
// FATAL:  ..."); a Status message is one line.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

constexpr size_t kMinScrubbedLength = 4;

bool Contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// The SQLSTATE the server sent with a connection failure, recovered from libpq's text
// (PQconnectdbParams exposes no error fields). 08001 when nothing more specific is known:
// refused, unreachable, timed out, TLS handshake failed.
std::string_view SqlstateOfConnectMessage(std::string_view message) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kKnown = {{
      {"password authentication failed", "28P01"},
      {"no password supplied", "28P01"},
      {"pg_hba.conf", "28000"},
      {"authentication failed", "28000"},
      {"role \"", "28000"},  // role "x" does not exist
      {"database \"", "3D000"},  // database "x" does not exist
      {"the database system is starting up", "57P03"},
      {"the database system is shutting down", "57P03"},
  }};
  for (const auto& [text, sqlstate] : kKnown)
    if (Contains(message, text)) return sqlstate;
  return "08001";
}

}  // namespace

StatusCode StatusCodeForSqlstate(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return StatusCode::kInternal;
  const std::string_view klass = sqlstate.substr(0, 2);
  if (sqlstate == "42P01") return StatusCode::kNotFound;       // undefined_table
  if (sqlstate == "3D000") return StatusCode::kNotFound;       // invalid_catalog_name
  if (sqlstate == "42501") return StatusCode::kPermissionDenied;  // insufficient_privilege
  if (sqlstate == "57014") return StatusCode::kTimeout;        // query_canceled
  if (sqlstate == "40001" || sqlstate == "40P01") return StatusCode::kUnavailable;  // retry later
  if (klass == "28") return StatusCode::kPermissionDenied;     // invalid authorization
  if (klass == "08" || klass == "57") return StatusCode::kUnavailable;  // connection, shutdown
  if (klass == "53") return StatusCode::kResourceExhausted;
  if (klass == "42" || klass == "22") return StatusCode::kInvalidArgument;  // custom SQL, data
  return StatusCode::kInternal;
}

std::string ScrubPassword(std::string text, std::string_view password) {
  // libpq does not echo passwords; this is a second line of defence. A password of a few
  // characters would match ordinary words ("port") and garble the message instead.
  if (password.size() < kMinScrubbedLength) return text;
  for (size_t pos = text.find(password); pos != std::string::npos; pos = text.find(password, pos + 3))
    text.replace(pos, password.size(), "***");
  return text;
}

Status PgConnectError(const PGconn* conn, const PgErrorContext& context) {
  const std::string message =
      ScrubPassword(OneLine(conn ? PQerrorMessage(conn) : "out of memory"), context.password);
  const StatusCode code = StatusCodeForSqlstate(SqlstateOfConnectMessage(message));
  switch (code) {
    case StatusCode::kPermissionDenied:
      return Error(code, "cluster {}: {} refused the login: {} (check the cluster's password secret and the user in its dsn)",
                   context.cluster, context.host, message);
    case StatusCode::kNotFound:
      return Error(code, "cluster {}: {}: {} (check dbname in the cluster's dsn)", context.cluster, context.host,
                   message);
    default:
      return Error(StatusCode::kUnavailable, "cluster {}: cannot connect to {}: {} (is it up and reachable?)",
                   context.cluster, context.host, message);
  }
}

Status PgStatementError(const PGconn* conn, const PGresult* result, const PgErrorContext& context) {
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string message =
      ScrubPassword(OneLine(primary ? primary : PQerrorMessage(conn)), context.password);
  const std::string what = context.table.empty() ? std::string("a session statement")
                                                 : fmt::format("reading {}", context.table);
  if (PQstatus(conn) == CONNECTION_BAD)
    return Error(StatusCode::kUnavailable, "cluster {}: lost the connection to {} while {}: {}", context.cluster,
                 context.host, what, message);
  const char* sqlstate_field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = sqlstate_field ? sqlstate_field : "";
  const StatusCode code = StatusCodeForSqlstate(sqlstate);
  switch (code) {
    case StatusCode::kNotFound:
      return Error(code, "table {} does not exist on cluster {} ({}; a Serverless or Multi-AZ cluster has only the SYS "
                   "views: set kind = \"redshift-serverless\" or views = \"sys\"; otherwise leave {} out of the "
                   "cluster's tables)", context.table, context.cluster, message, context.table);
    case StatusCode::kPermissionDenied:
      return Error(code, "cluster {}: the user may not read {} ({}; run `fleetlog check --cluster {}`, then grant it: "
                   "GRANT ROLE \"sys:monitor\" TO <user>, or ALTER USER <user> SYSLOG ACCESS UNRESTRICTED on a "
                   "provisioned cluster; some SYS views need a superuser)", context.cluster, context.table, message,
                   context.cluster);
    case StatusCode::kTimeout:
      if (context.cancel_requested)
        return Error(StatusCode::kCancelled, "cluster {}: {} was cancelled", context.cluster, what);
      return Error(code, "cluster {}: {} took longer than the statement timeout of {} ({}; raise "
                   "[export].statement_timeout or shorten the window)",
                   context.cluster, what, FormatDuration(context.statement_timeout), message);
    default:
      if (sqlstate == "42703")  // undefined_column: the view no longer has a column we window or key by
        return Error(code, "cluster {}: {} failed: {} (the view's columns changed at the source; `fleetlog check "
                     "--cluster {}` lists what is missing; leave the table out of the cluster's tables until fleetlog "
                     "knows the new layout) [SQLSTATE 42703]", context.cluster, what, message, context.cluster);
      return Error(code, "cluster {} ({}): {} failed: {}{}", context.cluster, context.host, what, message,
                   sqlstate.empty() ? std::string() : fmt::format(" [SQLSTATE {}]", sqlstate));
  }
}

}  // namespace fleetlog
