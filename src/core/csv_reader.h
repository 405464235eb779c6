// CsvReader: reads RFC 4180 records from a stream, keeping each record's exact text.
//
// Fields may be quoted; inside quotes, "" is a quote and line breaks are part of the field,
// so one record can span several lines. Records end at LF or CRLF. Empty lines are skipped.
// Each record keeps its original text (without the line ending) so that a filter can write
// it back unchanged.
//
// Failure: an unterminated quoted field or a quote inside an unquoted field is
// kInvalidArgument naming the line. Thread-safety: not thread-safe; one reader per stream.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "core/status.h"

namespace fleetlog {

struct CsvRecord {
  std::string text;         // the record as read, without its line ending
  std::string line_ending;  // "\n", "\r\n", or "" at the end of the input
  std::vector<std::string> fields;  // unquoted values
  int64_t line = 0;         // 1-based line where the record starts
};

class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : in_(in) {}

  // Reads the next record into *record. Returns false at the end of the input, or with
  // *status set when the input is malformed.
  bool Next(CsvRecord* record, Status* status);

 private:
  std::istream& in_;
  int64_t line_ = 0;  // lines consumed so far
};

}  // namespace fleetlog
