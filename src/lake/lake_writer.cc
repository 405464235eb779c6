#include "lake/lake_writer.h"

#include <algorithm>

#include "core/fs.h"
#include "core/text.h"
#include "lake/lake_files.h"
#include "lake/lake_writer_rows.h"

namespace fleetlog {
namespace {

using duck::QuoteIdent;
using duck::QuoteString;

constexpr const char* kTsColumn = "__fleetlog_ts";
// Windows of up to this share of the memory limit are written sorted by their cursor:
// DuckDB cannot spill a sort of wide rows within the limit, and the limit is shared by the
// windows of every table exported at once.
constexpr int64_t kSortedWindowShare = 8;
// Appended rows are handed to the table (and the memory limit) every this many bytes.
constexpr int64_t kAppenderFlushBytes = 16LL << 20;

// What a batch holds, approximately, in bytes: 8 per value and the text.
int64_t BatchBytes(const RowBatch& batch) {
  int64_t bytes = static_cast<int64_t>(batch.rows() * 8 * (batch.schema().size() + 1));
  for (size_t c = 0; c < batch.schema().size(); ++c)
    for (const std::string& v : batch.column(c).strings) bytes += static_cast<int64_t>(v.size());
  return bytes;
}

std::string FileList(const LocalFiles& files) {
  std::string list = "[";
  for (size_t i = 0; i < files.relative.size(); ++i) list += (list.size() > 1 ? ", " : "") + QuoteString(files.path(i));
  return list + "]";
}

}  // namespace

const std::vector<std::string>& IdRangeColumns() {
  static const std::vector<std::string> columns = {"query", "query_id", "xid", "transaction_id"};
  return columns;
}

std::vector<std::string> IdColumnsOf(const TableSchema& schema) {
  std::vector<std::string> out;
  for (const auto& name : IdRangeColumns()) {
    const int c = FindColumn(schema, name);
    if (c < 0) continue;
    const ColumnType type = schema[static_cast<size_t>(c)].type;
    if (type == ColumnType::kInt32 || type == ColumnType::kInt64) out.push_back(name);
  }
  return out;
}

WindowBuffer::WindowBuffer(std::unique_ptr<duck::Connection> conn, LakeLayout lake, std::string table,
                           std::string cluster, TableSchema schema, int cursor_column, std::string buffer_name,
                           WindowDedupe dedupe)
    : conn_(std::move(conn)),
      lake_(std::move(lake)),
      table_(std::move(table)),
      cluster_(std::move(cluster)),
      schema_(std::move(schema)),
      cursor_column_(cursor_column),
      buffer_(std::move(buffer_name)),
      dedupe_(std::move(dedupe)) {
  std::vector<duckdb_logical_type> types;
  for (const auto& c : schema_) types.push_back(duckdb_create_logical_type(DuckType(c.type)));
  types.push_back(duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP));  // kTsColumn
  chunk_.reset(duckdb_create_data_chunk(types.data(), types.size()));
  for (auto& t : types) duckdb_destroy_logical_type(&t);
  // Small windows are held in C++ when their key can be compared there (not doubles).
  holding_ = !dedupe_.key_columns.empty();
  for (const auto& k : dedupe_.key_columns) {
    const int at = FindColumn(schema_, k);
    if (at < 0 || schema_[static_cast<size_t>(at)].type == ColumnType::kDouble) holding_ = false;
    if (at >= 0) held_keys_.push_back(at);
  }
}

WindowBuffer::~WindowBuffer() {
  appender_.reset();
  if (table_created_) (void)conn_->Exec("DROP TABLE IF EXISTS " + buffer_);
  if (seen_keys_) (void)conn_->Exec("DROP TABLE IF EXISTS " + buffer_ + "_seen");
  if (handed_over_) return;
  // An abandoned window: its parts' staging files would wait for the next start's Recover().
  for (const NewFile& f : staged_.files) (void)lake_.env().DeleteFile(lake_.Abs(f.staging_path));
}

Status WindowBuffer::CreateBufferTable() {
  std::string ddl = "CREATE TABLE " + buffer_ + " (";
  for (const auto& c : schema_) ddl += QuoteIdent(c.name) + " " + ColumnTypeSql(c.type) + ", ";
  ddl += std::string(kTsColumn) + " TIMESTAMP)";
  RETURN_IF_ERROR(conn_->Exec(ddl));
  table_created_ = true;
  duckdb_appender appender = nullptr;
  const bool created = duckdb_appender_create(conn_->raw(), nullptr, buffer_.c_str(), &appender) == DuckDBSuccess;
  appender_.reset(appender);
  if (!created) return AppenderError("create an appender for " + buffer_);
  return Status::Ok();
}

Status WindowBuffer::AppenderError(std::string_view what) {
  const char* error = appender_ ? duckdb_appender_error(appender_.get()) : nullptr;
  return Internal("DuckDB: cannot {}: {}", what, error ? error : "?");
}

Status WindowBuffer::FlushAppender() {
  if (duckdb_appender_flush(appender_.get()) != DuckDBSuccess) return AppenderError("flush appended rows");
  return Status::Ok();
}

Status WindowBuffer::AppendChunk(const RowBatch& batch, size_t from, size_t count) {
  duckdb_data_chunk chunk = chunk_.get();
  duckdb_data_chunk_reset(chunk);
  for (size_t c = 0; c < schema_.size(); ++c)
    FillVector(duckdb_data_chunk_get_vector(chunk, c), batch.column(c), from, nullptr, count);
  const int64_t* ts = cursor_column_ >= 0 ? batch.column(static_cast<size_t>(cursor_column_)).ints.data()
                                          : batch.partition_ts().data();
  std::copy(ts + from, ts + from + count,
            static_cast<int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, schema_.size()))));
  duckdb_data_chunk_set_size(chunk, count);
  if (duckdb_append_data_chunk(appender_.get(), chunk) != DuckDBSuccess) return AppenderError("append rows");
  return Status::Ok();
}

Status WindowBuffer::Append(const RowBatch& batch) {
  if (!holding_ && !appender_) return Internal("the window of {} for {} failed before; it cannot take more rows", table_, cluster_);
  if (batch.schema() != schema_) return Internal("batch schema differs from the window's for {}", table_);
  const size_t n = batch.rows();
  if (cursor_column_ < 0 && batch.partition_ts().size() != n)
    return Internal("batch for {} carries no partition times", table_);
  if (cursor_column_ >= 0) {
    const Column& c = batch.column(static_cast<size_t>(cursor_column_));
    if (std::find(c.valid.begin(), c.valid.end(), 0) != c.valid.end())
      return InvalidArgument("{}: a row has NULL in its cursor column {}; it cannot be placed in a dt partition", table_,
                             schema_[static_cast<size_t>(cursor_column_)].name);
  }
  const int64_t bytes = BatchBytes(batch);
  rows_ += static_cast<int64_t>(n);
  if (holding_) {
    const int64_t limit = part_bytes_limit_ > 0 ? std::min(held_limit_, part_bytes_limit_) : held_limit_;
    if (held_bytes_ + bytes <= limit) {
      held_.push_back(batch);
      held_bytes_ += bytes;
      return Status::Ok();
    }
    RETURN_IF_ERROR(SpillHeld());
  }
  return AppendToTable(batch, bytes);
}

Status WindowBuffer::SpillHeld() {
  holding_ = false;
  RETURN_IF_ERROR(CreateBufferTable());
  std::vector<RowBatch> held = std::move(held_);
  held_.clear();
  held_bytes_ = 0;
  for (const RowBatch& b : held) RETURN_IF_ERROR(AppendToTable(b, BatchBytes(b)));
  return Status::Ok();
}

Status WindowBuffer::AppendToTable(const RowBatch& batch, int64_t bytes) {
  const size_t n = batch.rows();
  const size_t chunk_rows = duckdb_vector_size();
  for (size_t from = 0; from < n; from += chunk_rows)
    RETURN_IF_ERROR(AppendChunk(batch, from, std::min(chunk_rows, n - from)));
  part_rows_ += static_cast<int64_t>(n);
  part_bytes_ += bytes;
  // DuckDB's appender collects rows outside the buffer manager (up to ~200k rows, hundreds
  // of MB of querytxt) until it flushes them into the table, where they count against the
  // memory limit.
  unflushed_bytes_ += bytes;
  if (part_bytes_limit_ > 0 && part_bytes_ >= part_bytes_limit_) return StagePart(/*last=*/false);
  if (unflushed_bytes_ >= kAppenderFlushBytes) {
    unflushed_bytes_ = 0;
    RETURN_IF_ERROR(FlushAppender());
  }
  return Status::Ok();
}

Status WindowBuffer::StagePart(bool last) {
  if (holding_) return StageHeld();
  if (!appender_) return Internal("the window of {} for {} failed before; it cannot be staged", table_, cluster_);
  RETURN_IF_ERROR(FlushAppender());
  appender_.reset();
  unflushed_bytes_ = 0;
  if (part_rows_ > 0) {
    // Repeats within the part first (the lookback re-reads rows), then rows of the parts
    // staged before, then rows committed before.
    std::string keys;
    std::vector<std::string> key_list = dedupe_.key_columns;
    if (key_list.empty())  // no natural key: a row is a repeat only when every column matches
      for (const auto& c : schema_) key_list.push_back(c.name);
    for (const auto& k : key_list) {
      if (FindColumn(schema_, k) < 0) return InvalidArgument("{}: key column \"{}\" is not in the result", table_, k);
      keys += (keys.empty() ? "" : ", ") + QuoteIdent(k);
    }
    // Rows `c` and `alias` have the same key.
    auto same_key = [&](const char* alias) {
      std::string out;
      for (const auto& k : key_list)
        out += fmt::format("{}c.{} IS NOT DISTINCT FROM {}.{}", out.empty() ? "" : " AND ", QuoteIdent(k), alias, QuoteIdent(k));
      return out;
    };
    const std::string match = same_key("s"), part_match = same_key("b");
    // The rows to drop, by rowid: every row but the first of each key (the first chosen by
    // an aggregate over the key columns and rowid only), and rows staged or committed
    // before. This reads the key columns alone; the wide columns are read once, by the COPY
    // to Parquet below.
    const std::string seen = buffer_ + "_seen";
    const std::string dropped = buffer_ + "_dropped";
    std::string keep = fmt::format("s.rowid IN (SELECT min(rowid) FROM {} GROUP BY {})", buffer_, keys);
    // Rows of the parts before: an inner join of this part with their keys, so that DuckDB
    // builds its hash table on the part and scans the keys seen, which grow with every part
    // (NOT EXISTS built one over all of them for each part: quadratic in the window).
    if (seen_keys_)
      keep += fmt::format(" AND s.rowid NOT IN (SELECT b.rowid FROM {} b JOIN {} c ON {})", buffer_, seen, part_match);
    if (!dedupe_.committed.empty()) {
      if (!committed_resolved_) {
        ASSIGN_OR_RETURN(committed_local_, ResolveLakeFiles(lake_, dedupe_.committed));
        committed_resolved_ = true;
      }
      keep += fmt::format(" AND NOT EXISTS (SELECT 1 FROM read_parquet({}, union_by_name = true) c WHERE {})",
                          FileList(committed_local_), match);
    }
    std::string kept;  // the filter that leaves out the dropped rows, when they stay in the buffer
    struct DropTable {
      duck::Connection* conn;
      std::string name;
      ~DropTable() {
        if (!name.empty()) (void)conn->Exec("DROP TABLE IF EXISTS " + name);
      }
    } drop{conn_.get(), ""};
    if (last) {
      // The buffer is dropped after the last part: its repeats are deleted in place, one
      // statement where a table of dropped rowids costs three (a cycle of many small
      // windows pays each statement once per window).
      RETURN_IF_ERROR(conn_->QueryLong(fmt::format("DELETE FROM {} s WHERE NOT ({})", buffer_, keep))
                          .status()
                          .WithContext(fmt::format("deduplicating {} of {}", table_, cluster_)));
    } else {
      RETURN_IF_ERROR(conn_->ExecLong(fmt::format("CREATE TABLE {} AS SELECT s.rowid AS r FROM {} s WHERE NOT ({})",
                                                  dropped, buffer_, keep))
                          .WithContext(fmt::format("deduplicating {} of {}", table_, cluster_)));
      drop.name = dropped;
      ASSIGN_OR_RETURN(auto dropped_count, conn_->Query("SELECT count(*) FROM " + dropped));
      if (dropped_count.int64(0, 0) > 0) kept = fmt::format(" AND s.rowid NOT IN (SELECT r FROM {})", dropped);
    }

    const std::string dt_of = fmt::format("strftime(s.{}, '%Y-%m-%d')", kTsColumn);
    const std::vector<std::string> id_columns = IdColumnsOf(schema_);
    std::string id_bounds, id_order;
    for (const auto& c : id_columns) {
      id_bounds += fmt::format(", min(s.{0}), max(s.{0})", QuoteIdent(c));
      id_order += ", s." + QuoteIdent(c);
    }
    ASSIGN_OR_RETURN(auto parts, conn_->QueryLong(fmt::format(
        "SELECT {0}, count(*), epoch_us(min(s.{1})), epoch_us(max(s.{1})){4} FROM {2} s WHERE true{3} GROUP BY 1 ORDER BY 1",
        dt_of, kTsColumn, buffer_, kept, id_bounds)));
    std::string columns;
    for (const auto& c : schema_) columns += (columns.empty() ? "" : ", ") + QuoteIdent(c.name);
    for (size_t p = 0; p < parts.row_count(); ++p) {
      NewFile f;
      f.table = table_;
      f.cluster = cluster_;
      f.dt = parts.text(0, p);
      f.rows = parts.int64(1, p);
      f.min_cursor = Timestamp::FromMicros(parts.int64(2, p));
      f.max_cursor = Timestamp::FromMicros(parts.int64(3, p));
      for (size_t i = 0; i < id_columns.size(); ++i) {
        const size_t min_col = 4 + 2 * i;
        if (!parts.is_null(min_col, p))
          f.id_ranges[id_columns[i]] = {parts.int64(min_col, p), parts.int64(min_col + 1, p)};
      }
      // Rows are sorted by the cursor, then by the ids, when the part is small enough to sort
      // in memory, so that row groups' statistics on either let a reader skip them; a sort of
      // a large window of wide rows cannot spill within the limit, so those files stay in
      // arrival order until compaction sorts them. Row groups are bounded in bytes. The range
      // on the cursor lets the scan skip the parts of the window in other partitions.
      const bool sort = part_bytes_ <= memory_limit_bytes_ / kSortedWindowShare;
      const std::string order = sort ? fmt::format(" ORDER BY s.{}{}", kTsColumn, id_order) : "";
      std::string select = fmt::format(
          "SELECT {0} FROM {1} s WHERE s.{2} BETWEEN make_timestamp({3}) AND make_timestamp({4}) AND {5} = {6}{7}{8}",
          columns, buffer_, kTsColumn, parts.int64(2, p), parts.int64(3, p), dt_of, QuoteString(f.dt), kept, order);
      RETURN_IF_ERROR(WriteStagingFile(std::move(f), select));
    }
    if (!last) {
      // The keys the next parts must not repeat.
      RETURN_IF_ERROR(conn_->ExecLong(fmt::format("{} {}{} SELECT {} FROM {} s WHERE true{}",
                                                  seen_keys_ ? "INSERT INTO" : "CREATE TABLE", seen,
                                                  seen_keys_ ? "" : " AS", keys, buffer_, kept)));
      seen_keys_ = true;
    }
    ++parts_;
  }
  if (last) return Status::Ok();
  // A new, empty table gives the part's memory back (deleted rows would keep theirs).
  RETURN_IF_ERROR(conn_->Exec("DROP TABLE " + buffer_));
  part_rows_ = part_bytes_ = 0;
  return CreateBufferTable();
}

Status WindowBuffer::WriteStagingFile(NewFile f, const std::string& select) {
  f.table = table_;
  f.cluster = cluster_;
  f.columns = SchemaToText(schema_);
  f.path = LakeLayout::NewFilePath(table_, cluster_, f.dt, lake_.env().Now());
  f.staging_path = LakeLayout::StagingPathFor(f.path);
  const std::string staging = lake_.Abs(f.staging_path);
  const std::string local = lake_.env().LocalPath(staging);
  if (local.empty()) return Internal("writing {}: this lake's Env has no local files for DuckDB to write", staging);
  // Named before the COPY: a failed COPY may leave a partial file for ~WindowBuffer.
  staged_.files.push_back(f);
  RETURN_IF_ERROR(conn_->ExecLong(fmt::format("COPY ({}) TO {} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE_BYTES '8MB')",
                                              select, QuoteString(local)))
                      .WithContext("writing " + staging));
  RETURN_IF_ERROR(lake_.env().SyncFile(staging));
  ASSIGN_OR_RETURN(FileDigest digest, DigestFile(lake_.env(), staging));
  staged_.files.back().checksum = digest.checksum;
  staged_.files.back().bytes = digest.bytes;
  staged_.rows_written += f.rows;
  staged_.bytes_written += digest.bytes;
  CrashPoint("mid-stage");
  return Status::Ok();
}

Status WindowBuffer::StageHeld() {
  holding_ = false;  // whatever happens next, the window's rows are no longer held
  RowBatch rows = ConcatRows(std::move(held_));
  held_.clear();
  if (rows.rows() == 0) return Status::Ok();
  KeySet committed;
  if (!dedupe_.committed.empty()) {
    // The committed rows' keys, as AddKeys reads them: one statement reading the key
    // columns of the files that may hold repeats.
    if (!committed_resolved_) {
      ASSIGN_OR_RETURN(committed_local_, ResolveLakeFiles(lake_, dedupe_.committed));
      committed_resolved_ = true;
    }
    std::string select;
    std::vector<ColumnType> types;
    for (int k : held_keys_) {
      const ColumnSchema& c = schema_[static_cast<size_t>(k)];
      types.push_back(c.type);
      select += select.empty() ? "" : ", ";
      if (c.type == ColumnType::kVarchar) select += QuoteIdent(c.name);
      else if (c.type == ColumnType::kTimestamp) select += "epoch_us(" + QuoteIdent(c.name) + ")";
      else select += "CAST(" + QuoteIdent(c.name) + " AS BIGINT)";
    }
    auto keys = conn_->QueryLong(
        fmt::format("SELECT {} FROM read_parquet({}, union_by_name = true)", select, FileList(committed_local_)));
    if (!keys.ok()) return keys.status().WithContext(fmt::format("deduplicating {} of {}", table_, cluster_));
    RETURN_IF_ERROR(AddKeys(*keys, types, &committed));
  }
  const std::vector<int64_t>& ts =
      cursor_column_ >= 0 ? rows.column(static_cast<size_t>(cursor_column_)).ints : rows.partition_ts();
  std::vector<int> id_columns;
  for (const auto& name : IdColumnsOf(schema_)) id_columns.push_back(FindColumn(schema_, name));
  const std::vector<uint32_t> order = KeptRowsInFileOrder(rows, ts, held_keys_, id_columns, committed);
  const RowsScan scan(rows, order);
  constexpr int64_t kDayMicros = 86'400'000'000LL;
  const auto day_of = [](int64_t us) { return us >= 0 ? us / kDayMicros : (us - kDayMicros + 1) / kDayMicros; };
  // The kept rows are in cursor order, so each `dt` is one run of them.
  for (size_t begin = 0, end = 0; begin < order.size(); begin = end) {
    const int64_t day = day_of(ts[order[begin]]);
    end = begin;
    while (end < order.size() && day_of(ts[order[end]]) == day) ++end;
    NewFile f;
    f.dt = DateOf(Timestamp::FromMicros(ts[order[begin]]));
    f.rows = static_cast<int64_t>(end - begin);
    f.min_cursor = Timestamp::FromMicros(ts[order[begin]]);
    f.max_cursor = Timestamp::FromMicros(ts[order[end - 1]]);
    for (int c : id_columns) {
      const Column& col = rows.column(static_cast<size_t>(c));
      std::optional<std::pair<int64_t, int64_t>> range;
      for (size_t i = begin; i < end; ++i) {
        if (!col.valid[order[i]]) continue;
        const int64_t v = col.ints[order[i]];
        range = range ? std::pair{std::min(range->first, v), std::max(range->second, v)} : std::pair{v, v};
      }
      if (range) f.id_ranges[schema_[static_cast<size_t>(c)].name] = {range->first, range->second};
    }
    RETURN_IF_ERROR(WriteStagingFile(
        std::move(f), fmt::format("SELECT * FROM fleetlog_window_rows({}, {}, {})", scan.handle(), begin, end)));
  }
  ++parts_;
  return Status::Ok();
}

Result<StageResult> WindowBuffer::Stage() {
  if (handed_over_) return Internal("{}: the window of {} was staged twice", table_, cluster_);
  RETURN_IF_ERROR(StagePart(/*last=*/true));
  if (!staged_.files.empty()) RETURN_IF_ERROR(lake_.env().SyncDir(lake_.Abs(LakeLayout::StagingDir())));
  staged_.rows_in = rows_;
  staged_.rows_duplicate = staged_.rows_in - staged_.rows_written;
  handed_over_ = true;
  return staged_;
}

Result<std::unique_ptr<LakeWriter>> LakeWriter::Open(const LakeLayout& lake, int64_t memory_limit_bytes, int threads) {
  RETURN_IF_ERROR(lake.Prepare());
  ASSIGN_OR_RETURN(std::shared_ptr<duck::Database> db, duck::Database::OpenInMemory({
      {"memory_limit", std::to_string(memory_limit_bytes) + "B"},
      {"threads", std::to_string(threads)},
      {"temp_directory", lake.env().LocalPath(lake.Abs(LakeLayout::TmpDir()))},
      {"preserve_insertion_order", "false"},
      // Memory that spilled blocks and finished tasks free goes back to the OS soon, so
      // the process's RSS stays near the limit (DuckDB's default keeps 128 MB per thread).
      {"allocator_flush_threshold", "16MB"},
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"},
  }));
  ASSIGN_OR_RETURN(auto conn, duck::Connection::Open(db));
  RETURN_IF_ERROR(RegisterWindowRowsFunction(*conn));
  conn.reset();
  return std::unique_ptr<LakeWriter>(new LakeWriter(lake, std::move(db), memory_limit_bytes));
}

Result<std::unique_ptr<WindowBuffer>> LakeWriter::BeginWindow(const std::string& table, const std::string& cluster,
                                                              const TableSchema& schema, const std::string& cursor_column,
                                                              WindowDedupe dedupe) {
  int cursor_index = -1;
  if (!cursor_column.empty()) {
    cursor_index = FindColumn(schema, cursor_column);
    if (cursor_index < 0) return InvalidArgument("{}: cursor column \"{}\" is not in the result", table, cursor_column);
    if (schema[static_cast<size_t>(cursor_index)].type != ColumnType::kTimestamp)
      return InvalidArgument("{}: cursor column \"{}\" must be a timestamp", table, cursor_column);
  }
  ASSIGN_OR_RETURN(auto conn, duck::Connection::Open(db_));
  const bool keyed = !dedupe.key_columns.empty();
  std::unique_ptr<WindowBuffer> buffer(new WindowBuffer(std::move(conn), lake_, table, cluster, schema, cursor_index,
                                                        fmt::format("window_{}", next_buffer_++), std::move(dedupe)));
  buffer->memory_limit_bytes_ = memory_limit_bytes_;
  buffer->part_bytes_limit_ = keyed ? part_bytes_.load() : 0;
  buffer->held_limit_ = held_bytes_.load();
  if (buffer->held_limit_ <= 0) buffer->holding_ = false;
  if (!buffer->holding_) RETURN_IF_ERROR(buffer->CreateBufferTable());
  return buffer;
}

}  // namespace fleetlog
