#include "exporter/table_export.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "lake/commit_window.h"

namespace fleetlog {
namespace {

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

}  // namespace

TableRun ExportTable(const ExportContext& ctx, const std::string& cluster, const TableSpec& spec, Source& source,
                     Timestamp source_now, Timestamp upper) {
  TableRun out;
  RunRecord& run = out.run;
  run.cluster = cluster;
  run.table = spec.name;
  run.started_at = ctx.clock->Now();
  run.source_now = source_now;
  run.window_upper = upper;

  auto attempt = [&]() -> Status {
    ASSIGN_OR_RETURN(auto cursor, ctx.state->GetCursor(cluster, spec.name));
    const Timestamp lower = cursor ? *cursor - EffectiveLookback(*ctx.config, spec) : upper - ctx.config->export_.initial_backfill;
    run.window_lower = lower;
    if (cursor && upper <= *cursor) {
      // The source's clock is behind our cursor (clock skew): nothing new can be read yet.
      run.window_upper = *cursor;
      return Status::Ok();
    }
    std::unique_ptr<ColumnMapper> mapper;
    CommitWindow window(*ctx.writer, *ctx.state,
                        {.table = spec.name, .cluster = cluster, .partition_column = spec.parent.empty() ? spec.cursor : "",
                         .key = spec.key, .repeats_from = lower});
    RowBatch mapped;
    SourceQuery query{.spec = &spec, .lower = lower, .upper = upper, .batch_rows = ctx.batch_rows};
    RETURN_IF_ERROR(source.Read(query, [&](RowBatch& batch) -> Status {
      if (!mapper) {
        mapper = std::make_unique<ColumnMapper>(spec, batch.schema(), cluster);
        mapped = RowBatch(mapper->lake_schema());
      }
      run.rows_read += static_cast<int64_t>(batch.rows());
      RETURN_IF_ERROR(mapper->Map(batch, &mapped));
      return window.Append(mapped);
    }));
    ASSIGN_OR_RETURN(WindowCommitted committed, window.Commit(*ctx.clock, run, upper));
    run = committed.run;
    if (!committed.publish_error.ok()) {
      // The window is committed: a successful run whose files the next start publishes.
      spdlog::warn("cluster {}, table {}: {}", cluster, spec.name, committed.publish_error.message());
    }
    return Status::Ok();
  };

  out.status = attempt().WithContext(fmt::format("cluster {}, table {}", cluster, spec.name));
  if (!out.status.ok()) {
    run.status = RunStatus::kFailed;
    run.finished_at = ctx.clock->Now();
    run.error = out.status.message();
    run.rows_written = run.rows_duplicate = run.bytes_written = 0;
    if (auto recorded = ctx.state->RecordRun(run); !recorded.ok())
      spdlog::error("cannot record the failed run: {}", recorded.status().message());
  }
  return out;
}

}  // namespace fleetlog
