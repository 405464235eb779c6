#include "lake/commit_window.h"

#include "lake/commit.h"
#include "lake/schema_catalog.h"

namespace fleetlog {

Status CommitWindow::Append(const RowBatch& batch) {
  if (!buffer_) {
    schema_ = batch.schema();
    WindowDedupe dedupe{.key_columns = spec_.key};
    if (spec_.drop_committed_repeats) {
      ASSIGN_OR_RETURN(dedupe.committed, state_.ListFiles({.table = spec_.table, .cluster = spec_.cluster,
                                                            .states = {FileState::kCommitted, FileState::kPublished}}));
      if (spec_.repeats_from) {
        // A row with cursor >= repeats_from can only repeat a row of a file whose range reaches it.
        std::erase_if(dedupe.committed,
                      [&](const CommittedFile& f) { return f.max_cursor && *f.max_cursor < *spec_.repeats_from; });
      }
    }
    ASSIGN_OR_RETURN(buffer_, writer_.BeginWindow(spec_.table, spec_.cluster, schema_, spec_.partition_column,
                                                  std::move(dedupe)));
  }
  return buffer_->Append(batch);
}

Result<WindowCommitted> CommitWindow::Commit(const Clock& clock, RunRecord run, std::optional<Timestamp> cursor) {
  CommitRequest request;
  if (buffer_) {
    ASSIGN_OR_RETURN(StageResult staged, buffer_->Stage());
    run.rows_written = staged.rows_written;
    run.rows_duplicate = staged.rows_duplicate;
    run.bytes_written = staged.bytes_written;
    request.add = std::move(staged.files);
    RETURN_IF_ERROR(RecordSchema(state_, spec_.table, schema_));
  }
  run.finished_at = clock.Now();
  run.status = RunStatus::kOk;
  if (cursor) {
    request.cursor = CursorRecord{.cluster = spec_.cluster, .table = spec_.table, .position = *cursor,
                                  .updated_at = run.finished_at};
  }
  request.run = run;
  ASSIGN_OR_RETURN(CommitOutcome outcome, CommitAndPublish(state_, writer_.lake(), request));
  return WindowCommitted{.commit_id = outcome.commit_id, .run = std::move(run), .files = std::move(request.add),
                         .publish_error = std::move(outcome.publish_error)};
}

}  // namespace fleetlog
