#include "server/result_store.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "core/text.h"
#include "query/format.h"

namespace fleetlog {
namespace {

using nlohmann::json;

constexpr size_t kCsvChunkBytes = 64 << 10;

void AppendCsvField(std::string* out, std::string_view s) {
  if (!s.empty() && s.find_first_of(",\"\r\n") == std::string_view::npos) {
    *out += s;
    return;
  }
  *out += '"';
  for (char c : s) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

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

void AppendJsonValue(duck::QueryResult& r, size_t col, size_t row, duckdb_type type, std::string* out) {
  if (r.is_null(col, row)) {
    *out += "null";
  } else if (IsNumericType(type) || type == DUCKDB_TYPE_BOOLEAN) {
    const std::string v = r.text(col, row);
    *out += (v == "nan" || v == "inf" || v == "-inf" || v.empty()) ? "null" : v;
  } else {
    AppendJsonString(out, r.text(col, row));
  }
}

}  // namespace

Result<StoredResultInfo> WriteStoredResult(const std::string& dir, duck::QueryResult& result,
                                           const ResultLimits& limits, const std::atomic<bool>* stop) {
  Env& env = *Env::Default();
  RETURN_IF_ERROR(env.CreateDir(dir).WithContext("cannot create the result folder"));
  bool done = false;
  struct Cleanup {
    const std::string& dir;
    const bool& done;
    ~Cleanup() {
      if (!done) RemoveStoredResult(dir);
    }
  } cleanup{dir, done};

  ASSIGN_OR_RETURN(auto out, env.NewWritableFile(dir + "/rows.jsonl"));
  const size_t cols = result.column_count(), rows = result.row_count();
  json meta;
  meta["columns"] = json::array();
  std::vector<duckdb_type> types(cols);
  for (size_t c = 0; c < cols; ++c) {
    types[c] = result.column_type(c);
    meta["columns"].push_back({{"name", result.column_name(c)}, {"type", result.column_type_name(c)}});
  }
  std::vector<int64_t> offsets{0};
  int64_t bytes = 0;
  std::string page;
  const auto flush_page = [&]() -> Status {
    RETURN_IF_ERROR(out->Append(page));
    bytes += static_cast<int64_t>(page.size());
    offsets.push_back(bytes);
    page.clear();
    if (stop != nullptr && stop->load()) return Status(StatusCode::kCancelled, "stopped while writing the result");
    return Status::Ok();
  };
  for (size_t row = 0; row < rows; ++row) {
    page += '[';
    for (size_t c = 0; c < cols; ++c) {
      if (c) page += ',';
      AppendJsonValue(result, c, row, types[c], &page);
    }
    page += "]\n";
    if (bytes + static_cast<int64_t>(page.size()) > limits.cap_bytes)
      return Error(StatusCode::kResourceExhausted,
                   "the result is larger than the result cap of {} bytes (result_cap in [server]); "
                   "aggregate, select fewer columns or add a LIMIT", limits.cap_bytes);
    if (static_cast<int64_t>(row + 1) % limits.page_rows == 0) RETURN_IF_ERROR(flush_page());
  }
  if (!page.empty() || offsets.size() == 1) RETURN_IF_ERROR(flush_page());
  RETURN_IF_ERROR(out->Close());
  meta["rows"] = rows;
  meta["bytes"] = bytes;
  meta["offsets"] = offsets;
  RETURN_IF_ERROR(env.WriteFile(dir + "/meta.json", meta.dump(), {.sync = false}));
  done = true;
  return StoredResultInfo{.rows = static_cast<int64_t>(rows), .bytes = bytes};
}

Result<StoredResult> StoredResult::Open(const std::string& dir) {
  auto text = Env::Default()->ReadFile(dir + "/meta.json");
  if (!text.ok()) return Error(StatusCode::kNotFound, "the result is gone (expired or removed)");
  const json meta = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("offsets") || !meta["offsets"].is_array() ||
      meta["offsets"].size() < 2 || !meta.contains("columns") || !meta["columns"].is_array())
    return Error(StatusCode::kCorruption, "{}/meta.json is damaged", dir);
  StoredResult r;
  r.dir_ = dir;
  for (const auto& c : meta["columns"])
    r.columns_.push_back({c.value("name", std::string()), c.value("type", std::string())});
  r.rows_ = meta.value("rows", int64_t{0});
  for (const auto& o : meta["offsets"]) r.offsets_.push_back(o.is_number_integer() ? o.get<int64_t>() : 0);
  return r;
}

Result<std::string> StoredResult::ReadPage(int page) const {
  const int64_t begin = offsets_[static_cast<size_t>(page)], end = offsets_[static_cast<size_t>(page) + 1];
  auto read = Env::Default()->ReadRange(dir_ + "/rows.jsonl", begin, end - begin);
  if (!read.ok() && read.status().code() == StatusCode::kNotFound)
    return Error(StatusCode::kNotFound, "the result is gone (expired or removed)");
  if (!read.ok()) return read.status();
  std::string text = std::move(read).value();
  if (static_cast<int64_t>(text.size()) != end - begin) return IoError("cannot read {}/rows.jsonl: it is shorter than recorded", dir_);
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

Status StoredResult::AppendCsvLine(std::string_view line, std::string* out) const {
  CsvRow row(out);
  if (!json::sax_parse(line, &row)) return Error(StatusCode::kCorruption, "{}/rows.jsonl is damaged", dir_);
  *out += "\r\n";
  return Status::Ok();
}

Result<std::string> StoredResult::PageCsv(int page) const {
  ASSIGN_OR_RETURN(const std::string text, ReadPage(page));
  std::string csv = page == 0 ? CsvHeader() : "";
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = text.find('\n', pos);
    RETURN_IF_ERROR(AppendCsvLine(std::string_view(text).substr(pos, end - pos), &csv));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return csv;
}

Status StoredResult::StreamCsv(const std::function<bool(std::string_view)>& sink) const {
  Env& env = *Env::Default();
  const std::string path = dir_ + "/rows.jsonl";
  ASSIGN_OR_RETURN(const bool exists, env.FileExists(path));
  if (!exists) return Error(StatusCode::kNotFound, "the result is gone (expired or removed)");
  std::string chunk = CsvHeader();
  // The stored rows in pieces: each complete line is one row.
  std::string pending;
  for (int64_t offset = 0;;) {
    ASSIGN_OR_RETURN(std::string piece, env.ReadRange(path, offset, kCsvChunkBytes));
    offset += static_cast<int64_t>(piece.size());
    const bool last = piece.empty();
    pending += piece;
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos || (last && start < pending.size());
         start = nl + 1) {
      if (nl == std::string::npos) nl = pending.size();
      RETURN_IF_ERROR(AppendCsvLine(std::string_view(pending).substr(start, nl - start), &chunk));
      if (chunk.size() >= kCsvChunkBytes) {
        if (!sink(chunk)) return Status::Ok();
        chunk.clear();
      }
    }
    pending.erase(0, std::min(start, pending.size()));
    if (last) break;
  }
  if (!chunk.empty()) sink(chunk);
  return Status::Ok();
}

void RemoveStoredResult(const std::string& dir) { (void)Env::Default()->DeleteTree(dir); }

}  // namespace fleetlog
