#include "core/config.h"
#include "core/config_example.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

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
  EXPECT_EQ(config->export_.tables.size(), 18u);  // both families; each cluster takes those it has
  EXPECT_EQ(config->export_.part, Duration::Days(1));
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
tags = ["prod", "team:bi"]

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
  EXPECT_TRUE(config->clusters[0].tags.empty());
  EXPECT_EQ(config->clusters[1].tags, (std::vector<std::string>{"prod", "team:bi"}));
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

TEST(ConfigTest, ViewFamiliesDecideEachClustersTables) {
  auto config = Parse(R"([[cluster]]
name = "prov"
dsn = "host=a"

[[cluster]]
name = "prov-sys"
dsn = "host=b"
views = "sys"

[[cluster]]
name = "serverless"
kind = "redshift-serverless"
dsn = "host=c"

[[cluster]]
name = "both"
dsn = "host=d"
views = "both"

[[cluster]]
name = "sim-sl"
kind = "sim"
views = "sys"
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const auto& c = config->clusters;
  EXPECT_EQ(c[2].kind, SourceKind::kRedshiftServerless);
  EXPECT_EQ(c[2].views, ViewFamily::kSys);
  EXPECT_EQ(config->TablesOf(c[0]).size(), 8u);
  EXPECT_EQ(config->TablesOf(c[0])[0], "stl_query");
  EXPECT_EQ(config->TablesOf(c[1]).size(), 9u);  // no sys_serverless_usage on a provisioned cluster
  EXPECT_EQ(config->TablesOf(c[1])[0], "sys_query_history");
  EXPECT_EQ(config->TablesOf(c[2]).size(), 10u);
  EXPECT_EQ(config->TablesOf(c[2]).back(), "sys_serverless_usage");
  EXPECT_EQ(config->TablesOf(c[3]).size(), 17u);
  EXPECT_EQ(config->TablesOf(c[4]).size(), 10u);
}

TEST(ConfigTest, ViewsMistakesSayWhereAndWhatToSet) {
  EXPECT_THAT(ErrorOf("[[cluster]]\nname = \"a\"\nkind = \"redshift-serverless\"\ndsn = \"host=a\"\nviews = \"stl\"\n"),
              HasSubstr(std::string(kFile) + ":5: Redshift Serverless has only the SYS monitoring views"));
  EXPECT_THAT(ErrorOf("[[cluster]]\nname = \"a\"\ndsn = \"host=a\"\nviews = \"sql\"\n"),
              HasSubstr(std::string(kFile) + ":4: unknown views \"sql\" (use stl, sys or both)"));
  EXPECT_THAT(ErrorOf("[[cluster]]\nname = \"a\"\nkind = \"postgres\"\ndsn = \"host=a\"\nviews = \"sys\"\n"),
              HasSubstr(":5: \"views\" applies to Redshift clusters only"));
  EXPECT_THAT(ErrorOf("[[cluster]]\nname = \"a\"\nkind = \"redshift-serverless\"\ndsn = \"host=a\"\n"
                      "tables = [\"stl_query\"]\n"),
              HasSubstr(":5: cluster \"a\" lists stl_query, but its views = \"sys\" does not have it"));
  EXPECT_THAT(ErrorOf("[[cluster]]\nname = \"a\"\ndsn = \"host=a\"\nviews = \"sys\"\ntables = [\"sys_serverless_usage\"]\n"),
              HasSubstr(":5: cluster \"a\" lists sys_serverless_usage, which exists on Redshift Serverless only"));
  EXPECT_THAT(ErrorOf("[export]\npart = \"10s\"\n"), HasSubstr(":2: part must be at least 1m"));
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

// Issue 11: libpq reads the dsn, so every spelling it accepts is caught.
TEST(ConfigTest, PasswordInAnySpellingLibpqAcceptsIsRefused) {
  for (const std::string dsn : {"postgresql://pw:5439/dev?password=hunter2", "postgres://u@pw/dev?sslmode=require&password=hunter2",
                                "host=pw\\npassword=hunter2", "host=pw user=fleetlog\\tpassword = 'hunter2'",
                                "host=pw  port=5439 password=hunter2", "postgresql://u:hunter2@pw/dev"}) {
    const std::string msg = ErrorOf("[[cluster]]\nname = \"pw\"\ndsn = \"" + dsn + "\"\n");
    EXPECT_THAT(msg, HasSubstr("holds a password")) << dsn;
    EXPECT_THAT(msg, ::testing::Not(HasSubstr("hunter2"))) << dsn;
  }
  const std::string bad = ErrorOf("[[cluster]]\nname = \"pw\"\ndsn = \"host=pw hunter2\"\n");
  EXPECT_THAT(bad, HasSubstr("not a libpq connection string"));
  EXPECT_THAT(bad, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_TRUE(Parse("[[cluster]]\nname = \"pw\"\ndsn = \"host=pw dbname=password_tests\"\n").ok());
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

// `fleetlog init` writes every section with its defaults commented: uncommented, they load
// and equal the defaults the code uses, so the file never shows a stale default.
TEST(ConfigTest, ExampleConfigCommentsShowTheDefaults) {
  const std::string example = ExampleConfig("./lake", "/var/lib/fleetlog");
  for (const char* section : {"[lake]", "[state]", "[secrets]", "[export]", "[query]", "# [server]", "# [[server.token]]",
                              "# [server.data_api]", "# [[server.access_key]]",
                              "# [[workgroup]]", "[detect]", "[upkeep]", "[[cluster]]", "# [[custom]]", "[table."})
    EXPECT_NE(example.find(std::string("\n") + section), std::string::npos) << section;
  std::string uncommented, line;
  bool open = false;  // inside a block whose commented keys are defaults
  std::istringstream in(example);
  while (std::getline(in, line)) {
    if (line.rfind("[", 0) == 0 || line.rfind("# [", 0) == 0) {
      open = line.rfind("# [server]", 0) == 0 || line.rfind("# [server.data_api]", 0) == 0 ||
             line.rfind("# [[workgroup]]", 0) == 0 ||
             line.rfind("[detect]", 0) == 0 || line.rfind("[upkeep]", 0) == 0;
      if (open && line[0] == '#') line = line.substr(2);
    } else if (open && line.rfind("# ", 0) == 0 && line.find(" = ") != std::string::npos &&
               line.rfind("# tls_", 0) != 0) {
      line = line.substr(2);
    }
    uncommented += line + "\n";
  }
  auto config = ParseConfig(uncommented, "/etc/fleetlog/fleetlog.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString() << "\n" << uncommented;
  EXPECT_EQ(config->state_path, "/var/lib/fleetlog/fleetlog.db");
  const UpkeepConfig upkeep;
  EXPECT_TRUE(config->upkeep.enabled);
  EXPECT_EQ(config->upkeep.every, upkeep.every);
  EXPECT_EQ(config->upkeep.grace, upkeep.grace);
  EXPECT_EQ(config->upkeep.target_file_bytes, upkeep.target_file_bytes);
  EXPECT_EQ(config->upkeep.max_files_per_partition, upkeep.max_files_per_partition);
  EXPECT_EQ(config->upkeep.rollup_keep, upkeep.rollup_keep);
  EXPECT_EQ(config->detect.bucket, DetectConfig{}.bucket);
  ASSERT_TRUE(config->server.has_value());
  const ServerConfig server;
  EXPECT_EQ(config->server->listen, server.listen);
  EXPECT_EQ(config->server->result_ttl, server.result_ttl);
  EXPECT_EQ(config->server->result_cap_bytes, server.result_cap_bytes);
  EXPECT_EQ(config->server->max_body_bytes, server.max_body_bytes);
  EXPECT_EQ(config->server->request_timeout, server.request_timeout);
  EXPECT_EQ(config->server->data_api.enabled, server.data_api.enabled);
  EXPECT_EQ(config->server->data_api.path, server.data_api.path);
  EXPECT_EQ(config->server->data_api.region, server.data_api.region);
  EXPECT_EQ(config->server->data_api.database, server.data_api.database);
  EXPECT_EQ(config->server->data_api.clock_skew, server.data_api.clock_skew);
  const WorkgroupConfig workgroup;
  ASSERT_EQ(config->workgroups.size(), 1u);
  EXPECT_EQ(config->workgroups[0].max_concurrent, workgroup.max_concurrent);
  EXPECT_EQ(config->workgroups[0].max_queued, workgroup.max_queued);
  EXPECT_EQ(config->workgroups[0].timeout, workgroup.timeout);
  EXPECT_EQ(config->workgroups[0].memory_limit_bytes, workgroup.memory_limit_bytes);
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
