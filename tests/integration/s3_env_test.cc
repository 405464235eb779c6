// The object-store Env against Swift's S3 API: the Env contract as the lake uses it, multipart
// streams, publish, and the single-writer lease without conditional writes.
#include "storage/s3_env.h"

#include <gtest/gtest.h>

#include <atomic>

#include "swift_harness.h"

namespace fleetlog::integration {
namespace {

// A clock the test moves by hand.
class ManualClock final : public Clock {
 public:
  Timestamp Now() const override { return Timestamp::FromMicros(now_.load()); }
  void Advance(Duration d) { now_ += d.micros(); }

 private:
  std::atomic<int64_t> now_{Timestamp::Now().micros()};
};

class S3EnvTest : public SwiftBucketTest {
 protected:
  void SetUp() override {
    SwiftBucketTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    env_ = NewEnv();
    root_ = "s3://" + bucket_ + "/lake";
  }

  std::unique_ptr<S3Env> NewEnv() {
    auto client = S3Client::Create(swift_->Options(bucket_));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    S3EnvOptions options;
    options.part_size = 5 << 20;
    options.lease_duration = Duration::Minutes(1);
    options.lease_settle = Duration::Millis(50);
    return std::make_unique<S3Env>(std::move(*client), &clock_, options);
  }

  ManualClock clock_;
  std::string root_;
  std::unique_ptr<S3Env> env_;
};

TEST_F(S3EnvTest, FilesNamesAndPublish) {
  const std::string staged = root_ + "/_fleetlog/staging/x.parquet";
  const std::string final = root_ + "/stl_query/cluster=a/dt=2026-11-30/x.parquet";
  ASSERT_TRUE(env_->WriteFile(staged, "0123456789").ok());
  EXPECT_EQ(*env_->ReadFile(staged), "0123456789");
  EXPECT_EQ(*env_->ReadRange(staged, 3, 4), "3456");
  EXPECT_EQ(*env_->ReadRange(staged, 8, 100), "89");
  EXPECT_EQ(*env_->FileSize(staged), 10);
  EXPECT_TRUE(*env_->FileExists(staged));
  EXPECT_TRUE(*env_->FileExists(root_ + "/_fleetlog"));  // a "folder" is a prefix
  EXPECT_FALSE(*env_->FileExists(final));
  EXPECT_EQ(env_->ReadFile(final).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(env_->CreateDir(root_ + "/anything").ok());
  EXPECT_EQ(env_->LocalPath(final), "");
  EXPECT_EQ(env_->WriteFile("s3://another-bucket/x", "y").code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(env_->Publish(staged, final).ok());
  EXPECT_FALSE(*env_->FileExists(staged));
  EXPECT_EQ(*env_->ReadFile(final), "0123456789");
  EXPECT_TRUE(env_->Publish(staged, final).ok());  // again after a crash: harmless

  auto listed = env_->ListFiles(root_);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "stl_query/cluster=a/dt=2026-11-30/x.parquet");
  EXPECT_EQ((*listed)[0].size, 10);
  EXPECT_TRUE(env_->ListFiles(root_ + "/nothing")->empty());

  ASSERT_TRUE(env_->WriteFile(root_ + "/stl_query/cluster=b/dt=2026-11-30/y.parquet", "y").ok());
  ASSERT_TRUE(env_->DeleteTree(root_ + "/stl_query").ok());
  EXPECT_TRUE(env_->ListFiles(root_)->empty());
  EXPECT_TRUE(env_->DeleteFile(final).ok());  // absent
}

TEST_F(S3EnvTest, StreamsAppearWholeAtClose) {
  const std::string path = root_ + "/big.parquet";
  std::string data;
  for (int i = 0; data.size() < (11u << 20); ++i) data += fmt::format("row {:08} of a large file\n", i);
  {
    auto file = env_->NewWritableFile(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(std::string_view(data).substr(0, 6 << 20)).ok());  // one part uploaded
    EXPECT_FALSE(*env_->FileExists(path));
    ASSERT_TRUE((*file)->Append(std::string_view(data).substr(6 << 20)).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    EXPECT_FALSE(*env_->FileExists(path));
    ASSERT_TRUE((*file)->Close().ok());
  }
  auto read = env_->ReadFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == data);
  test::ProcessResult cp = swift_->Aws({"s3", "cp", path, "-"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_TRUE(cp.out == data);

  {  // Abandoned before Close: the upload is aborted, nothing appears.
    auto file = env_->NewWritableFile(root_ + "/abandoned");
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(data).ok());
  }
  EXPECT_FALSE(*env_->FileExists(root_ + "/abandoned"));
  // A large WriteFile goes through multipart too.
  ASSERT_TRUE(env_->WriteFile(root_ + "/whole", data).ok());
  EXPECT_EQ(*env_->FileSize(root_ + "/whole"), static_cast<int64_t>(data.size()));
}

TEST_F(S3EnvTest, OneWriterPerLakeThroughALease) {
  const std::string lease = root_ + "/_fleetlog/writer.lease";
  auto first = env_->LockFile(lease, "fleetlog pid 111 on host-a");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto* held = dynamic_cast<S3Lease*>(first->get());
  ASSERT_NE(held, nullptr);
  EXPECT_TRUE(held->Valid().ok());

  // A second writer (its own Env, as another machine would have) is refused, told who holds it.
  auto other_env = NewEnv();
  auto second = other_env->LockFile(lease, "fleetlog pid 222 on host-b");
  ASSERT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("fleetlog pid 111 on host-a"), std::string::npos)
      << second.status().ToString();

  // Released: the next writer gets it.
  first->reset();
  auto third = other_env->LockFile(lease, "fleetlog pid 222 on host-b");
  ASSERT_TRUE(third.ok()) << third.status().ToString();

  // A lease whose holder died (no renewal, no release) is taken over once it has expired.
  third->reset();
  ASSERT_TRUE(env_->WriteFile(lease, fmt::format(R"({{"owner":"fleetlog pid 999 on host-dead","token":"dead",)"
                                                 R"("expires":"{}"}})",
                                                 FormatTimestampIso(clock_.Now() + Duration::Minutes(1))))
                  .ok());
  auto refused = env_->LockFile(lease, "fleetlog pid 333 on host-c");
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("host-dead"), std::string::npos) << refused.status().ToString();
  clock_.Advance(Duration::Minutes(2));
  auto taken = env_->LockFile(lease, "fleetlog pid 333 on host-c");
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_NE(env_->ReadFile(lease)->find("host-c"), std::string::npos);
}

}  // namespace
}  // namespace fleetlog::integration
