// `fleetlog restore` against a lake in Swift: the bucket alone rebuilds the state store.
#include <gtest/gtest.h>

#include "lake/journal.h"
#include "storage/s3_env.h"
#include "swift_harness.h"

namespace fleetlog::integration {
namespace {

class S3RestoreTest : public SwiftBucketTest {
 protected:
  std::unique_ptr<S3Env> NewEnv(const SystemClock* clock) {
    auto client = S3Client::Create(swift_->Options(bucket_));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return std::make_unique<S3Env>(std::move(*client), clock);
  }

  test::ProcessResult Fleetlog(const std::vector<std::string>& args, const std::string& secret = SwiftHarness::kSecretKey) {
    const std::string config = dir_.Sub("s3.toml");
    EXPECT_TRUE(test::WriteFile(
        config, fmt::format("[lake]\npath = \"s3://{}/lake\"\n\n[lake.s3]\nendpoint = \"{}\"\nregion = \"{}\"\n"
                            "path_style = true\n\n[state]\npath = \"{}\"\n",
                            bucket_, swift_->Endpoint(), SwiftHarness::kRegion, dir_.Sub("restored.db"))));
    std::vector<std::string> argv = {"--config", config};
    argv.insert(argv.end(), args.begin(), args.end());
    test::ProcessOptions options;
    options.env = {{"AWS_ACCESS_KEY_ID", SwiftHarness::kAccessKey}, {"AWS_SECRET_ACCESS_KEY", secret}};
    options.unset_env = {"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION"};
    return test::RunFleetlog(argv, options);
  }

  test::TempDir dir_;
};

NewFile File(const std::string& name, int64_t rows) {
  NewFile f;
  f.table = "stl_query";
  f.cluster = "c1";
  f.dt = "2026-11-30";
  f.path = "stl_query/cluster=c1/dt=2026-11-30/" + name;
  f.staging_path = "_fleetlog/staging/" + name;
  f.rows = rows;
  f.bytes = 7;
  f.checksum = "sum-" + name;
  f.columns = "query BIGINT";
  return f;
}

TEST_F(S3RestoreTest, RestoreRebuildsTheStateFromTheBucketAlone) {
  SystemClock clock;
  auto env = NewEnv(&clock);
  const std::string root = "s3://" + bucket_ + "/lake";
  {
    auto local = OpenSqliteStateStore(dir_.Sub("lost.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(local.ok());
    auto state = JournaledStateStore::Open(std::move(*local), env.get(), root);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    const Timestamp cursors[] = {*ParseTimestamp("2026-11-30 01:00:00"), *ParseTimestamp("2026-11-30 02:00:00")};
    for (int i = 0; i < 2; ++i) {
      NewFile f = File(fmt::format("{}.parquet", i), 10 + i);
      ASSERT_TRUE(env->WriteFile(root + "/" + f.staging_path, "parquet").ok());  // uploaded before its commit
      CommitRequest request;
      request.add = {f};
      request.cursor = CursorRecord{"c1", "stl_query", cursors[i], cursors[i]};
      request.run.cluster = "c1";
      request.run.table = "stl_query";
      request.run.rows_written = f.rows;
      ASSERT_TRUE((*state)->Commit(request).ok());
      ASSERT_TRUE(env->Publish(root + "/" + f.staging_path, root + "/" + f.path).ok());
    }
  }  // the machine is lost with its state

  test::ProcessResult ls = swift_->Aws({"s3", "ls", "--recursive", root + "/"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("lake/_fleetlog/journal/00000000000000000002.json"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("lake/stl_query/cluster=c1/dt=2026-11-30/1.parquet"), std::string::npos) << ls.out;

  test::ProcessResult restored = Fleetlog({"restore"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.out.find("2 journal records, 2 files"), std::string::npos) << restored.out;

  auto state = OpenSqliteStateStore(dir_.Sub("restored.db"), OpenMode::kReadOnly);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  auto cursor = (*state)->GetCursor("c1", "stl_query");
  ASSERT_TRUE(cursor.ok() && cursor->has_value());
  EXPECT_EQ(**cursor, *ParseTimestamp("2026-11-30 02:00:00"));
  auto files = (*state)->ListFiles({});
  ASSERT_EQ(files->size(), 2u);
  for (const auto& f : *files) EXPECT_EQ(f.state, FileState::kPublished) << f.path;
  EXPECT_EQ((*state)->RecentRuns(10)->size(), 2u);

  // A second restore does not overwrite local state by accident.
  test::ProcessResult again = Fleetlog({"restore"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  EXPECT_EQ(Fleetlog({"restore", "--force"}).exit_code, 0);

  test::ProcessResult refused = Fleetlog({"restore", "--force"}, "wrong-secret");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("access refused"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace fleetlog::integration
