// Shared set-up for the tests of a whole lake in S3 (OpenStack Swift's s3api, swift_harness.h)
// driven through the `fleetlog` binary: ExportFixture's Redshift stand-ins and workload, a
// fresh bucket, the config with the lake moved into it, and the checks every such test makes
// (the lake equal to the source, the folders listed by the AWS CLI holding exactly the
// committed files, rows counted by a folder-listing reader).
// Thread-safety: one fixture per test, on the test's thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "integration/export_fixture.h"
#include "swift_harness.h"

namespace fleetlog::integration {

// What S3LakeFixture::S3Config changes in the config.
struct S3ConfigOptions {
  std::string endpoint;                // the S3 endpoint; empty: Swift's own (else a fault proxy's)
  std::string file = "fleetlog.toml";  // the config file's name in the test's folder
  std::string lake_s3;                 // more lines of [lake.s3]
  std::string export_section;          // more lines of [export]
  std::string cache_size = "64MB";     // [lake] cache_size
};

class S3LakeFixture : public ExportFixture {
 protected:
  void SetUp() override;

  std::string Root() const { return "s3://" + bucket_ + "/lake"; }

  // ExportFixture's config (with `extra`) with the lake moved into the bucket.
  Config S3Config(const std::vector<std::string>& dbs, const std::string& extra = "",
                  const S3ConfigOptions& options = {});

  // Runs `fleetlog --config <config> args...` with the test's PostgreSQL password and S3 keys.
  test::ProcessResult Fleetlog(const Config& config, const std::vector<std::string>& args,
                               std::map<std::string, std::string> env = {});

  // The lake equals every source, row for row, read through this process's own S3 reader.
  void ExpectEqual(const Config& config, const std::vector<std::string>& dbs);
  // Forgets everything local: the state store, the cache and the scratch folder.
  void LoseTheMachine(const Config& config);
  // The table files the AWS CLI lists in the bucket (lake-relative, no _fleetlog/).
  std::set<std::string> ListedTableFiles();
  // Every key the AWS CLI lists under the lake's `prefix` (lake-relative).
  std::set<std::string> ListedKeys(const std::string& prefix);
  // The rows of `table` as an engine that lists folders reads them: the AWS CLI copies the
  // table's folder out of the bucket, and a plain DuckDB counts the rows under its glob.
  int64_t FolderRows(const std::string& table);
  // The published files of the catalog.
  std::set<std::string> CommittedFiles(const Config& config);
  // Ordinary rows, many rows sharing one end time (ties), and a late row of a long query.
  void InsertRound(const std::string& db, int first) const;
  // The rows of stl_query in all of `dbs`.
  int SourceQueries(const std::vector<std::string>& dbs, const std::string& where = "true") const;

  SwiftHarness* swift_ = nullptr;
  std::string bucket_;
  int copies_ = 0;
};

}  // namespace fleetlog::integration
