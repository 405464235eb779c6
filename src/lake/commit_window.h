// CommitWindow: the one way rows enter the lake. A window is the rows of one (table,
// cluster) between two cursor positions; committing it
//   1. stages the rows as Parquet, one file per `dt`, dropping rows whose natural key is
//      already committed (in the files that may hold them) or repeated in the window;
//   2. records the columns in the schema catalog (lake/schema_catalog.h);
//   3. commits the files, the cursor and the run's audit row in one state transaction;
//   4. publishes the files (lake/commit.h).
// A failure before step 3 leaves nothing visible (staging garbage that Recover() deletes).
// A failure in step 4 does not undo the commit: the window is committed and the next start
// publishes its files, so Commit() succeeds and says so in `publish_error`.
// Used by the exporter, the detector and the tests' lake fixtures.
// Thread-safety: a CommitWindow belongs to one thread at a time (it may be handed over, as
// the exporter hands it from its writer thread back to the reading one to commit); windows
// of different (table, cluster) pairs may commit concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/row_batch.h"
#include "core/status.h"
#include "core/time.h"
#include "lake/lake_writer.h"
#include "state/state_store.h"

namespace fleetlog {

struct WindowSpec {
  std::string table;
  std::string cluster;
  // The column whose UTC date is a row's `dt`; empty: each batch carries partition_ts.
  std::string partition_column;
  // The natural key that identifies a row; empty: every column.
  std::vector<std::string> key;
  // Repeats of committed rows are dropped when true. Only the committed files whose largest
  // cursor value reaches `repeats_from` may hold such rows (all files when it is unset).
  bool drop_committed_repeats = true;
  std::optional<Timestamp> repeats_from;
};

struct WindowCommitted {
  int64_t commit_id = 0;
  RunRecord run;               // the audit row as committed
  std::vector<NewFile> files;  // the committed files (empty for a window without rows)
  // Ok, or why publishing failed after the commit succeeded: the rows are committed and the
  // next Recover() publishes them. Callers report it as a warning, not as a failed run.
  Status publish_error;
};

class CommitWindow {
 public:
  // `writer` and `state` must outlive the window.
  CommitWindow(LakeWriter& writer, StateStore& state, WindowSpec spec)
      : writer_(writer), state_(state), spec_(std::move(spec)) {}

  // Appends rows. The first batch's schema becomes the window's; later batches must have it.
  // The first also lists the committed files the window's rows may repeat; a large window
  // is staged in parts as it grows (lake_writer.h). After an error, abandon the window.
  Status Append(const RowBatch& batch);
  int64_t rows() const { return buffer_ ? buffer_->rows() : 0; }

  // Stages, records the schema, commits with `run` (its rows_written, rows_duplicate,
  // bytes_written and finished_at are filled in, finished_at from `clock`) and the cursor
  // moved to `cursor` when set, then publishes. A window without rows commits only the
  // cursor and the run. On an error nothing was committed.
  Result<WindowCommitted> Commit(const Clock& clock, RunRecord run, std::optional<Timestamp> cursor);

 private:
  LakeWriter& writer_;
  StateStore& state_;
  WindowSpec spec_;
  TableSchema schema_;
  std::unique_ptr<WindowBuffer> buffer_;  // null until the first batch
};

}  // namespace fleetlog
