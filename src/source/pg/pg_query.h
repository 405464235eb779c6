// The SQL that reads one table's export window from a Redshift cluster or a PostgreSQL
// server: a plain table filtered on its cursor, a child table (stl_querytext, stl_explain)
// joined to the rows of its parent's window, or a user's custom query wrapped and filtered.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "source/table_spec.h"

namespace fleetlog {

// `name` as a double-quoted SQL identifier.
std::string QuotePgIdentifier(std::string_view name);

// A SELECT of the rows with lower <= cursor < upper, the bounds as timestamp literals:
//   plain:  SELECT * FROM "t" WHERE "c" >= ... AND "c" < ...
//   child:  SELECT t.*, p."pc" AS "__fleetlog_ts" FROM "t" t JOIN (<parent's keys and
//           cursors in the window>) p ON p."k" = t."k"
//   custom: SELECT * FROM (<sql>) AS fleetlog_custom WHERE "c" >= ... AND "c" < ...
// kInvalidArgument when `spec` has neither a cursor nor a complete parent.
Result<std::string> RenderWindowSelect(const TableSpec& spec, Timestamp lower, Timestamp upper);

}  // namespace fleetlog
