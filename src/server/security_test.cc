// Regression tests of issue 11 through the HTTP API: what a token holder's SQL can reach.
// Each case failed on 408bc7a (the adversarial probe's findings) and must keep failing.
#include <gmock/gmock.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "api_test_fixture.h"

namespace fleetlog::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec))
    if (!it->is_directory()) out.push_back(it->path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class SecurityApiTest : public ApiTest {
 protected:
  ServerOptions Options() {
    ServerOptions o = DefaultOptions();
    o.workgroups.push_back({.name = "mem", .timeout = Duration::Seconds(5), .memory_limit_bytes = 256LL << 20});
    return o;
  }
  std::string lake() const { return dir_ + "/lake"; }
  std::string results() const { return dir_ + "/results"; }
};

TEST_F(SecurityApiTest, ExplainTricksCannotWriteTheLakeOrResults) {
  StartServer(Options());
  // Another workgroup's stored result, and the lake, as they are before the attack.
  const std::string victim = Submit({{"sql", "SELECT 42 AS answer"}, {"workgroup", "small"}});
  ASSERT_EQ(WaitFor(victim)["status"], "FINISHED");
  const std::string victim_rows = results() + "/" + victim + "/1/rows.jsonl";
  const std::string before = Slurp(victim_rows);
  const std::vector<std::string> lake_before = FilesUnder(lake());
  std::string committed;
  for (const auto& f : lake_before)
    if (f.ends_with(".parquet")) committed = f;
  ASSERT_FALSE(committed.empty());
  const std::string committed_bytes = Slurp(committed);

  const std::vector<std::string> targets = {lake() + "/a.csv", victim_rows, committed,
                                            fs::path(committed).parent_path().string() + "/planted.parquet",
                                            results() + "/00000000-0000-0000-0000-000000000000/statement.json"};
  for (const auto& target : targets) {
    const std::string copy = "copy (select 42) to '" + target + "'";
    for (const std::string& sql :
         {"explain ( /* ) select 1; -- */ analyze ) " + copy, "EXPLAIN (/* ) */ ANALYZE) " + copy,
          "explain analyze -- )\n" + copy, "explain (analyze, format json) " + copy, "eXpLaIn AnAlYzE " + copy,
          "explain analyze copy (select $$)$$) to '" + target + "' (format csv)", copy}) {
      json d = WaitFor(Submit({{"sql", sql}}));
      EXPECT_EQ(d["status"], "FAILED") << sql;
    }
  }
  EXPECT_EQ(FilesUnder(lake()), lake_before);
  EXPECT_EQ(Slurp(committed), committed_bytes);
  EXPECT_EQ(Slurp(victim_rows), before);
  EXPECT_FALSE(fs::exists(results() + "/00000000-0000-0000-0000-000000000000"));
  auto [status, page] = Get("/v1/statements/" + victim + "/result");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(page["records"][0][0], 42);
}

TEST_F(SecurityApiTest, ResultsFolderAndOtherFilesAreUnreadable) {
  StartServer(Options());
  const std::string victim = Submit({{"sql", "SELECT 'secret rows' AS s"}, {"workgroup", "small"}});
  ASSERT_EQ(WaitFor(victim)["status"], "FINISHED");
  const std::string rows = results() + "/" + victim + "/1/rows.jsonl";
  ASSERT_THAT(Slurp(rows), HasSubstr("secret rows"));
  for (const std::string& sql :
       {"select * from glob('" + results() + "/*')", "select * from glob('" + results() + "/**')",
        "select * from read_text('" + rows + "')", "select * from read_blob('" + rows + "')",
        "select * from read_csv('" + rows + "')", "select * from read_json('" + results() + "/" + victim +
        "/statement.json')", "select * from read_text('" + dir_ + "/state.db')", std::string("select * from read_text('/etc/passwd')"),
        "select * from glob('" + lake() + "/*')", "select count(*) from read_parquet('" + lake() + "/**/*.parquet')",
        "select * from read_text('" + lake() + "/_fleetlog/*')"}) {
    json d = WaitFor(Submit({{"sql", sql}}));
    EXPECT_EQ(d["status"], "FAILED") << sql;
    EXPECT_THAT(d.value("error", ""), AnyOf(HasSubstr("Permission Error"), HasSubstr("No files found"))) << sql;
  }
}

TEST_F(SecurityApiTest, ScanLimitCountsWhatCanBeRead) {
  StartServer(Options());
  for (const std::string& sql :
       {std::string("select count(*) from query_table('stl_query')"), std::string("select count(*) from query_table($$stl_query$$)"),
        std::string("select count(*) from query_table($q$STL_QUERY$q$)"), std::string("from \"Stl_Query\""),
        std::string("select count(*) from stl_query")}) {
    json d = WaitFor(Submit({{"sql", sql}, {"workgroup", "tiny_scan"}}));
    EXPECT_EQ(d["status"], "FAILED") << sql;
    EXPECT_THAT(d.value("error", ""), HasSubstr("max_scan_bytes")) << sql;
  }
  // Names the engine does not make a view for, and globs, read nothing at all.
  for (const std::string& sql : {std::string("select count(*) from query_table('stl_' || 'query')"),
                                 "select count(*) from read_parquet('" + lake() + "/**/*.parquet')"}) {
    json d = WaitFor(Submit({{"sql", sql}, {"workgroup", "tiny_scan"}}));
    EXPECT_EQ(d["status"], "FAILED") << sql;
    EXPECT_THAT(d.value("error", ""), Not(HasSubstr("max_scan_bytes"))) << sql;
  }
  // A glob whose path names a table: over the limit (the view's files count) or refused.
  json glob = WaitFor(Submit({{"sql", "select count(*) from read_parquet('" + lake() + "/stl_query/*/*/*.parquet')"},
                              {"workgroup", "tiny_scan"}}));
  EXPECT_EQ(glob["status"], "FAILED");
  // In a workgroup without a scan limit the glob is still refused: no folder can be listed.
  json unlimited = WaitFor(Submit({{"sql", "select count(*) from read_parquet('" + lake() + "/stl_query/*/*/*.parquet')"}}));
  EXPECT_EQ(unlimited["status"], "FAILED");
  EXPECT_THAT(unlimited.value("error", ""), HasSubstr("Permission Error"));
  EXPECT_EQ(WaitFor(Submit({{"sql", "SELECT 'no table' AS x"}, {"workgroup", "tiny_scan"}}))["status"], "FINISHED");
}

// The probe's 24-28 s and ~2 GB: a string built outside DuckDB's buffer pool. The worker's
// data limit stops it; this process (the server) does not grow.
TEST_F(SecurityApiTest, MemoryAndTimeAreBoundedForEveryStatement) {
  StartServer(Options());
  json big = WaitFor(Submit({{"sql", "select length(repeat('x', 1000000000)) as n"}, {"workgroup", "mem"}}));
  EXPECT_EQ(big["status"], "FAILED") << big.dump();
  EXPECT_THAT(big.value("error", ""), AnyOf(HasSubstr("memory"), HasSubstr("Memory"))) << big.dump();
  json many = WaitFor(Submit({{"sql", "select count(*) from (select repeat('x', 1000000) || i::varchar as s from "
                                      "range(2000) t(i) order by s)"},
                              {"workgroup", "mem"}}));
  EXPECT_EQ(many["status"], "FAILED") << many.dump();
  // The server process itself never held the statement's memory.
  std::ifstream status("/proc/self/status");
  std::string line;
  int64_t hwm_kb = 0;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) hwm_kb = std::stoll(line.substr(6));
  EXPECT_LT(hwm_kb, 700 << 10) << "the test process's peak RSS in KiB";
  // Other statements still run.
  EXPECT_EQ(WaitFor(Submit({{"sql", "SELECT 1"}, {"workgroup", "mem"}}))["status"], "FINISHED");
}

TEST_F(SecurityApiTest, SymlinkInTheLakeIsNotFollowed) {
  // Every name of committed Parquet files, table folders' and reader names alike.
  int replaced = 0;
  for (const auto& f : FilesUnder(lake()))
    if (f.ends_with(".parquet")) {
      fs::remove(f);
      fs::create_symlink("/etc/passwd", f);
      ++replaced;
    }
  ASSERT_GT(replaced, 0);
  StartServer(Options());
  json d = WaitFor(Submit({{"sql", "SELECT count(*) FROM stl_query"}}));
  EXPECT_EQ(d["status"], "FAILED");
  EXPECT_THAT(d.value("error", ""), HasSubstr("symlink"));
}

TEST_F(SecurityApiTest, FilesTheServerWritesArePrivate) {
  StartServer(Options());
  const std::string id = Submit({{"sql", "SELECT 1 AS one"}});
  ASSERT_EQ(WaitFor(id)["status"], "FINISHED");
  for (const auto& path : {results(), results() + "/" + id, results() + "/" + id + "/1"})
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_all) << path;
  for (const auto& path : FilesUnder(results() + "/" + id)) {
    // The server may still rewrite statement.json (through a temporary file it renames): a
    // temporary file listed and renamed before it is looked at has no permissions to check.
    const fs::file_status status = fs::status(path);
    if (!fs::exists(status)) continue;
    EXPECT_EQ(status.permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write) << path;
  }
}

TEST_F(SecurityApiTest, OneServerPerResultsFolder) {
  StartServer(Options());
  Server second(Options(), state_.get());
  Status s = second.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("another fleetlog server uses the result folder"));
  EXPECT_EQ(Get("/v1/workgroups").first, 200);
}

// Records are read back from disk at start: planted or altered ones are dropped, not trusted.
TEST_F(SecurityApiTest, RestoredRecordsAreValidated) {
  StartServer(Options());
  const std::string real = Submit({{"sql", "SELECT 7 AS seven"}});
  ASSERT_EQ(WaitFor(real)["status"], "FINISHED");
  server_->Stop();
  server_.reset();
  const json record = json::parse(Slurp(results() + "/" + real + "/statement.json"));
  const auto plant = [&](const std::string& id, json r) {
    fs::create_directories(results() + "/" + id);
    std::ofstream(results() + "/" + id + "/statement.json") << r.dump();
  };
  json ghost = record;
  ghost["id"] = "11111111-1111-1111-1111-111111111111";
  ghost["workgroup"] = "ghost";
  plant(ghost["id"], ghost);
  json other_id = record;  // a copy under another folder keeps the first id
  plant("22222222-2222-2222-2222-222222222222", other_id);
  json future = record;
  future["id"] = "33333333-3333-3333-3333-333333333333";
  future["created"] = int64_t{1} << 62;
  plant(future["id"], future);
  json failed_with_result = record;
  failed_with_result["id"] = "44444444-4444-4444-4444-444444444444";
  failed_with_result["subs"][0]["status"] = "FAILED";
  plant(failed_with_result["id"], failed_with_result);
  StartServer(Options());
  EXPECT_EQ(Describe(real)["status"], "FINISHED");
  for (const char* id : {"11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
                         "33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-444444444444"}) {
    EXPECT_EQ(Get(std::string("/v1/statements/") + id).first, 404) << id;
    EXPECT_FALSE(fs::exists(results() + "/" + id)) << id;
  }
}

}  // namespace
}  // namespace fleetlog::testing
