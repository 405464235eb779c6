// The catalog of table schemas: for each lake table, the union of the columns ever exported
// to it, kept in the state store under "schema/<table>". Writers record a window's columns
// before they commit it; readers (the query engine, compaction) build their views from it.
// Thread-safety: as the state store (safe for concurrent use); two writers recording new
// columns of the same table at once may lose one, so one process writes (the writer lock).
#pragma once

#include <string>

#include "core/row_batch.h"
#include "core/status.h"
#include "state/state_store.h"

namespace fleetlog {

// Reads the schema recorded for `table` (the union of the columns ever exported); empty
// when none was recorded.
Result<TableSchema> StoredSchema(StateStore& state, const std::string& table);
// Records the columns of `schema` that are not yet recorded for `table`.
Status RecordSchema(StateStore& state, const std::string& table, const TableSchema& schema);

}  // namespace fleetlog
