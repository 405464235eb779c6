// `fleetlog query --server URL` against a real `fleetlog serve` process: the same statements
// print byte for byte what a local `query` prints, in every format and across result pages;
// tokens, failures, a server that is not there and Ctrl-C behave as a user expects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "client/remote_query.h"
#include "core/sigv4.h"
#include "duck/duck.h"
#include "query/format.h"
#include "service_process.h"
#include "test_util.h"

extern char** environ;

namespace fleetlog {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr const char* kToken = "remote-query-test-token";

const TableSchema kSchema = {{"query", ColumnType::kInt64},
                             {"starttime", ColumnType::kTimestamp},
                             {"elapsed", ColumnType::kDouble},
                             {"aborted", ColumnType::kBool},
                             {"querytxt", ColumnType::kVarchar}};

// The client knows numeric columns by the type names the API sends (it has no DuckDB); a local
// query knows them by DuckDB's types. Both lists must agree, or the two would align and print
// numbers differently: every type DuckDB names, numeric or not, is judged the same by both.
TEST(NumericTypesTest, TheClientsListOfNumericTypeNamesMatchesTheEngines) {
  auto db = duck::Database::OpenInMemory({});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto conn = duck::Connection::Open(*db);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto r = (*conn)->Query(
      "SELECT 1::TINYINT, 1::SMALLINT, 1::INTEGER, 1::BIGINT, 1::HUGEINT, 1::UTINYINT, 1::USMALLINT, 1::UINTEGER, "
      "1::UBIGINT, 1::UHUGEINT, 1::FLOAT, 1::DOUBLE, 1.5::DECIMAL(4,1), 1.5::DECIMAL(38,10), true, 'x', DATE "
      "'2026-01-01', "
      "TIMESTAMP '2026-01-01', TIMESTAMPTZ '2026-01-01', TIME '01:00', INTERVAL 1 HOUR, 'a'::BLOB, uuid(), [1], "
      "{'a': 1}, 1::BIT::VARCHAR, NULL");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_GT(r->column_count(), 20u);
  int numeric = 0;
  for (size_t c = 0; c < r->column_count(); ++c) {
    const std::string name = r->column_type_name(c);
    EXPECT_EQ(IsNumericType(r->column_type(c)), client::IsNumericTypeName(name)) << name;
    numeric += IsNumericType(r->column_type(c)) ? 1 : 0;
  }
  EXPECT_GE(numeric, 13);
}

class CliRemoteQueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    auto port = test::FreeLoopbackPort();
    ASSERT_TRUE(port.ok());
    port_ = *port;
    // One config for both: a local query ignores [server].
    config_ = test::WriteMinimalConfig(dir_->path(), "[server]\nlisten = \"127.0.0.1:" + std::to_string(port_) +
                                                         "\"\n\n[[server.token]]\nname = \"test\"\nsha256 = \"" +
                                                         sigv4::Sha256Hex(kToken) + "\"\n");
    auto state = OpenSqliteStateStore(dir_->Sub("fleetlog.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok());
    RowBatch b(kSchema);
    const std::vector<std::optional<std::string>> texts = {"select 1", std::nullopt, "",
                                                           "Gr\xC3\xBC\xC3\x9F"
                                                           "e \xE4\xB8\x96\xE7\x95\x8C \"q\"\nline, comma\ttab\r\nend",
                                                           "a\r\nb"};
    for (size_t i = 0; i < texts.size(); ++i) {
      b.column(0).AppendInt(static_cast<int64_t>(i + 1));
      b.column(1).AppendInt(ParseTimestamp("2026-03-01 00:00:00.000001")->micros() +
                            static_cast<int64_t>(i) * 3'600'000'000LL);
      i == 1 ? b.column(2).AppendNull() : b.column(2).AppendDouble(0.1 * static_cast<double>(i) - 1e-7);
      i == 1 ? b.column(3).AppendNull() : b.column(3).AppendInt(static_cast<int64_t>(i % 2));
      texts[i] ? b.column(4).AppendString(*texts[i]) : b.column(4).AppendNull();
    }
    auto written = test::WriteToLake(**state, LakeLayout(dir_->Sub("lake")),
                                     {"stl_query", "alpha", "starttime", {"query"}, std::nullopt}, b);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    state->reset();

    server_ = new test::ServiceProcess();
    Status s = server_->Start({test::FleetlogBinary(), "--config", config_, "serve"}, dir_->Sub("serve.log"), port_);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  static std::string Url() { return "http://127.0.0.1:" + std::to_string(port_); }
  static test::ProcessOptions WithToken() {
    test::ProcessOptions o;
    o.env["FLEETLOG_TOKEN"] = kToken;
    return o;
  }
  static test::ProcessResult Remote(std::vector<std::string> args) {
    args.insert(args.begin(), {"query", "--server", Url()});
    return test::RunFleetlog(args, WithToken());
  }
  static test::ProcessResult Local(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config_, "query"});
    return test::RunFleetlog(args);
  }

  static test::TempDir* dir_;
  static std::string config_;
  static int port_;
  static test::ServiceProcess* server_;
};
test::TempDir* CliRemoteQueryTest::dir_ = nullptr;
std::string CliRemoteQueryTest::config_;
int CliRemoteQueryTest::port_ = 0;
test::ServiceProcess* CliRemoteQueryTest::server_ = nullptr;

TEST_F(CliRemoteQueryTest, PrintsWhatALocalQueryPrints) {
  const std::vector<std::string> statements = {
      "SELECT * FROM stl_query ORDER BY query",
      "SELECT query, querytxt, length(querytxt) AS n, querytxt IS NULL AS missing FROM stl_query ORDER BY query DESC",
      "SELECT 1 AS one, 2.25::DECIMAL(5,2) AS m, 18446744073709551615::UBIGINT AS big, 1e300 AS huge, "
      "170141183460469231731687303715884105727::HUGEINT AS h, '' AS empty, NULL AS nothing, DATE '2026-03-01' AS d",
      // More rows than a page of the API (1,000): the client follows next_token.
      "SELECT range AS i, range * 0.5 AS half, 'r' || range AS t FROM range(2345)",
      "SELECT * FROM stl_query WHERE false",
  };
  for (const auto& sql : statements) {
    for (std::vector<std::string> flags : {std::vector<std::string>{"--format", "csv"},
                                           {"--format", "csv", "--crlf"},
                                           {"--format", "json"},
                                           {"--format", "table"},
                                           {}}) {
      std::vector<std::string> args = flags;
      args.push_back(sql);
      auto remote = Remote(args);
      auto local = Local(args);
      ASSERT_EQ(local.exit_code, 0) << sql << "\n" << local.err;
      EXPECT_EQ(remote.exit_code, 0) << sql << "\n" << remote.err;
      EXPECT_EQ(remote.err, "");
      EXPECT_EQ(remote.out, local.out) << sql << " with " << ::testing::PrintToString(flags);
    }
  }
  // A command line the executable's shortcut does not take (-v) runs the same way in the
  // engine's own `query --server`.
  const std::string sql = "SELECT * FROM stl_query ORDER BY query";
  test::ProcessOptions verbose = WithToken();
  auto engine = test::RunFleetlog({"-v", "query", "--server", Url(), "--format", "json", sql}, verbose);
  EXPECT_EQ(engine.exit_code, 0) << engine.err;
  EXPECT_EQ(engine.out, Local({"--format", "json", sql}).out);

  // The SQL from stdin, as locally.
  test::ProcessOptions piped = WithToken();
  piped.stdin_data = "SELECT count(*) AS n FROM stl_query";
  auto stdin_sql = test::RunFleetlog({"query", "--server", Url(), "-"}, piped);
  EXPECT_EQ(stdin_sql.exit_code, 0) << stdin_sql.err;
  EXPECT_EQ(stdin_sql.out, "n\n5\n");
}

// FLEETLOG_SERVER names the server: no config, no lake and no state are needed here.
TEST_F(CliRemoteQueryTest, ServerFromTheEnvironmentNeedsNoConfig) {
  test::TempDir empty;
  test::ProcessOptions o = WithToken();
  o.env["FLEETLOG_SERVER"] = Url() + "/";
  o.working_dir = empty.path();
  auto r = test::RunFleetlog({"query", "--format", "csv", "SELECT max(query) AS q FROM stl_query"}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "q\n5\n");
}

TEST_F(CliRemoteQueryTest, FailuresAreClearAndExitAsLocally) {
  auto bad_sql = Remote({"SELECT no_such_column FROM stl_query"});
  EXPECT_EQ(bad_sql.exit_code, 1);
  EXPECT_THAT(bad_sql.err, HasSubstr("no_such_column"));
  EXPECT_EQ(bad_sql.out, "");

  auto refused = Remote({"COPY stl_query TO '/tmp/x.csv'"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("query failed"));

  auto no_token = test::RunFleetlog({"query", "--server", Url(), "SELECT 1"}, {.unset_env = {"FLEETLOG_TOKEN"}});
  EXPECT_EQ(no_token.exit_code, 1);
  EXPECT_THAT(no_token.err, HasSubstr("HTTP 401"));

  auto port = test::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  auto nobody = test::RunFleetlog({"query", "--server", "http://127.0.0.1:" + std::to_string(*port), "SELECT 1"});
  EXPECT_EQ(nobody.exit_code, 1);
  EXPECT_THAT(nobody.err, HasSubstr("connect"));

  auto bad_url = test::RunFleetlog({"query", "--server", "127.0.0.1:8080", "SELECT 1"});
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_THAT(bad_url.err, HasSubstr("http://"));
}

// Ctrl-C while the statement runs: the client exits 130 and the statement is cancelled on the
// server, so that it does not hold a workgroup's slot.
TEST_F(CliRemoteQueryTest, InterruptCancelsTheStatementOnTheServer) {
  const std::string binary = test::FleetlogBinary();
  const std::string url = Url();
  const std::string sql = "SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3 -- interrupt me";
  std::vector<const char*> argv = {binary.c_str(), "query", "--server", url.c_str(), sql.c_str(), nullptr};
  std::vector<std::string> env_text = {std::string("FLEETLOG_TOKEN=") + kToken};
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).rfind("FLEETLOG_", 0) != 0) envp.push_back(*e);
  envp.push_back(env_text[0].data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, binary.c_str(), nullptr, nullptr, const_cast<char* const*>(argv.data()), envp.data()), 0);

  httplib::Client api("127.0.0.1", port_);
  const httplib::Headers auth = {{"Authorization", std::string("Bearer ") + kToken}};
  const auto find = [&](const std::string& status) -> std::string {
    auto res = api.Get("/v1/statements?status=" + status, auth);
    if (!res || res->status != 200) return "";
    const json list = json::parse(res->body);
    for (const auto& s : list["statements"])
      if (s.value("sql", "") == sql) return s.value("id", "");
    return "";
  };
  std::string id;
  for (int i = 0; i < 600 && id.empty(); ++i) {
    id = find("STARTED");
    if (id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(id.empty()) << "the statement never started: " << [&] {
    auto res = api.Get("/v1/statements", auth);
    return res ? std::to_string(res->status) + " " + res->body : std::string("no answer");
  }();
  ASSERT_EQ(kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::string end;
  for (int i = 0; i < 200; ++i) {
    auto res = api.Get("/v1/statements/" + id, auth);
    ASSERT_TRUE(res && res->status == 200);
    end = json::parse(res->body).value("status", "");
    if (end != "STARTED" && end != "PICKED") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(end, "ABORTED");
}

// The client library answers http:// without loading libcurl (and the TLS, Kerberos and LDAP
// libraries behind it), which would be half of a `query --server`'s time.
TEST(ClientLibraryTest, LinksNoLibcurl) {
  const std::string binary = test::FleetlogBinary();
  const std::string library = binary.substr(0, binary.rfind('/')) + "/libfleetlog-client.so";
  FILE* pipe = popen(("readelf -d " + library).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string dynamic;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) dynamic.append(buffer, n);
  ASSERT_EQ(pclose(pipe), 0) << "readelf (binutils) is needed";
  EXPECT_THAT(dynamic, HasSubstr("libstdc++"));  // the listing is the library's own
  EXPECT_THAT(dynamic, ::testing::Not(HasSubstr("libcurl")));
}

// An https:// server is asked through libcurl (the engine's library: the client library has
// no TLS), which checks its certificate: a self-signed one is refused, saying why.
TEST(HttpsRemoteQueryTest, AnUntrustedCertificateIsRefused) {
  test::TempDir dir;
  const std::string cert = dir.Sub("cert.pem"), key = dir.Sub("key.pem");
  const std::string make_cert =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " 2>/dev/null";
  ASSERT_EQ(std::system(make_cert.c_str()), 0) << "openssl (Debian package openssl) is needed: " << make_cert;
  auto port = test::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  const std::string config = test::WriteMinimalConfig(
      dir.path(),
      fmt::format("[server]\nlisten = \"127.0.0.1:{}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n", *port, cert, key));
  test::ServiceProcess server;
  Status started = server.Start({test::FleetlogBinary(), "--config", config, "serve"}, dir.Sub("serve.log"), *port);
  ASSERT_TRUE(started.ok()) << started.message();
  auto r = test::RunFleetlog({"query", "--server", fmt::format("https://127.0.0.1:{}", *port), "SELECT 1"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.err, HasSubstr("POST https://127.0.0.1:"));
  EXPECT_THAT(r.err, HasSubstr("certificate"));
}

}  // namespace
}  // namespace fleetlog
