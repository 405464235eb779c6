// Compliance purge: removes the rows of one table that match a SQL predicate, by rewriting
// only the files that hold such rows, in one commit (replace.h): readers see the table
// before the purge or after it. Files left with no rows are retired without a successor.
// The predicate is a DuckDB expression over the table's columns plus `cluster` and `dt`.
// It must be an expression, not statements: no ';', no comments, parentheses that never
// close more than they open (so it cannot escape `WHERE (...)`); it is then run in the
// sandboxed query engine as SELECT count(*) FROM <table> WHERE (<predicate>) to check it,
// and the rewrite itself runs in the upkeep DuckDB, sandboxed to the lake.
// Every purge is audited: a runs row (kind "purge") in the same commit, and a key-value
// record purge/<time>-<id> with who (the OS user), what (table, predicate) and how many
// (rows, files), written before the commit and completed after it.
// Purged rows are gone from readers at once and from disk when SweepRetired deletes the
// replaced files after the grace period. Roll-up days built from the table are rebuilt, so
// their counts no longer include the purged rows (they never held text or ids).
// Caveat: rows newer than the table's receive horizon may be exported again while the
// source still holds them; the report warns about such files.
// Thread-safety: call from the lake's writer thread; REQUIRES the lake's WriterLock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/time.h"
#include "lake/layout.h"
#include "state/state_store.h"

namespace fleetlog::upkeep {

struct PurgeRequest {
  std::string table;
  std::string predicate;
  bool dry_run = false;
  std::string who;  // empty: the OS user running the process
};

struct PurgeReport {
  int64_t rows_matched = 0;     // rows the predicate selects (removed, or that would be)
  int files_total = 0;          // published files of the table
  int files_affected = 0;       // files that hold matching rows
  int files_written = 0;        // replacement files (files left empty get none)
  int64_t rows_kept = 0;        // rows carried over into the replacements
  std::vector<std::string> affected_paths;
  int rollup_days_rebuilt = 0;
  std::optional<int64_t> commit_id;
  std::string audit_key;        // kv key of the audit record
  std::vector<std::string> warnings;
};

// Checks that `predicate` is one expression (see above); kInvalidArgument says why not.
Status CheckPredicateShape(std::string_view predicate);

Result<PurgeReport> PurgeRows(StateStore& state, const LakeLayout& lake, const Config& config,
                              const PurgeRequest& request);

// The OS user running this process.
std::string CurrentUser();

}  // namespace fleetlog::upkeep
