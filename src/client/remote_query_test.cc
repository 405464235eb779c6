#include "client/remote_query.h"

#include <gtest/gtest.h>

#include <vector>

namespace fleetlog::client {
namespace {

std::optional<QuickQuery> Parse(std::vector<const char*> args, const char* env_server = nullptr) {
  args.insert(args.begin(), "fleetlog");
  return ParseQuickQuery(static_cast<int>(args.size()), args.data(), env_server);
}

TEST(QuickQueryTest, TakesTheCommonFormsOfQueryOnAServer) {
  auto q = Parse({"query", "--server", "http://h:1", "SELECT 1"});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->server, "http://h:1");
  EXPECT_EQ(q->sql, "SELECT 1");
  EXPECT_FALSE(q->format);
  EXPECT_FALSE(q->crlf);

  q = Parse({"--config", "/etc/f.toml", "query", "--format=json", "SELECT 2", "--server=http://h:2"});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->server, "http://h:2");
  EXPECT_EQ(q->format, "json");
  EXPECT_EQ(q->sql, "SELECT 2");

  q = Parse({"--config=x.toml", "query", "--crlf", "--format", "csv", "--", "-"}, "http://env:3");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->server, "http://env:3");  // from $FLEETLOG_SERVER
  EXPECT_TRUE(q->crlf);
  EXPECT_EQ(q->sql, "-");
  EXPECT_EQ(Parse({"query", "-"}, "http://env:3")->sql, "-");  // stdin
  // --server wins over the environment.
  EXPECT_EQ(Parse({"query", "--server", "http://flag:4", "SELECT 1"}, "http://env:3")->server, "http://flag:4");
}

// Anything else goes to the engine's full parser, which prints help, usage errors or runs
// the command locally: the shortcut must not guess.
TEST(QuickQueryTest, LeavesEverythingElseToTheFullParser) {
  const std::vector<std::vector<const char*>> others = {
      {"query", "SELECT 1"},                  // no server: a local query
      {"query", "--server", "", "SELECT 1"},  // an empty server
      {"status"},                             // another command
      {"--version"},
      {"query", "--server", "http://h:1", "--help", "SELECT 1"},           // help
      {"-v", "query", "--server", "http://h:1", "SELECT 1"},               // a global flag it does not know
      {"query", "--server", "http://h:1", "--format", "xml", "SELECT 1"},  // a bad format: the parser says so
      {"query", "--server", "http://h:1", "--format", "csv", "--format", "json", "SELECT 1"},
      {"query", "--server", "http://h:1", "SELECT 1", "SELECT 2"},  // two statements
      {"query", "--server", "http://h:1", "--json", "SELECT 1"},    // not an option of query
      {"query", "--server", "http://h:1"},                          // no SQL
      {"query", "--server"},
      {"query", "--server", "http://h:1", "-x"},
      {"--config"},
      {},
  };
  for (const auto& args : others) {
    std::string line;
    for (const char* a : args) line += std::string(a) + " ";
    EXPECT_FALSE(Parse(args)) << line;
  }
  EXPECT_FALSE(Parse({"status"}, "http://env:3"));
}

TEST(RemoteQueryTest, NumericTypeNamesAreTheOnesJsonPrintsBare) {
  for (const char* t :
       {"TINYINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UHUGEINT", "DOUBLE", "FLOAT", "DECIMAL(18,3)"})
    EXPECT_TRUE(IsNumericTypeName(t)) << t;
  for (const char* t : {"VARCHAR", "BOOLEAN", "DATE", "TIMESTAMP", "INTERVAL", "UUID", "LIST"})
    EXPECT_FALSE(IsNumericTypeName(t)) << t;
}

TEST(RemoteQueryTest, RefusesAUrlWithoutAScheme) {
  EXPECT_TRUE(CheckServerUrl("http://localhost:8080").ok());
  EXPECT_TRUE(CheckServerUrl("https://fleetlog.internal/prefix").ok());
  EXPECT_EQ(CheckServerUrl("localhost:8080").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckServerUrl("ftp://x").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fleetlog::client
