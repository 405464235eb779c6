#include "storage/s3_lake.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace fleetlog {
namespace {

Config LakeConfig(std::string text) {
  auto config = ParseConfig(text, "/etc/fleetlog/fleetlog.toml", nullptr);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : Config{};
}

TEST(S3LakeTest, ConfigFirstThenEnvironmentThenDefaults) {
  Config config = LakeConfig(
      "[lake]\npath = \"s3://fleet-lake/prod/history/\"\ncache_size = \"2GB\"\n"
      "[lake.s3]\nendpoint = \"http://127.0.0.1:9000\"\nregion = \"eu-west-1\"\n");
  EXPECT_TRUE(config.lake_is_s3());
  EXPECT_EQ(config.lake_path, "s3://fleet-lake/prod/history/");  // not resolved as a folder
  EXPECT_EQ(config.lake_cache_bytes, 2'000'000'000);
  EXPECT_EQ(config.lake_cache_dir, "/etc/fleetlog/lake-cache");
  std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                            {"AWS_REGION", "us-west-2"}, {"AWS_ENDPOINT_URL", "http://ignored"}};
  auto location = ResolveS3Lake(config, env, nullptr);
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  EXPECT_EQ(location->options.bucket, "fleet-lake");
  EXPECT_EQ(location->prefix, "prod/history");
  EXPECT_EQ(location->options.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(location->options.region, "eu-west-1");
  EXPECT_TRUE(location->options.path_style);
  EXPECT_EQ(location->options.credentials.access_key_id, "AKID");

  Config bare = LakeConfig("[lake]\npath = \"s3://fleet-lake\"\n");
  location = ResolveS3Lake(bare, env, nullptr);
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(location->prefix, "");
  EXPECT_EQ(location->options.endpoint, "http://ignored");
  EXPECT_EQ(location->options.region, "us-west-2");
  env["AWS_ENDPOINT_URL_S3"] = "https://minio.internal:9000";
  EXPECT_EQ(ResolveS3Lake(bare, env, nullptr)->options.endpoint, "https://minio.internal:9000");
  env.erase("AWS_ENDPOINT_URL_S3");
  env.erase("AWS_ENDPOINT_URL");
  location = ResolveS3Lake(bare, env, nullptr);
  EXPECT_EQ(location->options.endpoint, "https://s3.us-west-2.amazonaws.com");
  EXPECT_FALSE(location->options.path_style);
}

TEST(S3LakeTest, MissingCredentialsAndBadPathsSayWhatToDo) {
  Config config = LakeConfig("[lake]\npath = \"s3://fleet-lake/x\"\n");
  Status missing = ResolveS3Lake(config, {}, nullptr).status();
  EXPECT_EQ(missing.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(missing.message().find("AWS_ACCESS_KEY_ID"), std::string::npos) << missing.ToString();

  config.lake_path = "s3://Bad_Bucket/x";
  EXPECT_EQ(ResolveS3Lake(config, {{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}}, nullptr).status().code(),
            StatusCode::kInvalidArgument);
  auto bad = ParseConfig("[lake]\npath = \"s3://\"\n[lake.s3]\nendpont = \"x\"\n", "/f.toml", nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("s3://bucket/prefix"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("did you mean \"endpoint\""), std::string::npos) << bad.status().ToString();
}

TEST(S3LakeTest, AMalformedEndpointNamesWhereItWasSet) {
  const std::map<std::string, std::string> keys = {{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}};
  for (const char* bad : {"127.0.0.1:9000", "ftp://store", "http://store/lake", "http://store:http", "https://"}) {
    SCOPED_TRACE(bad);
    Config config = LakeConfig(fmt::format("[lake]\npath = \"s3://fleet-lake\"\n[lake.s3]\nendpoint = \"{}\"\n", bad));
    Status refused = ResolveS3Lake(config, keys, nullptr).status();
    EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument) << refused.ToString();
    EXPECT_NE(refused.message().find("fix [lake.s3] endpoint"), std::string::npos) << refused.ToString();
    EXPECT_NE(refused.message().find("http(s)://host[:port]"), std::string::npos) << refused.ToString();
  }
  std::map<std::string, std::string> env = keys;
  env["AWS_ENDPOINT_URL_S3"] = "minio.internal:9000";
  Status refused = ResolveS3Lake(LakeConfig("[lake]\npath = \"s3://fleet-lake\"\n"), env, nullptr).status();
  EXPECT_NE(refused.message().find("fix AWS_ENDPOINT_URL_S3"), std::string::npos) << refused.ToString();
  env["AWS_ENDPOINT_URL_S3"] = "http://[::1]:9000/";
  EXPECT_TRUE(ResolveS3Lake(LakeConfig("[lake]\npath = \"s3://fleet-lake\"\n"), env, nullptr).ok());
}

TEST(S3LakeTest, AnEndpointThatDoesNotAnswerNamesWhereItWasSet) {
  // A loopback port nobody listens on: bound, then closed.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  Config config = LakeConfig(fmt::format("[lake]\npath = \"s3://fleet-lake\"\n[lake.s3]\nendpoint = \"http://127.0.0.1:{}\"\n",
                                         ntohs(addr.sin_port)));
  auto location = ResolveS3Lake(config, {{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}}, nullptr);
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  location->options.max_attempts = 1;
  const SystemClock clock;
  Status refused = OpenS3Lake(*location, &clock).status();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("does not answer: check [lake.s3] endpoint"), std::string::npos) << refused.ToString();
}

}  // namespace
}  // namespace fleetlog
