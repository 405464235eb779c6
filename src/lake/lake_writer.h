// Writes rows into the lake as Parquet (zstd) through staging. A WindowBuffer collects one
// export window of one (table, cluster) in DuckDB and stages it: it drops rows whose natural
// key is already committed or repeated in the window, and writes one staging file per `dt`.
// A window larger than the writer's part size is staged in parts while it is appended (each
// part deduplicated against the committed files and the parts before it, then compressed to
// Parquet), so that compression overlaps the read and the window never spills to disk; such
// a window has one staging file per `dt` per part. Staged files are invisible until
// lake/commit.h commits and publishes them.
// Thread-safety: LakeWriter is safe for concurrent use; a WindowBuffer belongs to one thread
// at a time (it may be handed from one thread to another).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"
#include "lake/lake_files.h"
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

// What a window's rows are deduplicated against.
struct WindowDedupe {
  // Rows whose key is in one of these files (the committed files that may hold rows of the
  // window) are dropped.
  std::vector<CommittedFile> committed;
  // The natural key; empty: every column. A window without a natural key is staged in one
  // part, at Stage() (its repeats within the window are found by comparing whole rows).
  std::vector<std::string> key_columns;
};

class WindowBuffer {
 public:
  ~WindowBuffer();  // deletes the staging files of parts not handed over by Stage()

  // Appends a batch with this buffer's schema, and stages the window so far as a part when
  // it has reached the writer's part size. Text is stored as valid UTF-8 (see
  // SanitizeUtf8). Rows whose partition time is NULL are refused with kInvalidArgument.
  // After an error the window must be abandoned.
  Status Append(const RowBatch& batch);
  int64_t rows() const { return rows_; }
  int parts_staged() const { return parts_; }

  // Stages what is left and returns every staging file of the window (they are then the
  // caller's: committed, or deleted by the next Recover()). Call once.
  Result<StageResult> Stage();

 private:
  friend class LakeWriter;
  struct ChunkDeleter {
    void operator()(duckdb_data_chunk chunk) const { duckdb_destroy_data_chunk(&chunk); }
  };
  struct AppenderDeleter {
    void operator()(duckdb_appender appender) const { duckdb_appender_destroy(&appender); }
  };
  WindowBuffer(std::unique_ptr<duck::Connection> conn, LakeLayout lake, std::string table, std::string cluster,
               TableSchema schema, int cursor_column, std::string buffer_name, WindowDedupe dedupe);
  Status CreateBufferTable();
  // Moves the held rows into the buffer table: the window outgrew holding.
  Status SpillHeld();
  Status AppendToTable(const RowBatch& batch, int64_t bytes);
  // Stages the held rows (lake_writer_rows.h): dedupe, order and statistics in C++, then one
  // COPY per `dt`.
  Status StageHeld();
  // Names `f` (its dt, rows and ranges set), writes `select`'s rows to its staging file as
  // Parquet, syncs and digests it.
  Status WriteStagingFile(NewFile f, const std::string& select);
  Status AppendChunk(const RowBatch& batch, size_t from, size_t count);
  // Hands the appender's rows to the table, where they count against the memory limit.
  Status FlushAppender();
  Status AppenderError(std::string_view what);
  // Deduplicates and writes the buffered rows as staging files, one per `dt`. Unless `last`,
  // records their keys for the parts after it and empties the buffer.
  Status StagePart(bool last);

  std::unique_ptr<duck::Connection> conn_;
  // The C API's appender, not duck::Appender: rows go in whole chunks (duckdb_append_data_chunk).
  std::unique_ptr<std::remove_pointer_t<duckdb_appender>, AppenderDeleter> appender_;
  std::unique_ptr<std::remove_pointer_t<duckdb_data_chunk>, ChunkDeleter> chunk_;
  LakeLayout lake_;
  std::string table_, cluster_;
  TableSchema schema_;
  int cursor_column_;  // -1: the batch's partition_ts decides the partition
  std::string buffer_;  // the DuckDB table holding the part being appended
  WindowDedupe dedupe_;
  int64_t memory_limit_bytes_ = 0;  // the LakeWriter's
  int64_t part_bytes_limit_ = 0;    // stage a part past this many bytes; 0: never
  // A small window's rows stay here, not in DuckDB, until Stage() or until they outgrow
  // LakeWriter::SetHeldWindowBytes (then they move into the buffer table, made only then).
  bool holding_ = false;
  std::vector<RowBatch> held_;
  int64_t held_bytes_ = 0;
  int64_t held_limit_ = 0;      // the LakeWriter's held window bytes
  std::vector<int> held_keys_;  // the key columns' indexes
  bool table_created_ = false;
  int64_t rows_ = 0;        // appended to the window
  int64_t part_rows_ = 0;   // of those, in the buffer
  int64_t part_bytes_ = 0;  // approximate bytes in the buffer
  int64_t unflushed_bytes_ = 0;  // of those, not yet flushed by the appender
  int parts_ = 0;               // parts staged
  bool seen_keys_ = false;      // <buffer>_seen holds the keys of the staged parts
  bool handed_over_ = false;    // Stage() returned the files
  LocalFiles committed_local_;  // the committed files' local copies, held while parts read them
  bool committed_resolved_ = false;
  StageResult staged_;
};

class LakeWriter {
 public:
  // `memory_limit_bytes` bounds DuckDB's buffering across all windows; beyond it rows
  // spill to <lake>/_fleetlog/tmp.
  static Result<std::unique_ptr<LakeWriter>> Open(const LakeLayout& lake, int64_t memory_limit_bytes, int threads);

  // Starts a window for (table, cluster). `cursor_column` is the column that decides a
  // row's `dt`, or empty when batches carry partition_ts.
  Result<std::unique_ptr<WindowBuffer>> BeginWindow(const std::string& table, const std::string& cluster,
                                                    const TableSchema& schema, const std::string& cursor_column,
                                                    WindowDedupe dedupe);
  const LakeLayout& lake() const { return lake_; }

  // Windows with a natural key are staged in parts of about this many bytes (default: a
  // quarter of the memory limit, so the windows of four tables exported at once fit in it
  // without spilling). 0 stages every window in one part. For tests and benchmarks; set it
  // before the windows begin.
  void SetPartBytes(int64_t bytes) { part_bytes_ = bytes; }
  // Windows with a key comparable in C++ are held and staged in C++ up to this many bytes
  // (default 4 MB); 0 stages every window through DuckDB. For tests and benchmarks.
  void SetHeldWindowBytes(int64_t bytes) { held_bytes_ = bytes; }

 private:
  LakeWriter(LakeLayout lake, std::shared_ptr<duck::Database> db, int64_t memory_limit_bytes)
      : lake_(std::move(lake)), db_(std::move(db)), memory_limit_bytes_(memory_limit_bytes),
        part_bytes_(memory_limit_bytes / 4), held_bytes_(4LL << 20) {}
  LakeLayout lake_;
  std::shared_ptr<duck::Database> db_;
  int64_t memory_limit_bytes_;
  std::atomic<int64_t> part_bytes_;
  std::atomic<int64_t> held_bytes_;
  std::atomic<int64_t> next_buffer_{0};
};

}  // namespace fleetlog
