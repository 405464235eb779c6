#include "exporter/table_export.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "exporter/batch_pipeline.h"
#include "lake/commit_window.h"
#include "lake/schema_catalog.h"

namespace fleetlog {
namespace {

constexpr Duration kMinPart = Duration::Minutes(1);

// Maps the source's result columns onto the lake's: the spec's columns first (NULL, with a
// warning, when the source lacks one), then any the source added (AWS adds columns), and
// the parent's cursor value moved out into the batch's partition times.
class ColumnMapper {
 public:
  ColumnMapper(const TableSpec& spec, const TableSchema& source, const std::string& cluster) {
    for (const auto& c : spec.columns) {
      const int at = FindColumn(source, c.name);
      if (at < 0) {
        spdlog::warn("cluster {}, table {}: the source has no column {}; it is exported as NULL", cluster, spec.name,
                     c.name);
        lake_.push_back(c);
      } else {
        lake_.push_back(source[static_cast<size_t>(at)]);  // types as at the source
      }
      from_.push_back(at);
    }
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i].name == kPartitionColumn) {
        partition_ = static_cast<int>(i);
      } else if (FindColumn(spec.columns, source[i].name) < 0) {
        lake_.push_back(source[i]);
        from_.push_back(static_cast<int>(i));
      }
    }
  }

  const TableSchema& lake_schema() const { return lake_; }

  Status Map(RowBatch& in, RowBatch* out) const {
    out->Clear();
    const size_t rows = in.rows();
    for (size_t i = 0; i < from_.size(); ++i) {
      Column& dst = out->column(i);
      if (from_[i] < 0) {
        for (size_t r = 0; r < rows; ++r) dst.AppendNull();
      } else {
        dst = std::move(in.column(static_cast<size_t>(from_[i])));
      }
    }
    if (partition_ >= 0) {
      const Column& p = in.column(static_cast<size_t>(partition_));
      out->partition_ts() = p.ints;
      for (size_t r = 0; r < rows; ++r)
        if (!p.valid[r]) return Internal("a row has no parent cursor value");
    }
    return Status::Ok();
  }

 private:
  TableSchema lake_;
  std::vector<int> from_;  // source column of each lake column, -1 for NULL
  int partition_ = -1;
};

// A source column whose type changed since the lake recorded it would make the table's files
// disagree; widening an integer is harmless (readers unify INTEGER and BIGINT).
Status CheckColumnTypes(StateStore& state, const TableSpec& spec, const TableSchema& source) {
  ASSIGN_OR_RETURN(TableSchema known, StoredSchema(state, spec.name));
  const auto integer = [](ColumnType t) { return t == ColumnType::kInt32 || t == ColumnType::kInt64; };
  for (const auto& c : source) {
    const int at = FindColumn(known, c.name);
    if (at < 0) continue;
    const ColumnType was = known[static_cast<size_t>(at)].type;
    if (was == c.type || (integer(was) && integer(c.type))) continue;
    return Error(StatusCode::kInvalidArgument,
                 "column {} of {} is {} in the lake but the source now returns {}: the view changed at the source. "
                 "Leave the table out of this cluster's tables, or export it through a [[custom]] query that casts "
                 "the column to {}",
                 c.name, spec.name, ColumnTypeSql(was), ColumnTypeSql(c.type), ColumnTypeSql(was));
  }
  return Status::Ok();
}

// Batches waiting between the read and the window: two FETCHes' worth (PgSource sizes a
// FETCH at about 8 MB), so the reader runs ahead of a part being compressed but no further.
constexpr size_t kQueuedBatchBytes = 16 << 20;

// Reads [lower, upper) of `spec` and commits it as one window with cursor := upper and `run`
// as the audit row (filled in with what was written). The source's thread fetches, decodes
// and maps batches; a BatchPipeline appends them to the window on a thread of its own, where
// a large window is staged and compressed in parts while the read goes on. The window is
// committed only after the read ended well and every batch is written.
Status ExportPart(const ExportContext& ctx, const std::string& cluster, const TableSpec& spec, Source& source,
                  Timestamp lower, Timestamp upper, RunRecord& run) {
  run.window_lower = lower;
  run.window_upper = upper;
  std::unique_ptr<ColumnMapper> mapper;
  CommitWindow window(*ctx.writer, *ctx.state,
                      {.table = spec.name, .cluster = cluster, .partition_column = spec.parent.empty() ? spec.cursor : "",
                       .key = spec.key, .repeats_from = lower});
  BatchPipeline pipeline([&window](RowBatch& batch) { return window.Append(batch); }, kQueuedBatchBytes);
  SourceQuery query{.spec = &spec, .lower = lower, .upper = upper, .batch_rows = ctx.batch_rows};
  const Status read = source.Read(query, [&](RowBatch& batch) -> Status {
    if (!mapper) {
      mapper = std::make_unique<ColumnMapper>(spec, batch.schema(), cluster);
      RETURN_IF_ERROR(CheckColumnTypes(*ctx.state, spec, mapper->lake_schema()));
    }
    run.rows_read += static_cast<int64_t>(batch.rows());
    RowBatch mapped(mapper->lake_schema());
    RETURN_IF_ERROR(mapper->Map(batch, &mapped));
    return pipeline.Push(std::move(mapped));
  });
  if (!read.ok()) {
    pipeline.Abandon();  // the window and its staged parts are dropped unseen
    return read;
  }
  RETURN_IF_ERROR(pipeline.Finish());
  ASSIGN_OR_RETURN(WindowCommitted committed, window.Commit(*ctx.clock, run, upper));
  run = committed.run;
  if (!committed.publish_error.ok()) {
    // The window is committed: a successful run whose files the next start publishes.
    spdlog::warn("cluster {}, table {}: {}", cluster, spec.name, committed.publish_error.message());
  }
  return Status::Ok();
}

// Where a window longer than one part starts reading: at the oldest row the source holds,
// when that is later than `lower` (the first backfill of a table that keeps fewer days than
// initial_backfill, or of a young cluster), so that the parts before it are not read empty:
// each would cost a scan of the table at the source, whose system tables have no index.
// Rows older than the oldest one now held cannot appear later (they would be older than the
// settle allows). `lower` when the source cannot say.
Timestamp FirstRowOrLower(Source& source, const TableSpec& spec, Timestamp lower) {
  if (!spec.sql.empty()) return lower;  // a [[custom]] query: no table to probe
  TableSpec probed = spec;
  if (!spec.parent.empty()) {  // a child's window is its parent's
    probed.name = spec.parent;
    probed.cursor = spec.parent_cursor;
  }
  auto probe = source.ProbeTable(probed);
  if (!probe.ok() || !probe->oldest) return lower;  // the read says what is wrong, if anything
  return std::max(lower, *probe->oldest);
}

// The next part's length after one that read `rows` rows in `length`: halved past
// part_rows, grown back towards `ceiling` when the source is quiet.
Duration NextPartLength(int64_t part_rows, Duration length, Duration ceiling, int64_t rows) {
  if (rows > part_rows) return std::max(Duration::Micros(length.micros() / 2), kMinPart);
  if (rows < part_rows / 4) return std::min(length * 2, ceiling);
  return length;
}

}  // namespace

TableRun ExportTable(const ExportContext& ctx, const std::string& cluster, const TableSpec& spec, Source& source,
                     Timestamp source_now, Timestamp cycle_upper) {
  TableRun out;
  RunRecord& total = out.run;
  total.cluster = cluster;
  total.table = spec.name;
  total.started_at = ctx.clock->Now();
  total.source_now = source_now;
  const Timestamp upper = cycle_upper - EffectiveHoldBack(*ctx.config, spec);
  total.window_upper = upper;
  RunRecord failed_part = total;

  auto attempt = [&]() -> Status {
    ASSIGN_OR_RETURN(auto cursor, ctx.state->GetCursor(cluster, spec.name));
    const Timestamp lower =
        cursor ? *cursor - EffectiveLookback(*ctx.config, spec) : upper - ctx.config->export_.initial_backfill;
    total.window_lower = lower;
    if (cursor && upper <= *cursor) {
      // The source's clock is behind our cursor (clock skew): nothing new can be read yet.
      total.window_upper = *cursor;
      return Status::Ok();
    }
    // One part in the ordinary case; a long window (first backfill, catching up) in parts,
    // each committed on its own, so a timeout costs one part and the progress is kept.
    Duration length = ctx.config->export_.part;
    Duration ceiling = length;  // halved by each timeout, so parts never grow back into one
    const Timestamp first = upper - lower > length ? FirstRowOrLower(source, spec, lower) : lower;
    for (Timestamp from = lower; from < upper;) {
      // The stretch before the first row joins the first part, and a remainder shorter than
      // a quarter of a part joins the part before it, rather than costing scans of their own.
      Timestamp to = std::min(upper, std::max(from, first) + length);
      if (upper - to < Duration::Micros(length.micros() / 4)) to = upper;
      RunRecord part = total;
      part.started_at = ctx.clock->Now();
      part.rows_read = part.rows_written = part.rows_duplicate = part.bytes_written = 0;
      Status status = ExportPart(ctx, cluster, spec, source, from, to, part);
      if (status.code() == StatusCode::kTimeout && length > kMinPart) {
        length = ceiling = std::max(Duration::Micros(length.micros() / 2), kMinPart);
        spdlog::warn("cluster {}, table {}: the part from {} timed out; retrying in parts of {}", cluster, spec.name,
                     FormatTimestamp(from), FormatDuration(length));
        RETURN_IF_ERROR(source.Connect());
        continue;
      }
      if (!status.ok()) {
        failed_part = part;
        return status;
      }
      total.rows_read += part.rows_read;
      total.rows_written += part.rows_written;
      total.rows_duplicate += part.rows_duplicate;
      total.bytes_written += part.bytes_written;
      if (from > lower || to < upper) {
        if (ctx.on_part)
          ctx.on_part({.cluster = cluster, .table = spec.name, .lower = lower, .upper = upper, .done = to,
                       .rows = part.rows_read});
        else
          spdlog::info("cluster {}, table {}: committed up to {} of {}, {} rows in this part", cluster, spec.name,
                       FormatTimestamp(to), FormatTimestamp(upper), part.rows_read);
      }
      length = NextPartLength(ctx.config->export_.part_rows, length, ceiling, part.rows_read);
      from = to;
    }
    total.finished_at = ctx.clock->Now();
    total.status = RunStatus::kOk;
    return Status::Ok();
  };

  out.status = attempt().WithContext(fmt::format("cluster {}, table {}", cluster, spec.name));
  if (!out.status.ok()) {
    // The parts committed before the failure stay committed; the failing one is recorded.
    failed_part.status = total.status = RunStatus::kFailed;
    failed_part.finished_at = total.finished_at = ctx.clock->Now();
    failed_part.error = total.error = out.status.message();
    failed_part.rows_written = failed_part.rows_duplicate = failed_part.bytes_written = 0;
    if (auto recorded = ctx.state->RecordRun(failed_part); !recorded.ok())
      spdlog::error("cannot record the failed run: {}", recorded.status().message());
  }
  return out;
}

}  // namespace fleetlog
