// A Source is one database that fleetlog exports from: a Redshift cluster or a PostgreSQL
// server over libpq (source/pg/), or a simulated cluster (source/sim/). The exporter asks
// it for the rows of one table in one window and receives them in batches, never the whole
// result at once.
// Thread-safety: a Source is used by one thread at a time, except Cancel(), which any thread
// may call to stop a running Read().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "core/time.h"
#include "core/row_batch.h"
#include "source/table_spec.h"

namespace fleetlog {

struct SourceQuery {
  const TableSpec* spec = nullptr;
  // The window: lower <= cursor < upper. For tables with a parent (stl_querytext,
  // stl_explain) the window applies to the parent's cursor, and each row carries that
  // parent value as a last column named kPartitionColumn.
  Timestamp lower;
  Timestamp upper;
  // Rows per batch: the first batch has at most min(batch_rows, 1024) rows; later ones
  // about batch_bytes of rows as the source sends them (at least 256 rows), at most
  // batch_rows. Sources whose rows have a known size may use batch_rows alone.
  size_t batch_rows = 8192;
  size_t batch_bytes = 8 << 20;
};

// The column a child table's rows carry with their parent's cursor value.
inline constexpr const char* kPartitionColumn = "__fleetlog_ts";

// What `fleetlog check` learns of one table: the columns the source returns for it, and the
// oldest value of its cursor column still held (unset for an empty table or no cursor).
struct TableProbe {
  TableSchema columns;
  std::optional<Timestamp> oldest;
};

// Whether the login sees every user's rows in the system tables, and why.
struct Visibility {
  std::string user;  // the login
  bool all_users = false;
  std::string how;  // "superuser", "SYSLOG ACCESS UNRESTRICTED", "role sys:monitor", or why not
};

// Receives each batch; may move columns out of it. A non-ok Status stops the read.
using BatchSink = std::function<Status(RowBatch& batch)>;

class Source {
 public:
  virtual ~Source() = default;

  // Connects, or checks the connection still works. Errors say which cluster and why
  // (down, wrong password, TLS) and never hold the password.
  virtual Status Connect() = 0;
  // The source's clock (Redshift: getdate(), UTC).
  virtual Result<Timestamp> Now() = 0;
  // Streams the rows of `query`. Batch schemas follow the source's result: every column it
  // returns, named in lower case, typed per the lake contract. char(n) padding is removed
  // except in the spec's keep_padding columns. kNotFound when the table does not exist.
  virtual Status Read(const SourceQuery& query, const BatchSink& sink) = 0;
  // Asks a running Read() to stop soon with kCancelled.
  virtual void Cancel() = 0;

  // For `fleetlog check`. ProbeTable fails as Read() would (kNotFound, kPermissionDenied).
  virtual Result<TableProbe> ProbeTable(const TableSpec& spec);
  virtual Result<Visibility> ProbeVisibility();
  // The TLS protocol of the connection ("TLSv1.3"), or empty when it is not encrypted.
  virtual std::string TlsProtocol() { return ""; }
};

}  // namespace fleetlog
