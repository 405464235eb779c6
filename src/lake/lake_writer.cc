#include "lake/lake_writer.h"

#include "core/fs.h"
#include "core/text.h"
#include "lake/lake_files.h"

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

void AppendValue(duck::Appender& app, const Column& col, size_t row) {
  if (!col.valid[row]) return app.Null();
  switch (col.type) {
    case ColumnType::kInt32: return app.Int32(static_cast<int32_t>(col.ints[row]));
    case ColumnType::kInt64: return app.Int64(col.ints[row]);
    case ColumnType::kBool: return app.Bool(col.ints[row] != 0);
    case ColumnType::kTimestamp: return app.TimestampMicros(col.ints[row]);
    case ColumnType::kDouble: return app.Double(col.doubles[row]);
    case ColumnType::kVarchar: {
      const std::string& s = col.strings[row];
      if (IsValidUtf8(s)) return app.Varchar(s);
      return app.Varchar(SanitizeUtf8(s));
    }
  }
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
                           std::string cluster, TableSchema schema, int cursor_column, std::string buffer_name)
    : conn_(std::move(conn)),
      lake_(std::move(lake)),
      table_(std::move(table)),
      cluster_(std::move(cluster)),
      schema_(std::move(schema)),
      cursor_column_(cursor_column),
      buffer_(std::move(buffer_name)) {}

WindowBuffer::~WindowBuffer() {
  appender_.reset();
  (void)conn_->Exec("DROP TABLE IF EXISTS " + buffer_);
}

Status WindowBuffer::Append(const RowBatch& batch) {
  if (batch.schema() != schema_) return Internal("batch schema differs from the window's for {}", table_);
  const size_t n = batch.rows();
  if (cursor_column_ < 0 && batch.partition_ts().size() != n)
    return Internal("batch for {} carries no partition times", table_);
  for (size_t r = 0; r < n; ++r) {
    int64_t ts;
    if (cursor_column_ >= 0) {
      const Column& c = batch.column(static_cast<size_t>(cursor_column_));
      if (!c.valid[r])
        return InvalidArgument("{}: a row has NULL in its cursor column {}; it cannot be placed in a dt partition", table_,
                               schema_[static_cast<size_t>(cursor_column_)].name);
      ts = c.ints[r];
    } else {
      ts = batch.partition_ts()[r];
    }
    for (size_t c = 0; c < schema_.size(); ++c) AppendValue(*appender_, batch.column(c), r);
    bytes_ += static_cast<int64_t>(8 * (schema_.size() + 1));
    appender_->TimestampMicros(ts);
    RETURN_IF_ERROR(appender_->EndRow());
  }
  const int64_t bytes_before = bytes_;
  for (size_t c = 0; c < schema_.size(); ++c)
    for (const std::string& v : batch.column(c).strings) bytes_ += static_cast<int64_t>(v.size());
  rows_ += static_cast<int64_t>(n);
  // DuckDB's appender collects rows outside the buffer manager (up to ~200k rows, hundreds
  // of MB of querytxt) until it flushes them into the table, where they count against the
  // memory limit and can spill.
  unflushed_bytes_ += bytes_ - bytes_before;
  if (unflushed_bytes_ >= kAppenderFlushBytes) {
    unflushed_bytes_ = 0;
    RETURN_IF_ERROR(appender_->Flush());
  }
  return Status::Ok();
}

Result<StageResult> WindowBuffer::Stage(const std::vector<CommittedFile>& committed,
                                        const std::vector<std::string>& key_columns) {
  RETURN_IF_ERROR(appender_->Flush());
  appender_.reset();
  StageResult result;
  result.rows_in = rows_;
  if (rows_ == 0) return result;

  // Repeats within the window first (the lookback re-reads rows), then rows committed before.
  std::string keys, match;
  std::vector<std::string> key_list = key_columns;
  if (key_list.empty())  // no natural key: a row is a repeat only when every column matches
    for (const auto& c : schema_) key_list.push_back(c.name);
  for (const auto& k : key_list) {
    if (FindColumn(schema_, k) < 0) return InvalidArgument("{}: key column \"{}\" is not in the result", table_, k);
    keys += (keys.empty() ? "" : ", ") + QuoteIdent(k);
    match += fmt::format("{}c.{} IS NOT DISTINCT FROM s.{}", match.empty() ? "" : " AND ", QuoteIdent(k), QuoteIdent(k));
  }
  // The rows to drop, by rowid: every row but the first of each key (the first chosen by an
  // aggregate over the key columns and rowid only), and rows committed before. This reads
  // the key columns alone; the wide columns are read once, by the COPY to Parquet below.
  // (Copying the surviving rows into a table first wrote the whole window a second time,
  // spilled, for the few rows a window usually drops.)
  const std::string dropped = buffer_ + "_dropped";
  std::string keep = fmt::format("s.rowid IN (SELECT min(rowid) FROM {} GROUP BY {})", buffer_, keys);
  LocalFiles before;  // the committed files' local copies, held while they are read
  if (!committed.empty()) {
    ASSIGN_OR_RETURN(before, ResolveLakeFiles(lake_, committed));
    keep += fmt::format(" AND NOT EXISTS (SELECT 1 FROM read_parquet({}, union_by_name = true) c WHERE {})",
                        FileList(before), match);
  }
  RETURN_IF_ERROR(conn_->ExecLong(fmt::format("CREATE TABLE {} AS SELECT s.rowid AS r FROM {} s WHERE NOT ({})",
                                              dropped, buffer_, keep))
                      .WithContext(fmt::format("deduplicating {} of {}", table_, cluster_)));
  struct DropTable {
    duck::Connection* conn;
    std::string name;
    ~DropTable() { (void)conn->Exec("DROP TABLE IF EXISTS " + name); }
  } drop{conn_.get(), dropped};
  ASSIGN_OR_RETURN(auto dropped_count, conn_->Query("SELECT count(*) FROM " + dropped));
  const std::string kept =
      dropped_count.int64(0, 0) == 0 ? "" : fmt::format(" AND s.rowid NOT IN (SELECT r FROM {})", dropped);

  const std::string dt_of = fmt::format("strftime(s.{}, '%Y-%m-%d')", kTsColumn);
  const std::vector<std::string> id_columns = IdColumnsOf(schema_);
  std::string id_bounds, id_order;
  for (const auto& c : id_columns) {
    id_bounds += fmt::format(", min(s.{0}), max(s.{0})", QuoteIdent(c));
    id_order += ", s." + QuoteIdent(c);
  }
  ASSIGN_OR_RETURN(auto parts, conn_->Query(fmt::format(
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
    f.columns = SchemaToText(schema_);
    f.path = LakeLayout::NewFilePath(table_, cluster_, f.dt, lake_.env().Now());
    f.staging_path = LakeLayout::StagingPathFor(f.path);
    const std::string staging = lake_.Abs(f.staging_path);
    const std::string local = lake_.env().LocalPath(staging);
    if (local.empty()) return Internal("writing {}: this lake's Env has no local files for DuckDB to write", staging);
    // Rows are sorted by the cursor, then by the ids, when the window is small enough to
    // sort in memory, so that row groups' statistics on either let a reader skip them; a
    // sort of a large window of wide rows cannot spill within the limit, so those files stay
    // in arrival order until compaction sorts them. Row groups are bounded in bytes. The
    // range on the cursor lets the scan skip the parts of the window in other partitions.
    const bool sort = bytes_ <= memory_limit_bytes_ / kSortedWindowShare;
    const std::string order = sort ? fmt::format(" ORDER BY s.{}{}", kTsColumn, id_order) : "";
    RETURN_IF_ERROR(conn_->ExecLong(fmt::format(
        "COPY (SELECT {0} FROM {1} s WHERE s.{2} BETWEEN make_timestamp({3}) AND make_timestamp({4}) AND {5} = {6}{7}{8}) "
        "TO {9} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE_BYTES '8MB')",
        columns, buffer_, kTsColumn, parts.int64(2, p), parts.int64(3, p), dt_of, QuoteString(f.dt), kept, order,
        QuoteString(local))).WithContext("writing " + staging));
    RETURN_IF_ERROR(lake_.env().SyncFile(staging));
    ASSIGN_OR_RETURN(FileDigest digest, DigestFile(lake_.env(), staging));
    f.checksum = digest.checksum;
    f.bytes = digest.bytes;
    result.rows_written += f.rows;
    result.bytes_written += f.bytes;
    result.files.push_back(std::move(f));
    CrashPoint("mid-stage");
  }
  RETURN_IF_ERROR(lake_.env().SyncDir(lake_.Abs(LakeLayout::StagingDir())));
  result.rows_duplicate = result.rows_in - result.rows_written;
  return result;
}

Result<std::unique_ptr<LakeWriter>> LakeWriter::Open(const LakeLayout& lake, int64_t memory_limit_bytes, int threads) {
  RETURN_IF_ERROR(lake.Prepare());
  ASSIGN_OR_RETURN(auto db, duck::Database::OpenInMemory({
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
  return std::unique_ptr<LakeWriter>(new LakeWriter(lake, std::move(db), memory_limit_bytes));
}

Result<std::unique_ptr<WindowBuffer>> LakeWriter::BeginWindow(const std::string& table, const std::string& cluster,
                                                              const TableSchema& schema, const std::string& cursor_column) {
  int cursor_index = -1;
  if (!cursor_column.empty()) {
    cursor_index = FindColumn(schema, cursor_column);
    if (cursor_index < 0) return InvalidArgument("{}: cursor column \"{}\" is not in the result", table, cursor_column);
    if (schema[static_cast<size_t>(cursor_index)].type != ColumnType::kTimestamp)
      return InvalidArgument("{}: cursor column \"{}\" must be a timestamp", table, cursor_column);
  }
  ASSIGN_OR_RETURN(auto conn, duck::Connection::Open(db_));
  const std::string name = fmt::format("window_{}", next_buffer_++);
  std::string ddl = "CREATE TABLE " + name + " (";
  for (const auto& c : schema) ddl += QuoteIdent(c.name) + " " + ColumnTypeSql(c.type) + ", ";
  ddl += std::string(kTsColumn) + " TIMESTAMP)";
  RETURN_IF_ERROR(conn->Exec(ddl));
  auto buffer = std::make_unique<WindowBuffer>(std::move(conn), lake_, table, cluster, schema, cursor_index, name);
  buffer->memory_limit_bytes_ = memory_limit_bytes_;
  ASSIGN_OR_RETURN(buffer->appender_, duck::Appender::Open(*buffer->conn_, name));
  return buffer;
}

}  // namespace fleetlog
