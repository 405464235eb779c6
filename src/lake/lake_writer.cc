#include "lake/lake_writer.h"

#include <filesystem>

#include "core/fs.h"
#include "core/text.h"

namespace fleetlog {
namespace {

using duck::QuoteIdent;
using duck::QuoteString;

constexpr const char* kTsColumn = "__fleetlog_ts";
// Windows up to this many rows are written sorted by their cursor.
constexpr int64_t kSortedWindowRows = 200'000;

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

std::string FileList(const LakeLayout& lake, const std::vector<CommittedFile>& files) {
  std::string list = "[";
  for (const auto& f : files) list += (list.size() > 1 ? ", " : "") + QuoteString(lake.Abs(f.path));
  return list + "]";
}

}  // namespace

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
    appender_->TimestampMicros(ts);
    RETURN_IF_ERROR(appender_->EndRow());
  }
  rows_ += static_cast<int64_t>(n);
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
  const std::string fresh = buffer_ + "_fresh";
  // The first row of each key, chosen by an aggregate over the key columns and rowid only:
  // DISTINCT ON (keys) * would carry every column through the hash table, and a window of
  // wide rows (4000-character querytxt) exceeds the writer's memory limit there.
  std::string sql = fmt::format(
      "CREATE TABLE {0} AS SELECT s.*, strftime(s.{1}, '%Y-%m-%d') AS __fleetlog_dt FROM {2} s "
      "WHERE s.rowid IN (SELECT min(rowid) FROM {2} GROUP BY {3})",
      fresh, kTsColumn, buffer_, keys);
  if (!committed.empty())
    sql += fmt::format(" AND NOT EXISTS (SELECT 1 FROM read_parquet({}, union_by_name = true) c WHERE {})",
                       FileList(lake_, committed), match);
  RETURN_IF_ERROR(conn_->Exec(sql).WithContext(fmt::format("deduplicating {} of {}", table_, cluster_)));
  struct DropFresh {
    duck::Connection* conn;
    std::string name;
    ~DropFresh() { (void)conn->Exec("DROP TABLE IF EXISTS " + name); }
  } drop{conn_.get(), fresh};

  ASSIGN_OR_RETURN(auto parts, conn_->Query(fmt::format(
      "SELECT __fleetlog_dt, count(*), epoch_us(min({0})), epoch_us(max({0})) FROM {1} GROUP BY 1 ORDER BY 1", kTsColumn, fresh)));
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
    f.columns = SchemaToText(schema_);
    f.path = LakeLayout::NewFilePath(table_, cluster_, f.dt);
    f.staging_path = LakeLayout::StagingPathFor(f.path);
    const std::string staging = lake_.Abs(f.staging_path);
    // Rows are sorted by the cursor when the window is small enough to sort in memory; a
    // sort of a large window of wide rows cannot spill within the limit, so those files stay
    // in arrival order until compaction sorts them. Row groups are bounded in bytes.
    const std::string order = rows_ <= kSortedWindowRows ? fmt::format(" ORDER BY {}", kTsColumn) : "";
    RETURN_IF_ERROR(conn_->Exec(fmt::format(
        "COPY (SELECT {} FROM {} WHERE __fleetlog_dt = {}{}) TO {} "
        "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE_BYTES '8MB')",
        columns, fresh, QuoteString(f.dt), order, QuoteString(staging))).WithContext("writing " + staging));
    RETURN_IF_ERROR(FsyncFile(staging));
    ASSIGN_OR_RETURN(FileDigest digest, DigestFile(staging));
    f.checksum = digest.checksum;
    f.bytes = digest.bytes;
    result.rows_written += f.rows;
    result.bytes_written += f.bytes;
    result.files.push_back(std::move(f));
    CrashPoint("mid-stage");
  }
  RETURN_IF_ERROR(FsyncDir(lake_.Abs(LakeLayout::StagingDir())));
  result.rows_duplicate = result.rows_in - result.rows_written;
  return result;
}

Result<std::unique_ptr<LakeWriter>> LakeWriter::Open(const LakeLayout& lake, int64_t memory_limit_bytes, int threads) {
  RETURN_IF_ERROR(lake.Prepare());
  ASSIGN_OR_RETURN(auto db, duck::Database::OpenInMemory({
      {"memory_limit", std::to_string(memory_limit_bytes) + "B"},
      {"threads", std::to_string(threads)},
      {"temp_directory", lake.Abs(LakeLayout::TmpDir())},
      {"preserve_insertion_order", "false"},
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"},
  }));
  return std::unique_ptr<LakeWriter>(new LakeWriter(lake, std::move(db)));
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
  ASSIGN_OR_RETURN(buffer->appender_, duck::Appender::Open(*buffer->conn_, name));
  return buffer;
}

}  // namespace fleetlog
