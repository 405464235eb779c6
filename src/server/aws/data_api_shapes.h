// The Redshift Data API's shapes (the 2019-12-20 model, current version) written from
// fleetlog's statement and result types:
//   - a result cell is a Field union with exactly one member (isNull, booleanValue,
//     longValue, doubleValue or stringValue); the column's type decides which;
//   - ColumnMetadata carries Redshift's type names (int4, int8, float8, varchar, ...);
//   - timestamps are JSON numbers of epoch seconds; Duration is in nanoseconds; sizes and
//     row counts not known yet are -1.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/time.h"
#include "server/result_store.h"
#include "server/statements.h"

namespace fleetlog {

double EpochSeconds(Timestamp t);

// DescribeStatement's output for a statement or batch (with SubStatements).
nlohmann::json DescribeStatementJson(const StatementInfo& info);
// One StatementData of ListStatements' output.
nlohmann::json StatementDataJson(const StatementInfo& info);

// Redshift's name for a DuckDB type name: "INTEGER" -> "int4", "DECIMAL(18,3)" -> "numeric".
std::string RedshiftTypeName(std::string_view duckdb_type);
// ColumnMetadata for a result column or a table column.
nlohmann::json ColumnMetadataJson(const ResultColumn& column, const std::string& schema = "",
                                  const std::string& table = "");

// Turns one stored page (comma-separated JSON arrays, StoredResult::PageRecords) into the
// JSON text of GetStatementResult's Records: an array of rows of Fields. Fails with
// kCorruption when the stored page is not what the result store writes.
Result<std::string> FieldRecords(std::string_view page_records, const std::vector<ResultColumn>& columns);

}  // namespace fleetlog
