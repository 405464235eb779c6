// The one place where libpq failures become fleetlog Status values: SQLSTATE codes (and, for
// connection failures, which carry none, libpq's message) map to a StatusCode, and the
// message names the cluster, the host and the table, never the password.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <libpq-fe.h>

#include "core/status.h"
#include "core/time.h"

namespace fleetlog {

// What the failing call was about; the mapper words its message from it.
struct PgErrorContext {
  std::string_view cluster;
  std::string_view host;              // "host:port", as the DSN names it
  std::string_view table;             // empty outside a read
  Duration statement_timeout;         // named in timeout messages
  std::string_view password;          // scrubbed from any text libpq hands back
  bool cancel_requested = false;      // a 57014 is then a cancel, not a timeout
};

// The StatusCode for a SQLSTATE: 28xxx -> kPermissionDenied, 42P01 -> kNotFound,
// 57014 -> kTimeout, 08xxx / 57P0x -> kUnavailable, 42xxx / 22xxx -> kInvalidArgument,
// 53xxx -> kResourceExhausted, anything else -> kInternal.
StatusCode StatusCodeForSqlstate(std::string_view sqlstate);

// The Status for a failed PQconnectdbParams(). `conn` may be null (out of memory).
Status PgConnectError(const PGconn* conn, const PgErrorContext& context);

// The Status for a failed statement. `result` may be null (libpq could not even send);
// when the connection itself broke, the result is kUnavailable whatever the SQLSTATE says.
Status PgStatementError(const PGconn* conn, const PGresult* result, const PgErrorContext& context);

// `text` with every occurrence of `password` replaced by "***". Passwords shorter than four
// characters are left alone: they would match ordinary words and libpq never echoes them.
std::string ScrubPassword(std::string text, std::string_view password);

}  // namespace fleetlog
