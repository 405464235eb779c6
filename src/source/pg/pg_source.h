// The libpq Source: reads a Redshift cluster, or a PostgreSQL server standing in for one,
// over the PostgreSQL wire protocol. Rows stream through a cursor (Redshift has no COPY TO
// STDOUT), one FETCH of about `batch_bytes` (at most `batch_rows` rows) at a time, so
// memory stays bounded by two batches however large the window; values are decoded from the text format by pg_decode.h.
//
// Errors (mapped in pg_error.h) say which cluster and host, and never contain the password:
//   kUnavailable       the server is down, refuses connections, or the connection broke
//   kPermissionDenied  wrong password, unknown role, pg_hba refusal, missing privilege
//   kNotFound          the table (or the DSN's database) does not exist
//   kTimeout           a statement ran past statement_timeout
//   kCancelled         Cancel() stopped the read
//
// Thread-safety: as Source: one thread at a time, except Cancel(), which any thread may call.
// Read() receives the next batch on a helper thread of its own; the sink always runs on the
// thread that called Read().
// A Cancel() that arrives while no Read() runs does not affect later reads.
#pragma once

#include <memory>
#include <string>

#include "core/time.h"
#include "source/source.h"

namespace fleetlog {

struct PgSourceOptions {
  std::string cluster;        // the configured name, used in messages
  std::string dsn;            // libpq connection string without a password; TLS as it says
  std::string password;       // passed to libpq as a keyword of its own; empty: libpq's defaults
  Duration statement_timeout;  // zero: none
  Duration connect_timeout;    // zero: libpq's default (none); rounded up to whole seconds
  // How the source's clock is read: Redshift's getdate() (UTC), or, for PostgreSQL, which
  // has no getdate(), now() in UTC.
  bool redshift = true;
};

// Does not connect: the first Connect(), Now() or Read() does.
std::unique_ptr<Source> MakePgSource(PgSourceOptions options);

}  // namespace fleetlog
