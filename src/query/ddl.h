// Table definitions of the lake for other engines (`fleetlog ddl`): the statements that
// register every lake table, and the text-reassembly views over them, in each engine's
// dialect, so that Athena, Glue, Trino, Spark or DuckDB reads the lake as it is:
//   athena  CREATE EXTERNAL TABLE with partition projection (dt a date projection from the
//           lake's first day to NOW, cluster an enum of the configured clusters), views in
//           Athena's (Trino's) SQL;
//   glue    the same tables as `aws glue create-table` commands (TableInput JSON), views
//           through `aws athena start-query-execution`;
//   trino   the Hive connector: CREATE TABLE ... WITH (external_location, partitioned_by),
//           then system.sync_partition_metadata(..., 'FULL') to find the partitions;
//   spark   CREATE TABLE ... USING parquet PARTITIONED BY, then MSCK REPAIR TABLE;
//   duckdb  views over read_parquet with hive partitioning.
// Every identifier is quoted in the dialect's way, so reserved words (database, rows, ...)
// are safe. Column types follow each engine's names for the lake's Parquet types.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "query/engine.h"

namespace fleetlog {

enum class DdlEngine { kAthena, kGlue, kTrino, kSpark, kDuckDb };
// "athena", "glue", "trino", "spark" or "duckdb"; kInvalidArgument otherwise.
Result<DdlEngine> ParseDdlEngine(std::string_view name);

struct DdlInput {
  std::vector<LakeTable> tables;      // name and stored columns (without cluster and dt)
  std::vector<std::string> clusters;  // the configured clusters: Athena's cluster enum
  std::string location;               // the lake's root: "s3://bucket/prefix" or a folder
  std::string database = "fleetlog";  // the schema (Trino), database (Athena, Glue, Spark)
  std::string first_day;              // YYYY-MM-DD: the start of Athena's dt projection
};

// The statements for `engine`, separated by blank lines, each ending in ';' (shell commands
// for glue). kInvalidArgument when the engine needs an object-store location and
// `input.location` is a local folder (athena and glue).
Result<std::string> TableDefinitions(DdlEngine engine, const DdlInput& input);

}  // namespace fleetlog
