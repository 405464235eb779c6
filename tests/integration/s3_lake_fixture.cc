#include "integration/s3_lake_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "duck/duck.h"
#include "storage/s3_lake.h"

namespace fleetlog::integration {

void S3LakeFixture::SetUp() {
  ExportFixture::SetUp();
  if (IsSkipped() || HasFatalFailure()) return;
  if (!SwiftHarness::Available()) GTEST_SKIP() << "OpenStack Swift is not installed";
  auto swift = SwiftHarness::Shared();
  ASSERT_TRUE(swift.ok()) << swift.status().ToString();
  swift_ = *swift;
  auto bucket = swift_->CreateUniqueBucket(::testing::UnitTest::GetInstance()->current_test_info()->name());
  ASSERT_TRUE(bucket.ok()) << bucket.status().ToString();
  bucket_ = *bucket;
  // The in-process readers of the test find the same credentials as the fleetlog processes.
  setenv("AWS_ACCESS_KEY_ID", SwiftHarness::kAccessKey, 1);
  setenv("AWS_SECRET_ACCESS_KEY", SwiftHarness::kSecretKey, 1);
  unsetenv("AWS_SESSION_TOKEN");
}

Config S3LakeFixture::S3Config(const std::vector<std::string>& dbs, const std::string& extra,
                               const S3ConfigOptions& options) {
  std::string text = ConfigText(dbs, extra, options.export_section);
  const std::string local = fmt::format("[lake]\npath = \"{}/lake\"\n", dir_.path());
  const size_t at = text.find(local);
  EXPECT_NE(at, std::string::npos);
  text.replace(at, local.size(),
               fmt::format("[lake]\npath = \"{}\"\ncache_dir = \"{}\"\ncache_size = \"{}\"\n"
                           "[lake.s3]\nendpoint = \"{}\"\nregion = \"{}\"\npath_style = true\n{}",
                           Root(), dir_.Sub("cache"), options.cache_size,
                           options.endpoint.empty() ? swift_->Endpoint() : options.endpoint, SwiftHarness::kRegion,
                           options.lake_s3));
  const std::string path = dir_.Sub(options.file);
  EXPECT_TRUE(test::WriteFile(path, text));
  auto config = LoadConfig(path);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : Config{};
}

test::ProcessResult S3LakeFixture::Fleetlog(const Config& config, const std::vector<std::string>& args,
                                            std::map<std::string, std::string> env) {
  std::vector<std::string> argv = {"--config", config.file};
  argv.insert(argv.end(), args.begin(), args.end());
  env.try_emplace(kPasswordEnv, PgHarness::kPassword);
  env.try_emplace("AWS_ACCESS_KEY_ID", SwiftHarness::kAccessKey);
  env.try_emplace("AWS_SECRET_ACCESS_KEY", SwiftHarness::kSecretKey);
  return test::RunFleetlog(argv, {.env = env, .unset_env = {"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                                                            "AWS_ENDPOINT_URL_S3", "AWS_REGION"}});
}

void S3LakeFixture::ExpectEqual(const Config& config, const std::vector<std::string>& dbs) {
  auto s3 = S3Lake::Open(config, nullptr, Env::Default());
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  for (size_t i = 0; i < dbs.size(); ++i) ExpectLakeEqualsSource(config, fmt::format("c{}", i), dbs[i]);
}

void S3LakeFixture::LoseTheMachine(const Config& config) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(config.state_path + suffix, ec);
  std::filesystem::remove_all(config.lake_cache_dir, ec);
  std::filesystem::remove_all(dir_.Sub("lake-scratch"), ec);
}

std::set<std::string> S3LakeFixture::ListedKeys(const std::string& prefix) {
  test::ProcessResult ls = swift_->Aws({"s3", "ls", "--recursive", Root() + "/" + prefix});
  // `aws s3 ls` exits 1 when nothing matches.
  EXPECT_TRUE(ls.exit_code == 0 || (ls.exit_code == 1 && ls.out.empty())) << ls.err;
  std::set<std::string> out;
  std::istringstream lines(ls.out);
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find(" lake/");
    if (at != std::string::npos) out.insert(line.substr(at + 6));
  }
  return out;
}

std::set<std::string> S3LakeFixture::ListedTableFiles() {
  std::set<std::string> out;
  for (const std::string& key : ListedKeys("")) {
    if (!key.starts_with("_fleetlog/") && key.ends_with(".parquet")) out.insert(key);
  }
  return out;
}

int64_t S3LakeFixture::FolderRows(const std::string& table) {
  const std::string copy = dir_.Sub("copy-" + std::to_string(++copies_));
  test::ProcessResult cp = swift_->Aws({"s3", "cp", "--recursive", "--only-show-errors", Root() + "/" + table, copy});
  EXPECT_EQ(cp.exit_code, 0) << cp.err;
  auto db = duck::Database::OpenInMemory({});
  EXPECT_TRUE(db.ok());
  if (!db.ok()) return -1;
  auto conn = duck::Connection::Open(*db);
  auto n = (*conn)->Query(fmt::format("SELECT count(*) FROM read_parquet('{}/**/*.parquet', union_by_name = true)", copy));
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return n.ok() ? n->int64(0, 0) : -1;
}

std::set<std::string> S3LakeFixture::CommittedFiles(const Config& config) {
  auto state = OpenSqliteStateStore(config.state_path, OpenMode::kReadOnly);
  EXPECT_TRUE(state.ok()) << state.status().ToString();
  std::set<std::string> out;
  if (!state.ok()) return out;
  auto files = (*state)->ListFiles({.states = {FileState::kPublished}});
  EXPECT_TRUE(files.ok());
  for (const auto& f : *files) out.insert(f.path);
  return out;
}

void S3LakeFixture::InsertRound(const std::string& db, int first) const {
  InsertQueries(db, first, 20, "getdate() - interval '3 seconds' - (q % 5) * interval '1 second'",
                "getdate() - interval '1 hour'");
  InsertQueries(db, first + 20, 15, "date_trunc('second', getdate()) - interval '2 seconds'",
                "date_trunc('second', getdate()) - interval '25 seconds'");
  InsertQueries(db, first + 35, 1, "getdate() - interval '2 seconds'", "getdate() - interval '5 hours'");
}

int S3LakeFixture::SourceQueries(const std::vector<std::string>& dbs, const std::string& where) const {
  int total = 0;
  for (const auto& db : dbs) {
    auto n = pg_->QueryInt(db, "SELECT count(*) FROM stl_query WHERE " + where);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    total += n.ok() ? *n : 0;
  }
  return total;
}

}  // namespace fleetlog::integration
