// Decoding of libpq results in PostgreSQL's text format into RowBatches: the type OIDs a
// result declares choose the lake column type, and hand-written parsers turn each value's
// text into that type. This is the hot loop of an export, so nothing here allocates per
// value except the strings a VARCHAR column must own.
// Thread-safety: the parsers are pure functions; a PgResultDecoder is immutable once built
// and may be shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "core/status.h"
#include "core/row_batch.h"

namespace fleetlog {

// OIDs of the built-in types fleetlog decodes; Redshift reports the same numbers.
namespace pg_oid {
inline constexpr Oid kBool = 16;
inline constexpr Oid kInt8 = 20;
inline constexpr Oid kInt2 = 21;
inline constexpr Oid kInt4 = 23;
inline constexpr Oid kFloat4 = 700;
inline constexpr Oid kFloat8 = 701;
inline constexpr Oid kBpchar = 1042;  // char(n)
inline constexpr Oid kTimestamp = 1114;
inline constexpr Oid kTimestamptz = 1184;
inline constexpr Oid kNumeric = 1700;
}  // namespace pg_oid

// int2/int4 -> kInt32, int8 -> kInt64, float4/float8/numeric -> kDouble, bool -> kBool,
// timestamp/timestamptz -> kTimestamp, anything else (char, varchar, text, name, ...) -> kVarchar.
ColumnType ColumnTypeForOid(Oid type);

// Parsers of single values in the text format. Each returns false, leaving *out unchanged,
// when `text` is not a value of its type.
bool ParsePgInt(std::string_view text, int64_t* out);
// Also "NaN", "Infinity" and "-Infinity", as float8 and numeric print them.
bool ParsePgDouble(std::string_view text, double* out);
bool ParsePgBool(std::string_view text, bool* out);
// "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]][ BC]" (datestyle ISO) to µs since the epoch,
// UTC; an offset, as timestamptz carries, is subtracted. "infinity" and "-infinity" become
// INT64_MAX and -INT64_MAX, as DuckDB encodes them.
bool ParsePgTimestamp(std::string_view text, int64_t* micros);

// Turns the rows of text-format results that share one row type (the FETCHes of one
// cursor) into RowBatch rows.
class PgResultDecoder {
 public:
  // Learns the row type from `result`: column names lower-cased, types by OID. A char(n)
  // column loses its trailing blanks unless its name is in `keep_padding`.
  PgResultDecoder(const PGresult* result, const std::vector<std::string>& keep_padding);

  const TableSchema& schema() const { return schema_; }

  // Appends every row of `result` to `batch`. REQUIRES: batch->schema() == schema() and
  // `result` has the row type this decoder was built from. On a value that does not parse,
  // returns kCorruption naming the column and the value; `batch` then holds a partial row
  // and must be discarded.
  Status Append(const PGresult* result, RowBatch* batch) const;

 private:
  enum class Decoding : uint8_t { kInt, kDouble, kBool, kTimestamp, kText, kTrimmedChar };

  TableSchema schema_;
  std::vector<Decoding> decodings_;
};

}  // namespace fleetlog
