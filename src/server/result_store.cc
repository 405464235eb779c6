#include "server/result_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/text.h"
#include "query/format.h"

namespace fleetlog {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kCsvChunkBytes = 64 << 10;

// Turns one stored row (a JSON array of scalars) into a CSV line. Numbers keep the exact
// text DuckDB printed (the SAX interface hands over the literal), so CSV matches `query`.
class CsvRow : public json::json_sax_t {
 public:
  explicit CsvRow(std::string* out) : out_(out) {}
  bool null() override { return Field(""); }
  bool boolean(bool v) override { return Field(v ? "true" : "false"); }
  bool number_integer(json::number_integer_t v) override { return Field(std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) override { return Field(std::to_string(v)); }
  bool number_float(json::number_float_t, const std::string& s) override { return Field(s); }
  bool string(std::string& s) override {
    Separate();
    AppendCsvField(out_, s);
    return true;
  }
  bool binary(json::binary_t&) override { return false; }
  bool start_object(std::size_t) override { return false; }
  bool key(std::string&) override { return false; }
  bool end_object() override { return false; }
  bool start_array(std::size_t) override { return depth_++ == 0; }
  bool end_array() override { return --depth_ == 0; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  void Separate() {
    if (fields_++) *out_ += ',';
  }
  bool Field(std::string_view text) {
    Separate();
    *out_ += text;
    return true;
  }
  std::string* out_;
  int depth_ = 0;
  int fields_ = 0;
};

}  // namespace

StoredResultWriter::StoredResultWriter(std::string dir, std::vector<ResultColumn> columns, const ResultLimits& limits)
    : dir_(std::move(dir)), columns_(std::move(columns)), limits_(limits) {}

StoredResultWriter::~StoredResultWriter() {
  if (out_ != nullptr) std::fclose(out_);
  if (!finished_) RemoveStoredResult(dir_);
}

Result<std::unique_ptr<StoredResultWriter>> StoredResultWriter::Create(const std::string& dir,
                                                                       std::vector<ResultColumn> columns,
                                                                       const ResultLimits& limits) {
  std::unique_ptr<StoredResultWriter> w(new StoredResultWriter(dir, std::move(columns), limits));
  RETURN_IF_ERROR(CreatePrivateDirs(dir));
  const int fd = ::open((dir + "/rows.jsonl").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);  // outside the Env: private, never through a symlink
  if (fd < 0 || (w->out_ = ::fdopen(fd, "wb")) == nullptr) {
    if (fd >= 0) ::close(fd);
    return IoError("cannot write {}/rows.jsonl: {}", dir, std::strerror(errno));
  }
  return w;
}

Status StoredResultWriter::FlushPage() {
  if (std::fwrite(page_.data(), 1, page_.size(), out_) != page_.size())
    return IoError("cannot write {}/rows.jsonl (disk full?)", dir_);
  bytes_ += static_cast<int64_t>(page_.size());
  offsets_.push_back(bytes_);
  page_.clear();
  return Status::Ok();
}

Status StoredResultWriter::AddRow(std::string_view row) {
  if (row.size() < 2 || row.front() != '[' || row.back() != ']' || row.find('\n') != std::string_view::npos)
    return Error(StatusCode::kCorruption, "a result row is not one JSON array");
  if (bytes_ + static_cast<int64_t>(page_.size() + row.size() + 1) > limits_.cap_bytes)
    return Error(StatusCode::kResourceExhausted,
                 "the result is larger than the result cap of {} bytes (result_cap in [server]); "
                 "aggregate, select fewer columns or add a LIMIT", limits_.cap_bytes);
  page_.append(row);
  page_ += '\n';
  if (++rows_ % limits_.page_rows == 0) RETURN_IF_ERROR(FlushPage());
  return Status::Ok();
}

Result<StoredResultInfo> StoredResultWriter::Finish() {
  if (!page_.empty() || offsets_.size() == 1) RETURN_IF_ERROR(FlushPage());
  const bool closed = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!closed) return IoError("cannot write {}/rows.jsonl", dir_);
  json meta;
  meta["columns"] = json::array();
  for (const auto& c : columns_) meta["columns"].push_back({{"name", c.name}, {"type", c.type}});
  meta["rows"] = rows_;
  meta["bytes"] = bytes_;
  meta["offsets"] = offsets_;
  RETURN_IF_ERROR(WritePrivateFile(dir_ + "/meta.json", meta.dump()));
  finished_ = true;
  return StoredResultInfo{.rows = rows_, .bytes = bytes_};
}

Result<StoredResultInfo> WriteStoredResult(const std::string& dir, duck::QueryResult& result,
                                           const ResultLimits& limits, const std::atomic<bool>* stop) {
  const size_t cols = result.column_count(), rows = result.row_count();
  std::vector<ResultColumn> columns;
  std::vector<duckdb_type> types(cols);
  for (size_t c = 0; c < cols; ++c) {
    types[c] = result.column_type(c);
    columns.push_back({result.column_name(c), result.column_type_name(c)});
  }
  ASSIGN_OR_RETURN(auto writer, StoredResultWriter::Create(dir, std::move(columns), limits));
  std::string line;
  for (size_t row = 0; row < rows; ++row) {
    line.clear();
    AppendRowJson(result, row, types, &line);
    RETURN_IF_ERROR(writer->AddRow(line));
    if (stop != nullptr && row % 1024 == 0 && stop->load())
      return Status(StatusCode::kCancelled, "stopped while writing the result");
  }
  return writer->Finish();
}

Result<StoredResult> StoredResult::Open(const std::string& dir) {
  std::ifstream in(dir + "/meta.json", std::ios::binary);  // outside the Env: local result files
  if (!in) return Error(StatusCode::kNotFound, "the result is gone (expired or removed)");
  const json meta = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("offsets") || !meta["offsets"].is_array() ||
      meta["offsets"].size() < 2 || !meta.contains("columns") || !meta["columns"].is_array())
    return Error(StatusCode::kCorruption, "{}/meta.json is damaged", dir);
  StoredResult r;
  r.dir_ = dir;
  for (const auto& c : meta["columns"])
    r.columns_.push_back({c.value("name", std::string()), c.value("type", std::string())});
  r.rows_ = meta.value("rows", int64_t{0});
  // Offsets must rise within the file, so a damaged meta.json cannot make a page read
  // (and allocate) more than the file holds.
  std::error_code ec;
  const auto size = static_cast<int64_t>(fs::file_size(dir + "/rows.jsonl", ec));  // outside the Env: local result files
  for (const auto& o : meta["offsets"]) {
    const int64_t v = o.is_number_integer() ? o.get<int64_t>() : -1;
    if (ec || v < (r.offsets_.empty() ? 0 : r.offsets_.back()) || v > size)
      return Error(StatusCode::kCorruption, "{}/meta.json is damaged", dir);
    r.offsets_.push_back(v);
  }
  return r;
}

Result<std::string> StoredResult::ReadPage(int page) const {
  std::ifstream in(dir_ + "/rows.jsonl", std::ios::binary);  // outside the Env: local result files
  if (!in) return Error(StatusCode::kNotFound, "the result is gone (expired or removed)");
  const int64_t begin = offsets_[static_cast<size_t>(page)], end = offsets_[static_cast<size_t>(page) + 1];
  std::string text(static_cast<size_t>(end - begin), '\0');
  in.seekg(begin);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (!in) return IoError("cannot read {}/rows.jsonl", dir_);
  return text;
}

Result<std::string> StoredResult::PageRecords(int page) const {
  ASSIGN_OR_RETURN(std::string text, ReadPage(page));
  // Stored lines end in '\n'; JSON text never holds a raw newline, so each one is a row break.
  if (!text.empty()) text.pop_back();
  for (char& c : text)
    if (c == '\n') c = ',';
  return text;
}

std::string StoredResult::CsvHeader() const {
  std::string header;
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (c) header += ',';
    AppendCsvField(&header, columns_[c].name);
  }
  return header + "\r\n";
}

Status StoredResult::AppendCsvLine(const std::string& dir, std::string_view line, std::string* out) {
  CsvRow row(out);
  if (!json::sax_parse(line, &row)) return Error(StatusCode::kCorruption, "{}/rows.jsonl is damaged", dir);
  *out += "\r\n";
  return Status::Ok();
}

Result<std::string> StoredResult::PageCsv(int page) const {
  ASSIGN_OR_RETURN(const std::string text, ReadPage(page));
  std::string csv = page == 0 ? CsvHeader() : "";
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = text.find('\n', pos);
    RETURN_IF_ERROR(AppendCsvLine(dir_, std::string_view(text).substr(pos, end - pos), &csv));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return csv;
}

Result<StoredResult::CsvReader> StoredResult::OpenCsv() const {
  CsvReader r;
  r.dir_ = dir_;
  r.in_ = std::make_shared<std::ifstream>(dir_ + "/rows.jsonl", std::ios::binary);  // outside the Env: local result files
  if (!*r.in_) return Error(StatusCode::kNotFound, "the result is gone (expired or removed)");
  r.header_ = CsvHeader();
  return r;
}

Result<bool> StoredResult::CsvReader::Next(std::string* chunk) {
  if (done_) return false;
  chunk->append(header_);
  header_.clear();
  std::string line;
  while (chunk->size() < kCsvChunkBytes) {
    if (!std::getline(*in_, line)) {
      if (in_->bad()) return IoError("cannot read {}/rows.jsonl", dir_);
      done_ = true;
      return !chunk->empty();
    }
    RETURN_IF_ERROR(AppendCsvLine(dir_, line, chunk));
  }
  return true;
}

Status StoredResult::StreamCsv(const std::function<bool(std::string_view)>& sink) const {
  ASSIGN_OR_RETURN(CsvReader reader, OpenCsv());
  std::string chunk;
  for (;;) {
    chunk.clear();
    ASSIGN_OR_RETURN(const bool more, reader.Next(&chunk));
    if (!chunk.empty() && !sink(chunk)) return Status::Ok();
    if (!more) return Status::Ok();
  }
}

void RemoveStoredResult(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);  // outside the Env: local result files
}

}  // namespace fleetlog
