// Why by hand: strptime and std::get_time are locale-bound and an order of magnitude slower
// than the fixed layout PostgreSQL prints with datestyle ISO (the source sets it), and
// std::from_chars parses numbers without locales or allocation. The decoder walks a result
// column by column so that each column's type switch is taken once per result, not once
// per value.
#include "source/pg/pg_decode.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "core/time.h"

namespace fleetlog {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at text[*pos] and advances past them.
bool ReadDigits(std::string_view text, size_t* pos, size_t count, int64_t* out) {
  if (*pos + count > text.size()) return false;
  int64_t v = 0;
  for (size_t i = *pos; i < *pos + count; ++i) {
    if (!IsDigit(text[i])) return false;
    v = v * 10 + (text[i] - '0');
  }
  *pos += count;
  *out = v;
  return true;
}

bool ReadChar(std::string_view text, size_t* pos, char expected) {
  if (*pos >= text.size() || text[*pos] != expected) return false;
  ++*pos;
  return true;
}

// "+HH", "+HH:MM" or "+HH:MM:SS" (or with '-'), as seconds east of UTC.
bool ReadUtcOffset(std::string_view text, size_t* pos, int64_t* seconds) {
  const int64_t sign = text[*pos] == '-' ? -1 : 1;
  ++*pos;
  int64_t h = 0, m = 0, s = 0;
  if (!ReadDigits(text, pos, 2, &h)) return false;
  if (*pos < text.size() && text[*pos] == ':' && !(ReadChar(text, pos, ':') && ReadDigits(text, pos, 2, &m)))
    return false;
  if (*pos < text.size() && text[*pos] == ':' && !(ReadChar(text, pos, ':') && ReadDigits(text, pos, 2, &s)))
    return false;
  *seconds = sign * (h * 3600 + m * 60 + s);
  return true;
}

// Trailing blanks removed eight bytes at a time: Redshift pads querytxt to 4000 characters,
// so on stl_query the padding, not the text, is most of the bytes an export scans.
std::string_view TrimPadding(std::string_view text) {
  constexpr uint64_t kEightBlanks = 0x2020202020202020ULL;
  size_t end = text.size();
  for (uint64_t word = 0; end >= 8; end -= 8) {
    std::memcpy(&word, text.data() + end - 8, 8);
    if (word != kEightBlanks) break;
  }
  while (end > 0 && text[end - 1] == ' ') --end;
  return text.substr(0, end);
}

std::string Excerpt(std::string_view text) {
  constexpr size_t kMax = 64;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

// Runs `append(text, column)` over the non-NULL values of result column `col`; `append`
// returns false for a value that does not parse.
template <typename AppendValue>
Status AppendValues(const PGresult* result, int col, const ColumnSchema& schema, Column* column,
                    AppendValue append) {
  const int rows = PQntuples(result);
  column->Reserve(column->size() + static_cast<size_t>(rows));
  for (int row = 0; row < rows; ++row) {
    if (PQgetisnull(result, row, col)) {
      column->AppendNull();
      continue;
    }
    const std::string_view text(PQgetvalue(result, row, col), static_cast<size_t>(PQgetlength(result, row, col)));
    if (!append(text, column))
      return Error(StatusCode::kCorruption, "column {}: \"{}\" is not a valid {}", schema.name, Excerpt(text),
                   ColumnTypeSql(schema.type));
  }
  return Status::Ok();
}

}  // namespace

ColumnType ColumnTypeForOid(Oid type) {
  switch (type) {
    case pg_oid::kInt2:
    case pg_oid::kInt4: return ColumnType::kInt32;
    case pg_oid::kInt8: return ColumnType::kInt64;
    case pg_oid::kFloat4:
    case pg_oid::kFloat8:
    case pg_oid::kNumeric: return ColumnType::kDouble;
    case pg_oid::kBool: return ColumnType::kBool;
    case pg_oid::kTimestamp:
    case pg_oid::kTimestamptz: return ColumnType::kTimestamp;
    default: return ColumnType::kVarchar;
  }
}

bool ParsePgInt(std::string_view text, int64_t* out) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return false;
  *out = v;
  return true;
}

bool ParsePgDouble(std::string_view text, double* out) {
  if (text == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text == "Infinity" || text == "-Infinity") {
    *out = text[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return false;
  *out = v;
  return true;
}

bool ParsePgBool(std::string_view text, bool* out) {
  if (text == "t" || text == "f") {
    *out = text == "t";
    return true;
  }
  return false;
}

bool ParsePgTimestamp(std::string_view text, int64_t* micros) {
  if (text == "infinity" || text == "-infinity") {
    *micros = text[0] == '-' ? -std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::max();
    return true;
  }
  // The year has four or more digits (PostgreSQL goes to 294276).
  size_t pos = 0;
  int64_t year = 0;
  while (pos < text.size() && pos < 7 && IsDigit(text[pos])) year = year * 10 + (text[pos++] - '0');
  if (pos < 4) return false;
  int64_t month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!(ReadChar(text, &pos, '-') && ReadDigits(text, &pos, 2, &month) && ReadChar(text, &pos, '-') &&
        ReadDigits(text, &pos, 2, &day) && ReadChar(text, &pos, ' ') && ReadDigits(text, &pos, 2, &hour) &&
        ReadChar(text, &pos, ':') && ReadDigits(text, &pos, 2, &minute) && ReadChar(text, &pos, ':') &&
        ReadDigits(text, &pos, 2, &second)))
    return false;
  int64_t fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = kMicrosPerSecond;
    const size_t first = pos;
    for (; pos < text.size() && IsDigit(text[pos]); ++pos) {
      if (scale > 1) {
        scale /= 10;
        fraction += (text[pos] - '0') * scale;
      }
    }
    if (pos == first) return false;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-') && !ReadUtcOffset(text, &pos, &offset_seconds))
    return false;
  if (text.substr(pos) == " BC") {
    year = 1 - year;  // 1 BC is year 0 in the proleptic Gregorian calendar
    pos = text.size();
  }
  if (pos != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 ||
      second > 60)
    return false;
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  *micros = seconds * kMicrosPerSecond + fraction;
  return true;
}

PgResultDecoder::PgResultDecoder(const PGresult* result, const std::vector<std::string>& keep_padding) {
  const int fields = PQnfields(result);
  for (int i = 0; i < fields; ++i) {
    std::string name = PQfname(result, i);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    const Oid oid = PQftype(result, i);
    const ColumnType type = ColumnTypeForOid(oid);
    Decoding decoding = Decoding::kText;
    switch (type) {
      case ColumnType::kInt32:
      case ColumnType::kInt64: decoding = Decoding::kInt; break;
      case ColumnType::kDouble: decoding = Decoding::kDouble; break;
      case ColumnType::kBool: decoding = Decoding::kBool; break;
      case ColumnType::kTimestamp: decoding = Decoding::kTimestamp; break;
      case ColumnType::kVarchar:
        const bool keep = std::find(keep_padding.begin(), keep_padding.end(), name) != keep_padding.end();
        decoding = oid == pg_oid::kBpchar && !keep ? Decoding::kTrimmedChar : Decoding::kText;
        break;
    }
    schema_.push_back({std::move(name), type});
    decodings_.push_back(decoding);
  }
}

Status PgResultDecoder::Append(const PGresult* result, RowBatch* batch) const {
  for (size_t c = 0; c < schema_.size(); ++c) {
    const int col = static_cast<int>(c);
    Column* column = &batch->column(c);
    Status status;
    switch (decodings_[c]) {
      case Decoding::kInt:
        status = AppendValues(result, col, schema_[c], column, [](std::string_view text, Column* out) {
          int64_t v;
          if (!ParsePgInt(text, &v)) return false;
          out->AppendInt(v);
          return true;
        });
        break;
      case Decoding::kDouble:
        status = AppendValues(result, col, schema_[c], column, [](std::string_view text, Column* out) {
          double v;
          if (!ParsePgDouble(text, &v)) return false;
          out->AppendDouble(v);
          return true;
        });
        break;
      case Decoding::kBool:
        status = AppendValues(result, col, schema_[c], column, [](std::string_view text, Column* out) {
          bool v;
          if (!ParsePgBool(text, &v)) return false;
          out->AppendInt(v ? 1 : 0);
          return true;
        });
        break;
      case Decoding::kTimestamp:
        status = AppendValues(result, col, schema_[c], column, [](std::string_view text, Column* out) {
          int64_t v;
          if (!ParsePgTimestamp(text, &v)) return false;
          out->AppendInt(v);
          return true;
        });
        break;
      case Decoding::kText:
        status = AppendValues(result, col, schema_[c], column, [](std::string_view text, Column* out) {
          out->AppendString(std::string(text));
          return true;
        });
        break;
      case Decoding::kTrimmedChar:
        status = AppendValues(result, col, schema_[c], column, [](std::string_view text, Column* out) {
          out->AppendString(std::string(TrimPadding(text)));
          return true;
        });
        break;
    }
    RETURN_IF_ERROR(status);
  }
  return Status::Ok();
}

}  // namespace fleetlog
