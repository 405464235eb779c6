// The S3 client against a real S3 implementation (Swift's s3api, which verifies SigV4), with
// Debian's AWS CLI as the independent reader, and network faults from a proxy.
#include "storage/s3_client.h"

#include <gtest/gtest.h>

#include "fault_proxy.h"
#include "swift_harness.h"

namespace fleetlog::integration {
namespace {

class S3ClientTest : public SwiftBucketTest {
 protected:
  void SetUp() override {
    SwiftBucketTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    client_ = Client(swift_->Options(bucket_));
  }

  static std::unique_ptr<S3Client> Client(const S3Options& options) {
    auto client = S3Client::Create(options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::unique_ptr<S3Client> client_;
};

std::string Bytes(size_t size, char seed) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(seed + i * 7 + (i >> 10));
  return data;
}

TEST_F(S3ClientTest, PutGetHeadListDeleteWithHiveKeys) {
  const std::string key = "lake/stl_query/cluster=a-1/dt=2026-11-30/2026 x+y é.parquet";
  const std::string data = Bytes(100'000, 'a');
  auto etag = client_->PutObject(key, data);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();

  auto whole = client_->GetObject(key);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*whole, data);
  auto range = client_->GetObject(key, 99'990, 100);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(*range, data.substr(99'990));
  auto past_end = client_->GetObject(key, 200'000, 10);
  ASSERT_TRUE(past_end.ok()) << past_end.status().ToString();
  EXPECT_EQ(*past_end, "");

  auto head = client_->HeadObject(key);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 100'000);
  EXPECT_EQ(head->etag, *etag);

  // Listing follows continuation tokens (two keys per page here).
  S3Options paged = swift_->Options(bucket_);
  paged.list_page_size = 2;
  auto lister = Client(paged);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client_->PutObject("lake/t/f" + std::to_string(i), "x").ok());
  ASSERT_TRUE(client_->PutObject("other/f", "x").ok());
  auto listed = lister->List("lake/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 6u);
  EXPECT_EQ((*listed)[0].key, key);
  EXPECT_EQ((*listed)[0].size, 100'000);
  EXPECT_EQ((*listed)[5].key, "lake/t/f4");

  // The AWS CLI reads the same object under the same key.
  test::ProcessResult ls = swift_->Aws({"s3", "ls", "--recursive", "s3://" + bucket_ + "/lake/stl_query/"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("100000 lake/stl_query/cluster=a-1/dt=2026-11-30/2026 x+y é.parquet"), std::string::npos)
      << ls.out;

  ASSERT_TRUE(client_->CopyObject(key, "lake/copy").ok());
  auto copied = client_->GetObject("lake/copy");
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(*copied, data);

  ASSERT_TRUE(client_->DeleteObject(key).ok());
  EXPECT_TRUE(client_->DeleteObject(key).ok());  // absent: still fine
  EXPECT_EQ(client_->HeadObject(key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->GetObject(key).status().code(), StatusCode::kNotFound);
}

TEST_F(S3ClientTest, MultipartUploadAndAbort) {
  const std::string part1 = Bytes(5 << 20, 'p'), part2 = Bytes(12'345, 'q');
  auto upload = client_->CreateMultipartUpload("big/file.parquet");
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  auto first = client_->UploadPart("big/file.parquet", *upload, 1, part1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = client_->UploadPart("big/file.parquet", *upload, 2, part2);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto etag = client_->CompleteMultipartUpload("big/file.parquet", *upload, {*first, *second},
                                               {Md5(part1), Md5(part2)});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_TRUE(etag->ends_with("-2")) << *etag;
  auto read = client_->GetObject("big/file.parquet");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == part1 + part2);

  test::ProcessResult cp = swift_->Aws({"s3", "cp", "s3://" + bucket_ + "/big/file.parquet", "-"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_TRUE(cp.out == part1 + part2);

  auto aborted = client_->CreateMultipartUpload("big/aborted");
  ASSERT_TRUE(aborted.ok());
  ASSERT_TRUE(client_->UploadPart("big/aborted", *aborted, 1, part1).ok());
  ASSERT_TRUE(client_->AbortMultipartUpload("big/aborted", *aborted).ok());
  EXPECT_EQ(client_->HeadObject("big/aborted").status().code(), StatusCode::kNotFound);
}

TEST_F(S3ClientTest, ConditionalCreateDetectedAsUnsupported) {
  // Swift 2.30 refuses If-None-Match on PUT with 501; AWS S3 honours it.
  auto outcome = client_->CreateObject("lease", "owner");
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(*outcome, CreateOutcome::kUnsupported);
  EXPECT_EQ(client_->HeadObject("lease").status().code(), StatusCode::kNotFound);
}

TEST_F(S3ClientTest, WrongCredentialsAndMissingBucketSayWhatToDo) {
  S3Options wrong = swift_->Options(bucket_);
  wrong.credentials.secret_access_key = "not-the-secret";
  Status refused = Client(wrong)->PutObject("x", "y").status();
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied) << refused.ToString();
  EXPECT_NE(refused.message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << refused.ToString();

  Status missing = Client(swift_->Options("no-such-bucket-here"))->CheckBucket();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound) << missing.ToString();
  EXPECT_NE(missing.message().find("\"no-such-bucket-here\" does not exist"), std::string::npos) << missing.ToString();
}

TEST_F(S3ClientTest, RetriesResetsErrorsAndStallsThenGivesUp) {
  auto proxy = FaultProxy::Start(swift_->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status().ToString();
  S3Options options = swift_->Options(bucket_);
  options.endpoint = fmt::format("http://127.0.0.1:{}", (*proxy)->port());
  options.max_attempts = 6;
  options.low_speed_seconds = 1;
  auto client = Client(options);
  const std::string data = Bytes(300'000, 'r');

  (*proxy)->Inject(FaultProxy::Fault::kReset, 1);
  (*proxy)->Inject(FaultProxy::Fault::kError503, 1);
  (*proxy)->Inject(FaultProxy::Fault::kError500, 1);
  (*proxy)->Inject(FaultProxy::Fault::kStall, 1);
  auto put = client->PutObject("faulty", data);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ((*proxy)->faults_injected(), 4);
  auto read = client_->GetObject("faulty");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(*read == data);

  // More faults than attempts: a clear, retryable error.
  (*proxy)->Inject(FaultProxy::Fault::kError503, 6);
  Status gave_up = Client(options)->PutObject("faulty2", data).status();
  EXPECT_EQ(gave_up.code(), StatusCode::kUnavailable) << gave_up.ToString();
  EXPECT_NE(gave_up.message().find("gave up after 6 attempts"), std::string::npos) << gave_up.ToString();
  EXPECT_EQ(client_->HeadObject("faulty2").status().code(), StatusCode::kNotFound);
}

TEST_F(S3ClientTest, ServerStoppedMidUpload) {
  const std::string part1 = Bytes(5 << 20, 's'), part2 = Bytes(1000, 't');
  auto upload = client_->CreateMultipartUpload("mid/upload");
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  auto first = client_->UploadPart("mid/upload", *upload, 1, part1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  ASSERT_TRUE(swift_->StopProxy().ok());
  auto lost = client_->UploadPart("mid/upload", *upload, 2, part2);
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable) << lost.status().ToString();
  ASSERT_TRUE(swift_->StartProxy().ok());

  // Nothing is visible until the upload completes; resuming it completes it.
  EXPECT_EQ(client_->HeadObject("mid/upload").status().code(), StatusCode::kNotFound);
  auto second = client_->UploadPart("mid/upload", *upload, 2, part2);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(
      client_->CompleteMultipartUpload("mid/upload", *upload, {*first, *second}, {Md5(part1), Md5(part2)}).ok());
  auto head = client_->HeadObject("mid/upload");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, static_cast<int64_t>(part1.size() + part2.size()));
}

}  // namespace
}  // namespace fleetlog::integration
