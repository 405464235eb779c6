// The pieces of lake_writer.h that work on a window's rows in C++ rather than in DuckDB: a
// small window (the common case at fleet scale: a few hundred rows per table and cluster
// every five minutes) is deduplicated, ordered and summarised here, and DuckDB only writes
// its Parquet files, reading the rows through the table function `fleetlog_window_rows`
// (one COPY per `dt`, no buffer table, no statements to plan for dedupe or statistics).
// The rules are those of the DuckDB path in lake_writer.cc: a row is dropped when its key
// equals, NULL equal to NULL, that of an earlier row of the window or of a committed row;
// the first row of each key is kept; files are ordered by the cursor, then by the ids.
// Thread-safety: plain functions; a RowsScan is registered for the duration of its COPYs
// and may be read by DuckDB's threads while the thread that owns it waits for them.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include <duckdb.h>

#include "core/row_batch.h"
#include "core/status.h"
#include "duck/duck.h"

namespace fleetlog {

duckdb_type DuckType(ColumnType type);

// Fills `count` rows of `vector` (a chunk's column of `col`'s type) from `col`: row i from
// col's row index[i], or from + i when `index` is null. Text is written as valid UTF-8.
void FillVector(duckdb_vector vector, const Column& col, size_t from, const uint32_t* index, size_t count);

// The batches as one, in order, their text made valid UTF-8 (as the DuckDB path stores it).
RowBatch ConcatRows(std::vector<RowBatch> batches);

// A row's key as bytes: equal keys (NULL equal to NULL) give equal bytes. Key columns are
// integers, booleans, timestamps (µs) or text; doubles are not supported.
using KeySet = std::unordered_set<std::string>;
std::string EncodeKey(const RowBatch& rows, const std::vector<int>& key_columns, size_t row);
// The keys of a query's rows whose columns are, in order, the key columns read as BIGINT
// (integers, booleans, timestamps as epoch µs) or VARCHAR, per `types`.
Status AddKeys(duck::QueryResult& result, const std::vector<ColumnType>& types, KeySet* keys);

// The rows a window keeps: the first of each key that is not in `committed`, ordered by
// `ts` (each row's partition time), then by `id_columns` (NULLs last), ties in window order.
std::vector<uint32_t> KeptRowsInFileOrder(const RowBatch& rows, const std::vector<int64_t>& ts,
                                          const std::vector<int>& key_columns, const std::vector<int>& id_columns,
                                          const KeySet& committed);

// Registers the table function fleetlog_window_rows(handle, begin, end) in `conn`'s
// database: it yields rows order[begin..end) of a registered RowsScan, with its columns.
Status RegisterWindowRowsFunction(duck::Connection& conn);

// Makes rows[order[i]] readable through fleetlog_window_rows(handle(), ...) while it lives.
class RowsScan {
 public:
  RowsScan(const RowBatch& rows, const std::vector<uint32_t>& order);
  ~RowsScan();
  RowsScan(const RowsScan&) = delete;
  RowsScan& operator=(const RowsScan&) = delete;
  int64_t handle() const { return handle_; }
  const RowBatch& rows() const { return rows_; }
  const std::vector<uint32_t>& order() const { return order_; }

 private:
  const RowBatch& rows_;
  const std::vector<uint32_t>& order_;
  int64_t handle_;
};

}  // namespace fleetlog
