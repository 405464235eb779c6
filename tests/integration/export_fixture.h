// Shared set-up for the exporter's integration tests: a Redshift stand-in database on the
// real PostgreSQL server of pg_harness.h, a config and lake in a temp folder, a workload
// writer that inserts consistent rows into all eight STL tables, and the comparison of the
// lake with the source by every column of every table.
// Thread-safety: one fixture per test, on the test's thread.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "exporter/cycle.h"
#include "integration/pg_harness.h"
#include "test_util.h"

namespace fleetlog::integration {

// The password tests hand to fleetlog through password_env.
inline constexpr const char* kPasswordEnv = "FLEETLOG_TEST_PG_PASSWORD";

class ExportFixture : public ::testing::Test {
 protected:
  void SetUp() override;

  // A config with one redshift cluster per database in `dbs` (named c0, c1, ...), plus `extra`.
  std::string ConfigText(const std::vector<std::string>& dbs, const std::string& extra = "",
                         const std::string& export_section = "") const;
  Config MakeConfig(const std::string& text) const;
  // One cycle in process (lock, recovery, RunCycle), as `fleetlog export` does.
  CycleReport Cycle(const Config& config, const CycleOptions& options = {}) const;

  // Inserts queries first_query .. first_query + count - 1 into every STL table of `db`.
  // `end_sql` and `start_sql` are SQL expressions of q (the query id) and getdate().
  void InsertQueries(const std::string& db, int first_query, int count, const std::string& end_sql,
                     const std::string& start_sql) const;
  // Inserts `pieces` 200-character text pieces for query `query` (stl_querytext) and the
  // same text as a DDL statement; returns the full text with \n decoded.
  std::string InsertLongText(const std::string& db, int query, int pieces) const;

  // The rows of `table` as text lines (every spec column, timestamps as epoch µs, char
  // padding removed except in pieces), sorted: from the source, and from the lake.
  std::vector<std::string> SourceRows(const std::string& db, const std::string& table) const;
  std::vector<std::string> LakeRows(const Config& config, const std::string& cluster, const std::string& table) const;
  // Every system table `cluster` exports, row for row.
  void ExpectLakeEqualsSource(const Config& config, const std::string& cluster, const std::string& db) const;

  PgHarness* pg_ = nullptr;
  std::string db_;
  test::TempDir dir_;
};

}  // namespace fleetlog::integration
