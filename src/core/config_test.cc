#include "core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace fleetlog {
namespace {

using ::testing::HasSubstr;

const std::map<std::string, std::string> kNoEnv;

Result<Config> Parse(const std::string& text, const std::map<std::string, std::string>& env = kNoEnv) {
  return ParseConfig(text, "/etc/fleetlog/fleetlog.toml", &env);
}

// The message of a config that must fail, with kInvalidArgument.
std::string ErrorOf(const std::string& text, const std::map<std::string, std::string>& env = kNoEnv) {
  auto config = Parse(text, env);
  EXPECT_FALSE(config.ok()) << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  return config.status().message();
}

constexpr const char* kFile = "/etc/fleetlog/fleetlog.toml";

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  auto config = Parse("[lake]\npath = \"/data/lake\"\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lake_path, "/data/lake");
  EXPECT_EQ(config->state_path, "/etc/fleetlog/fleetlog.db");
  EXPECT_EQ(config->export_.interval, Duration::Minutes(5));
  EXPECT_EQ(config->export_.lookback, Duration::Minutes(15));
  EXPECT_EQ(config->export_.initial_backfill, Duration::Days(7));
  EXPECT_EQ(config->export_.tables.size(), 8u);
  ASSERT_EQ(config->workgroups.size(), 1u);
  EXPECT_EQ(config->workgroups[0].name, "default");
}

TEST(ConfigTest, ReadsClustersTablesAndCustomQueries) {
  auto config = Parse(R"(
[export]
interval = "1h30m"
tables = ["stl_query", "sales_2000"]

[table.stl_query]
lookback = "2h"

[[cluster]]
name = "product-warehouse"
dsn = "host=pw port=5439 dbname=dev user=fleetlog"
password_secret = "pw"

[[cluster]]
name = "sim-1"
kind = "sim"
seed = 7
scale = 2.5

[[custom]]
name = "sales_2000"
cluster = "product-warehouse"
sql = "select 1"
cursor = "ts"
key = ["id"]
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->export_.interval, Duration::Minutes(90));
  ASSERT_EQ(config->clusters.size(), 2u);
  EXPECT_EQ(config->clusters[0].kind, SourceKind::kRedshift);
  EXPECT_EQ(config->clusters[0].line, 9);
  EXPECT_EQ(config->clusters[1].kind, SourceKind::kSim);
  EXPECT_EQ(config->clusters[1].seed, 7u);
  EXPECT_DOUBLE_EQ(config->clusters[1].scale, 2.5);
  EXPECT_EQ(config->table_overrides.at("stl_query").lookback, Duration::Hours(2));
  EXPECT_EQ(config->TablesOf(config->clusters[0]), (std::vector<std::string>{"stl_query", "sales_2000"}));
  EXPECT_EQ(config->TablesOf(config->clusters[1]), (std::vector<std::string>{"stl_query"}));
}

TEST(ConfigTest, UnknownKeySaysWhereAndSuggests) {
  const std::string msg = ErrorOf("[lake]\npath = \"x\"\n\n[export]\nintervall = \"5m\"\n");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":5: unknown key \"intervall\" in [export]"));
  EXPECT_THAT(msg, HasSubstr("did you mean \"interval\"?"));
}

TEST(ConfigTest, UnknownKeyFarFromAnyListsKnownKeys) {
  const std::string msg = ErrorOf("[state]\npath = \"x\"\ncolour = \"blue\"\n");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":3: unknown key \"colour\" in [state] (known keys: path)"));
}

TEST(ConfigTest, UnknownTopLevelSection) {
  EXPECT_THAT(ErrorOf("\n[lakes]\npath = \"x\"\n"), HasSubstr(std::string(kFile) + ":2: unknown key \"lakes\" in the top level (did you mean \"lake\"?)"));
}

TEST(ConfigTest, BadDurationSaysWhere) {
  const std::string msg = ErrorOf("[export]\ninterval = \"5m\"\nsettle = \"30 seconds\"\n");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":3: settle: bad duration \"30 seconds\""));
}

TEST(ConfigTest, DurationThatIsNotAString) {
  EXPECT_THAT(ErrorOf("[export]\n\nlookback = 15\n"), HasSubstr(std::string(kFile) + ":3: \"lookback\" must be a string"));
}

TEST(ConfigTest, BadDurationInTableOverride) {
  EXPECT_THAT(ErrorOf("[table.stl_scan]\nlookback = \"1y\"\n"),
              HasSubstr(std::string(kFile) + ":2: lookback: bad duration \"1y\": unknown unit \"y\""));
}

TEST(ConfigTest, DuplicateClusterNamesTheSecondOne) {
  const std::string msg = ErrorOf(R"([[cluster]]
name = "a"
kind = "sim"

[[cluster]]
name = "a"
kind = "sim"
)");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":6: duplicate cluster \"a\""));
}

TEST(ConfigTest, UnknownTableInExportTables) {
  const std::string msg = ErrorOf("[export]\ninterval = \"5m\"\ntables = [\"stl_query\", \"stl_qurey\"]\n");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":3: unknown table \"stl_qurey\""));
  EXPECT_THAT(msg, HasSubstr("known tables: stl_query"));
}

TEST(ConfigTest, UnknownTableInClusterAndTableOverride) {
  EXPECT_THAT(ErrorOf("[[cluster]]\nname = \"a\"\nkind = \"sim\"\ntables = [\"stl_nope\"]\n"),
              HasSubstr(std::string(kFile) + ":4: unknown table \"stl_nope\""));
  EXPECT_THAT(ErrorOf("\n[table.stl_nope]\nlookback = \"1h\"\n"), HasSubstr(std::string(kFile) + ":2: unknown table \"stl_nope\""));
}

TEST(ConfigTest, LiteralPasswordKeyIsRefused) {
  const std::string msg = ErrorOf(R"([[cluster]]
name = "pw"
dsn = "host=pw user=fleetlog"
password = "hunter2"
)");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":4: a literal password in [[cluster]] is not allowed"));
  EXPECT_THAT(msg, HasSubstr("password_secret"));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("hunter2")));
}

TEST(ConfigTest, PasswordInsideTheDsnIsRefused) {
  const std::string msg = ErrorOf(R"([[cluster]]
name = "pw"

dsn = "host=pw user=fleetlog password=hunter2"
)");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":4: the dsn of cluster \"pw\" holds a password"));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("hunter2")));
}

TEST(ConfigTest, PasswordInsideAUriDsnIsRefused) {
  const std::string msg = ErrorOf("[[cluster]]\nname = \"pw\"\ndsn = \"postgresql://fleetlog:hunter2@pw:5439/dev\"\n");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":3: the dsn of cluster \"pw\" holds a password"));
  EXPECT_THAT(msg, ::testing::Not(HasSubstr("hunter2")));
  // A user name without a password is fine.
  EXPECT_TRUE(Parse("[[cluster]]\nname = \"pw\"\ndsn = \"postgresql://fleetlog@pw:5439/dev\"\n").ok());
}

TEST(ConfigTest, BadTomlSaysWhere) {
  const std::string msg = ErrorOf("[lake]\npath = \"x\"\n\n[export\ninterval = \"5m\"\n");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":4: "));
  EXPECT_THAT(msg, HasSubstr("not valid TOML"));
}

TEST(ConfigTest, EveryProblemIsReportedAtOnce) {
  const std::string msg = ErrorOf("[export]\nintervall = \"5m\"\nsettle = \"x\"\n");
  EXPECT_THAT(msg, HasSubstr(":2: unknown key"));
  EXPECT_THAT(msg, HasSubstr(":3: settle: bad duration"));
}

TEST(ConfigTest, InterpolatesEnvironmentVariables) {
  const std::map<std::string, std::string> env = {{"LAKE_ROOT", "/srv/lake"}, {"PW_HOST", "pw.internal"}};
  auto config = Parse(R"([lake]
path = "${LAKE_ROOT}/main"

[[cluster]]
name = "pw"
dsn = "host=${PW_HOST} user=a$$b"
password_env = "PW_$$"
)",
                      env);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lake_path, "/srv/lake/main");
  EXPECT_EQ(config->clusters[0].dsn, "host=pw.internal user=a$b");
  EXPECT_EQ(config->clusters[0].password_env, "PW_$");
}

TEST(ConfigTest, UnsetVariableIsAnErrorWithItsLine) {
  const std::string msg = ErrorOf("[lake]\n\npath = \"${NOPE_NOT_SET}/lake\"\n");
  EXPECT_THAT(msg, HasSubstr(std::string(kFile) + ":3: environment variable NOPE_NOT_SET is not set"));
  EXPECT_THAT(ErrorOf("[lake]\npath = \"${OPEN\"\n"), HasSubstr(std::string(kFile) + ":2: unterminated ${"));
}

TEST(ConfigTest, ProcessEnvironmentIsUsedWhenNoEnvGiven) {
  ::setenv("FLEETLOG_CONFIG_TEST_VAR", "/from/env", 1);
  auto config = ParseConfig("[lake]\npath = \"${FLEETLOG_CONFIG_TEST_VAR}\"\n", "/x/fleetlog.toml");
  ::unsetenv("FLEETLOG_CONFIG_TEST_VAR");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lake_path, "/from/env");
}

TEST(ConfigTest, RelativePathsResolveAgainstTheConfigFolder) {
  test::TempDir dir;
  const std::string path = dir.Sub("conf/fleetlog.toml");
  ASSERT_TRUE(test::WriteFile(path, R"([lake]
path = "./lake"
[state]
path = "../state/fleetlog.db"
[secrets]
key_file = "/abs/fleetlog.key"
[server]
listen = "127.0.0.1:0"
)"));
  auto config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lake_path, dir.Sub("conf/lake"));
  EXPECT_EQ(config->state_path, dir.Sub("state/fleetlog.db"));
  EXPECT_EQ(config->key_file, "/abs/fleetlog.key");
  ASSERT_TRUE(config->server.has_value());
  EXPECT_EQ(config->server->results_dir, dir.Sub("state/results"));
}

TEST(ConfigTest, MissingFileSaysHowToCreateOne) {
  auto config = LoadConfig("/nonexistent/fleetlog.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("/nonexistent/fleetlog.toml: cannot read"));
  EXPECT_THAT(config.status().message(), HasSubstr("fleetlog init"));
}

TEST(ConfigTest, ExampleConfigLoads) {
  test::TempDir dir;
  const std::string path = dir.Sub("fleetlog.toml");
  ASSERT_TRUE(test::WriteFile(path, ExampleConfig("./lake")));
  auto config = LoadConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lake_path, dir.Sub("lake"));
  EXPECT_EQ(config->key_file, dir.Sub("fleetlog.key"));
  ASSERT_EQ(config->clusters.size(), 1u);
  EXPECT_EQ(config->clusters[0].name, "sim-1");
  EXPECT_EQ(config->clusters[0].kind, SourceKind::kSim);
  EXPECT_EQ(config->table_overrides.at("stl_alert_event_log").lookback, Duration::Hours(6));
  EXPECT_EQ(config->query.memory_limit_bytes, 2'000'000'000);
}

TEST(ConfigTest, ServerTokensAndWorkgroups) {
  const std::string sha(64, 'A');
  auto config = Parse("[server]\nlisten = \"0.0.0.0:9000\"\n[[server.token]]\nname = \"ci\"\nsha256 = \"" + sha +
                      "\"\nworkgroup = \"etl\"\n[[workgroup]]\nname = \"etl\"\nmax_concurrent = 2\nmemory_limit = \"512MB\"\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server->tokens[0].sha256, std::string(64, 'a'));
  ASSERT_EQ(config->workgroups.size(), 2u);
  EXPECT_EQ(config->workgroups[1].memory_limit_bytes, 512'000'000);
  EXPECT_THAT(ErrorOf("[server]\n[[server.token]]\nname = \"ci\"\nsha256 = \"" + sha + "\"\nworkgroup = \"nope\"\n"),
              HasSubstr("names workgroup \"nope\""));
}

TEST(ConfigTest, DataApiAccessKeysAndWorkgroupMapping) {
  auto config = Parse(R"([server]
[server.data_api]
region = "eu-west-1"
workgroups = { "prod-warehouse" = "small", "*" = "default" }
[[server.access_key]]
name = "analyst"
access_key_id = "AKIAFLEETLOG0001"
secret_access_key_secret = "analyst-aws"
workgroup = "small"
[[workgroup]]
name = "small"
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const auto& s = *config->server;
  EXPECT_TRUE(s.data_api.enabled);
  EXPECT_EQ(s.data_api.path, "/");
  EXPECT_EQ(s.data_api.region, "eu-west-1");
  EXPECT_EQ(s.data_api.clock_skew, Duration::Minutes(5));
  EXPECT_EQ(s.data_api.workgroups.at("prod-warehouse"), "small");
  ASSERT_EQ(s.access_keys.size(), 1u);
  EXPECT_EQ(s.access_keys[0].secret_name, "analyst-aws");
  EXPECT_EQ(s.access_keys[0].workgroup, "small");

  EXPECT_THAT(ErrorOf("[server]\n[[server.access_key]]\naccess_key_id = \"AKIA0001\"\nsecret_access_key = \"x\"\n"),
              HasSubstr("a literal secret_access_key is not allowed"));
  EXPECT_THAT(ErrorOf("[server]\n[[server.access_key]]\naccess_key_id = \"AKIA0001\"\n"),
              HasSubstr("needs exactly one of secret_access_key_secret"));
  EXPECT_THAT(ErrorOf("[server]\n[[server.access_key]]\naccess_key_id = \"AKIA0001\"\nsecret_access_key_env = \"K\"\n"
                      "workgroup = \"nope\"\n"),
              HasSubstr("names workgroup \"nope\""));
  EXPECT_THAT(ErrorOf("[server.data_api]\nworkgroups = { \"c\" = \"nope\" }\n"), HasSubstr("maps \"c\" to \"nope\""));
  EXPECT_THAT(ErrorOf("[server.data_api]\npath = \"/v1/aws\"\n"), HasSubstr("may not be under /v1/"));
}

TEST(ConfigTest, ParsesByteSizes) {
  EXPECT_EQ(*ParseByteSize("1000"), 1000);
  EXPECT_EQ(*ParseByteSize("512MB"), 512'000'000);
  EXPECT_EQ(*ParseByteSize("2GiB"), 2LL << 30);
  EXPECT_EQ(*ParseByteSize("1kib"), 1024);
  EXPECT_FALSE(ParseByteSize("MB").ok());
  EXPECT_FALSE(ParseByteSize("5 parsecs").ok());
}

TEST(ConfigTest, ValidNames) {
  EXPECT_TRUE(IsValidName("product-warehouse_2"));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName("Upper"));
  EXPECT_FALSE(IsValidName("a/b"));
  EXPECT_FALSE(IsValidName(std::string(64, 'a')));
  EXPECT_THAT(ErrorOf("[[cluster]]\nname = \"Bad Name\"\nkind = \"sim\"\n"),
              HasSubstr(std::string(kFile) + ":2: cluster name \"Bad Name\" may hold only"));
}

}  // namespace
}  // namespace fleetlog
