// Statement results on disk, one folder per (sub-)statement, written once and then read by
// page. The folder holds
//   rows.jsonl  one JSON array per row: numbers and booleans bare, NULL as null, the rest
//               as strings (DuckDB's text form);
//   meta.json   the columns, row and byte counts, and the byte offset where each page starts.
// Writing holds one page of text in memory at a time; reading returns one page, or streams
// the whole result as CSV in bounded chunks.
// Thread-safety: WriteStoredResult() writes a folder no reader sees yet (the caller
// publishes the statement afterwards); StoredResult is immutable and safe to share.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"

namespace fleetlog {

struct ResultColumn {
  std::string name;
  std::string type;  // DuckDB's SQL type name
};

struct ResultLimits {
  int64_t page_rows = 1000;
  int64_t cap_bytes = 100LL << 20;  // the stored rows may not exceed this
};

struct StoredResultInfo {
  int64_t rows = 0;
  int64_t bytes = 0;  // of rows.jsonl
};

// Writes one result row by row into `dir` (created private, 0700; must not exist): rows
// come as JSON arrays, as AppendRowJson() makes them (the query worker sends them so).
// The folder is removed unless Finish() succeeds.
class StoredResultWriter {
 public:
  static Result<std::unique_ptr<StoredResultWriter>> Create(const std::string& dir, std::vector<ResultColumn> columns,
                                                            const ResultLimits& limits);
  ~StoredResultWriter();
  StoredResultWriter(const StoredResultWriter&) = delete;
  StoredResultWriter& operator=(const StoredResultWriter&) = delete;

  // Fails with kResourceExhausted past limits.cap_bytes, kCorruption for a row that is not
  // one JSON array on one line, kIoError when the disk refuses.
  Status AddRow(std::string_view row_json);
  Result<StoredResultInfo> Finish();

 private:
  StoredResultWriter(std::string dir, std::vector<ResultColumn> columns, const ResultLimits& limits);
  Status FlushPage();
  std::string dir_;
  std::vector<ResultColumn> columns_;
  ResultLimits limits_;
  std::FILE* out_ = nullptr;
  std::vector<int64_t> offsets_{0};
  int64_t rows_ = 0, bytes_ = 0;
  std::string page_;
  bool finished_ = false;
};

// Writes `result` into `dir` through a StoredResultWriter. Fails with kResourceExhausted
// when the rows exceed limits.cap_bytes, and with kCancelled when `*stop` becomes true.
Result<StoredResultInfo> WriteStoredResult(const std::string& dir, duck::QueryResult& result,
                                           const ResultLimits& limits, const std::atomic<bool>* stop);

class StoredResult {
 public:
  // Fails with kNotFound when the folder is gone (expired).
  static Result<StoredResult> Open(const std::string& dir);

  const std::vector<ResultColumn>& columns() const { return columns_; }
  int64_t rows() const { return rows_; }
  int pages() const { return static_cast<int>(offsets_.size()) - 1; }  // at least 1

  // The rows of page `page` (0-based) as comma-separated JSON arrays, ready to go between
  // "[" and "]". REQUIRES: 0 <= page < pages().
  Result<std::string> PageRecords(int page) const;

  // Page `page` as CSV lines in the form of StreamCsv; page 0 starts with the header line.
  // REQUIRES: 0 <= page < pages().
  Result<std::string> PageCsv(int page) const;

  // Calls `sink` with successive pieces of the whole result as CSV (RFC 4180: a header line,
  // CRLF line ends, NULL an empty field, an empty string ""). Stops early when `sink`
  // returns false.
  Status StreamCsv(const std::function<bool(std::string_view)>& sink) const;

  // The same CSV, pulled a piece (about 64 KiB) at a time.
  class CsvReader {
   public:
    // Appends the next piece to `*chunk`; false once everything was given.
    Result<bool> Next(std::string* chunk);

   private:
    friend class StoredResult;
    std::string dir_;
    std::shared_ptr<std::ifstream> in_;  // outside the Env: local result files
    std::string header_;
    bool done_ = false;
  };
  Result<CsvReader> OpenCsv() const;

 private:
  Result<std::string> ReadPage(int page) const;  // the stored lines, each ending in '\n'
  std::string CsvHeader() const;
  // One stored line (a JSON array) of the result in `dir` as a CSV line with its CRLF.
  static Status AppendCsvLine(const std::string& dir, std::string_view line, std::string* out);

  std::string dir_;
  std::vector<ResultColumn> columns_;
  int64_t rows_ = 0;
  std::vector<int64_t> offsets_;  // pages() + 1 entries; the last is the file's size
};

// Removes a result folder and everything in it; a missing folder is not an error.
void RemoveStoredResult(const std::string& dir);

}  // namespace fleetlog
