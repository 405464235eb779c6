#include "core/csv_reader.h"

namespace fleetlog {

bool CsvReader::Next(CsvRecord* record, Status* status) {
  *status = Status::Ok();
  std::string line;
  do {
    if (!std::getline(in_, line)) return false;
    ++line_;
  } while (line.empty() || line == "\r");

  record->text.clear();
  record->fields.clear();
  record->line = line_;
  std::string field;
  bool in_quotes = false;
  bool field_was_quoted = false;
  // Consumes physical lines until the record's quotes are balanced.
  while (true) {
    const bool had_newline = !in_.eof();
    // A final '\r' ends the line (CRLF) unless it falls inside a quoted field.
    const bool ends_with_cr = !line.empty() && line.back() == '\r';
    const size_t scan_end = ends_with_cr ? line.size() - 1 : line.size();
    for (size_t i = 0; i < scan_end; ++i) {
      const char c = line[i];
      if (in_quotes) {
        if (c != '"') {
          field += c;
        } else if (i + 1 < scan_end && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else if (c == ',') {
        record->fields.push_back(std::move(field));
        field.clear();
        field_was_quoted = false;
      } else if (c == '"') {
        if (!field.empty() || field_was_quoted) {
          *status = InvalidArgument("line {}: quote inside an unquoted field", line_);
          return false;
        }
        in_quotes = true;
        field_was_quoted = true;
      } else if (field_was_quoted) {
        *status = InvalidArgument("line {}: text after the closing quote of a field", line_);
        return false;
      } else {
        field += c;
      }
    }
    if (ends_with_cr && in_quotes) {
      field += '\r';
      record->text += line;
    } else if (ends_with_cr) {
      record->text.append(line, 0, scan_end);
      record->line_ending = "\r\n";
    } else {
      record->text += line;
      record->line_ending = had_newline ? "\n" : "";
    }
    if (!in_quotes) break;
    // A line break inside quotes belongs to the field.
    if (!std::getline(in_, line)) {
      *status = InvalidArgument("line {}: quoted field never closed", record->line);
      return false;
    }
    ++line_;
    field += '\n';
    record->text += '\n';
  }
  record->fields.push_back(std::move(field));
  return true;
}

}  // namespace fleetlog
