// Turns a simulated minute (its queries and statements) into the rows of the eight STL
// tables, in Redshift's column order, and hands rows on in batches of a fixed size.
// Thread-safety: BatchWriter belongs to one Read(); the functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/status.h"
#include "core/row_batch.h"
#include "source/sim/sim_workload.h"
#include "source/source.h"

namespace fleetlog::sim {

enum class SimTable {
  kQuery, kQueryText, kExplain, kWlmQuery, kScan, kAlertEventLog, kDdlText, kUtilityText,
  // SYS views (sim_sys_rows.cc); kSysEmpty: views a simulated workgroup has but leaves empty.
  kSysQueryHistory, kSysQueryText, kSysQueryDetail, kSysQueryExplain, kSysLoadHistory, kSysServerlessUsage, kSysEmpty
};
inline bool IsSysSimTable(SimTable t) { return t >= SimTable::kSysQueryHistory; }
// The table the sim knows by `name`, or nullopt.
std::optional<SimTable> SimTableNamed(std::string_view name);

// What a read asks for: rows whose cursor is in [lower, upper), of work finished by `now`
// (all µs since the epoch).
struct RowWindow {
  int64_t lower = 0;
  int64_t upper = 0;
  int64_t now = 0;
};

// Collects rows into a batch of `schema` and hands each full batch to the sink.
class BatchWriter {
 public:
  BatchWriter(TableSchema schema, size_t batch_rows, const BatchSink& sink);

  Column& col(size_t i) { return batch_.column(i); }
  // Call after appending one value to every column. A sink error is returned as is.
  Status EndRow() { return batch_.rows() >= batch_rows_ ? Flush() : Status::Ok(); }
  // Hands over what is left; the sink never sees an empty batch.
  Status Flush();
  size_t rows_written() const { return rows_written_; }

 private:
  RowBatch batch_;
  size_t batch_rows_;
  const BatchSink& sink_;
  size_t rows_written_ = 0;
};

// Appends the rows of `minute` that `table` holds for `window`. Child tables (querytext,
// explain) get the parent's endtime as a last column, kPartitionColumn.
Status AppendMinuteRows(SimTable table, const Workload& workload, const SimMinute& minute, const RowWindow& window,
                        BatchWriter& out);

// The same for a SYS view. With `running`, the sys_query_history rows of queries that
// started in the window and are still queued or running at window.now.
Status AppendSysMinuteRows(SimTable table, const Workload& workload, const SimMinute& minute, const RowWindow& window,
                           bool running, BatchWriter& out);

}  // namespace fleetlog::sim
