// The query engine: DuckDB in process, with one view per lake table over its published
// files (hive partitioning gives every table `cluster` and `dt`), helper views that rebuild
// full statement text, and a sandbox that is on before any user SQL runs:
//   - only read-only statements (SELECT, EXPLAIN, DESCRIBE, SUMMARIZE) are accepted;
//   - DuckDB may touch files only under the lake and the extra allowed folders
//     (allowed_directories, then enable_external_access = false, then lock_configuration);
//   - no extension is installed or loaded; memory and threads are capped.
// Views read only the files of the partitions a query's filters on `cluster` and `dt` keep.
// A QueryEngine sees the snapshot of committed files taken when it was opened.
// Thread-safety: Run() from one thread at a time; Interrupt() from any thread.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"
#include "lake/layout.h"
#include "lake/schema_catalog.h"
#include "core/row_batch.h"
#include "state/state_store.h"

namespace fleetlog {

struct EngineOptions {
  std::string lake_root;
  std::vector<std::string> extra_allowed_dirs;  // e.g. the server's result folder
  int64_t memory_limit_bytes = 2LL << 30;
  int threads = 2;
  // When set, views are made only for the tables this SQL may read: those whose names, or
  // the names of the helper views over them, occur in it as words (every table when it
  // reads the catalog). Opening then costs the same whatever the size of the lake.
  std::optional<std::string> views_for_sql;
};

struct LakeTable {
  std::string name;
  TableSchema columns;  // as stored, without `cluster` and `dt`
  int64_t files = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
};

// A helper view that rebuilds statements from 200-character pieces: the pieces of each group
// concatenated in `sequence` order as stored (trailing blanks of a non-final piece are
// content), then the two characters \n turned into newlines. Its columns: the group's, then
// userid, text, pieces (the count) and dt (the first piece's).
struct TextView {
  const char* table;  // "stl_querytext"
  const char* view;   // "stl_querytext_full"
  const char* group;  // "cluster, query": the columns that identify one statement
};
std::span<const TextView> TextViews();

class QueryEngine {
 public:
  // `state` may be null (an empty lake): then no table views exist.
  static Result<std::unique_ptr<QueryEngine>> Open(const EngineOptions& options, StateStore* state);

  // Runs user SQL under the sandbox. Fails with kPermissionDenied for statements that are
  // not read-only, and with DuckDB's own message for anything else it refuses.
  Result<duck::QueryResult> Run(const std::string& sql);
  void Interrupt() { conn_->Interrupt(); }
  const std::vector<LakeTable>& tables() const { return tables_; }

 private:
  QueryEngine() = default;
  std::shared_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
  std::vector<LakeTable> tables_;
};

}  // namespace fleetlog
