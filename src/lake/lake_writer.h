// Writes rows into the lake as Parquet (zstd) through staging. A WindowBuffer collects one
// export window of one (table, cluster), spilling to disk past its memory limit; Stage()
// drops rows whose natural key is already committed and writes one staging file per `dt`.
// Staged files are invisible until lake/commit.h commits and publishes them.
// Thread-safety: LakeWriter is safe for concurrent use; a WindowBuffer belongs to one thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"
#include "lake/layout.h"
#include "core/row_batch.h"
#include "state/state_store.h"

namespace fleetlog {

// The integer columns whose range each file records (NewFile::id_ranges) when its table has
// them: the query and transaction ids of both Redshift families (STL `query`, `xid`; SYS
// `query_id`, `transaction_id`). Files are written sorted by the cursor, then by these.
const std::vector<std::string>& IdRangeColumns();
// Those of `schema`'s columns that are IdRangeColumns() of an integer type, in that order.
std::vector<std::string> IdColumnsOf(const TableSchema& schema);

struct StageResult {
  std::vector<NewFile> files;  // lake-relative paths; staging files exist and are fsynced
  int64_t rows_in = 0;         // rows appended to the buffer
  int64_t rows_written = 0;    // rows in the staged files
  int64_t rows_duplicate = 0;  // rows dropped as already committed (or repeated in the window)
  int64_t bytes_written = 0;
};

class WindowBuffer {
 public:
  WindowBuffer(std::unique_ptr<duck::Connection> conn, LakeLayout lake, std::string table, std::string cluster,
               TableSchema schema, int cursor_column, std::string buffer_name);
  ~WindowBuffer();

  // Appends a batch with this buffer's schema. Text is stored as valid UTF-8 (see
  // SanitizeUtf8). Rows whose partition time is NULL are refused with kInvalidArgument.
  Status Append(const RowBatch& batch);
  int64_t rows() const { return rows_; }

  // Removes rows already committed (by `key_columns`, in `committed`, the files that may
  // hold them) and repeats within the window, then writes one staging file per `dt`.
  // Empty `key_columns`: every column is the key.
  Result<StageResult> Stage(const std::vector<CommittedFile>& committed, const std::vector<std::string>& key_columns);

 private:
  friend class LakeWriter;
  std::unique_ptr<duck::Connection> conn_;
  std::unique_ptr<duck::Appender> appender_;
  LakeLayout lake_;
  std::string table_, cluster_;
  TableSchema schema_;
  int cursor_column_;  // -1: the batch's partition_ts decides the partition
  std::string buffer_;  // the DuckDB temp table's name
  int64_t memory_limit_bytes_ = 0;  // the LakeWriter's
  int64_t rows_ = 0;
  int64_t bytes_ = 0;  // approximate bytes appended
  int64_t unflushed_bytes_ = 0;  // of those, not yet flushed by the appender
};

class LakeWriter {
 public:
  // `memory_limit_bytes` bounds DuckDB's buffering across all windows; beyond it rows
  // spill to <lake>/_fleetlog/tmp.
  static Result<std::unique_ptr<LakeWriter>> Open(const LakeLayout& lake, int64_t memory_limit_bytes, int threads);

  // Starts a window for (table, cluster). `cursor_column` is the column that decides a
  // row's `dt`, or empty when batches carry partition_ts.
  Result<std::unique_ptr<WindowBuffer>> BeginWindow(const std::string& table, const std::string& cluster,
                                                    const TableSchema& schema, const std::string& cursor_column);
  const LakeLayout& lake() const { return lake_; }

 private:
  LakeWriter(LakeLayout lake, std::shared_ptr<duck::Database> db, int64_t memory_limit_bytes)
      : lake_(std::move(lake)), db_(std::move(db)), memory_limit_bytes_(memory_limit_bytes) {}
  LakeLayout lake_;
  std::shared_ptr<duck::Database> db_;
  int64_t memory_limit_bytes_;
  std::atomic<int64_t> next_buffer_{0};
};

}  // namespace fleetlog
