// Regression tests of issue 11 through the real binary: `fleetlog query` as an attacker
// with a shell would use it, and the files fleetlog leaves behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fleetlog {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const TableSchema kSchema = {{"query", ColumnType::kInt64}, {"starttime", ColumnType::kTimestamp}};

class CliSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test::WriteMinimalConfig(dir_.path(), "[query]\nmemory_limit = \"256MB\"\nthreads = 1\n");
    auto state = OpenSqliteStateStore(dir_.Sub("fleetlog.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(state.ok());
    RowBatch b(kSchema);
    for (int i = 0; i < 3; ++i) {
      b.column(0).AppendInt(i);
      b.column(1).AppendInt(ParseTimestamp("2026-03-01")->micros() + i);
    }
    LakeLayout lake(dir_.Sub("lake"));
    ASSERT_TRUE(test::WriteToLake(**state, lake, {"stl_query", "alpha", "starttime", {"query"}, std::nullopt}, b).ok());
  }
  test::ProcessResult Query(const std::string& sql) {
    return test::RunFleetlog({"--config", config_, "query", "--format", "csv", sql});
  }
  std::vector<std::string> LakeFiles() {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_.Sub("lake")))
      if (!e.is_directory()) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  test::TempDir dir_;
  std::string config_;
};

TEST_F(CliSecurityTest, ExplainAndFileTricksAreRefused) {
  const std::vector<std::string> before = LakeFiles();
  const std::string target = dir_.Sub("lake") + "/a.csv";
  const std::string copy = "copy (select 42) to '" + target + "'";
  for (const std::string& sql :
       {"explain ( /* ) select 1; -- */ analyze ) " + copy, "EXPLAIN (/* ) */ ANALYZE) " + copy,
        "explain analyze -- x\n" + copy, "EXPLAIN (ANALYZE, FORMAT JSON) " + copy,
        "explain analyze copy (select $$)$$) to '" + target + "'", "explain analyze export database '" + dir_.Sub("exp") + "'",
        "export database '" + dir_.Sub("exp") + "'", "select * from glob('" + dir_.path() + "/*')",
        "select * from read_text('" + dir_.Sub("fleetlog.db") + "')",
        "select count(*) from read_parquet('" + dir_.Sub("lake") + "/**/*.parquet')"}) {
    auto r = Query(sql);
    EXPECT_EQ(r.exit_code, 1) << sql << "\n" << r.out << r.err;
    EXPECT_EQ(r.out, "") << sql;
  }
  EXPECT_EQ(LakeFiles(), before);
  EXPECT_FALSE(fs::exists(dir_.Sub("exp")));
  auto ok = Query("explain analyze select count(*) from stl_query");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// The probe's statement ran 24-28 s and took ~2 GB under a 256 MB [query] memory_limit.
TEST_F(CliSecurityTest, QueryMemoryLimitHoldsForStringsOutsideTheBufferPool) {
  auto r = Query("select length(repeat('x', 1000000000)) as n");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("emory")) << r.err;
}

TEST_F(CliSecurityTest, SymlinkedCommittedFileIsNotFollowed) {
  std::string committed;
  for (const auto& f : LakeFiles())
    if (f.ends_with(".parquet")) committed = f;
  ASSERT_FALSE(committed.empty());
  fs::remove(committed);
  fs::create_symlink("/etc/passwd", committed);
  auto r = Query("select * from stl_query");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("symlink"));
  EXPECT_THAT(r.out + r.err, ::testing::Not(HasSubstr("root:")));
  auto verify = test::RunFleetlog({"--config", config_, "verify", "--quick"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_THAT(verify.out, HasSubstr("symlink"));
}

TEST_F(CliSecurityTest, FilesFleetlogCreatesArePrivate) {
  const std::string dir = dir_.Sub("fresh");
  // `fleetlog demo` writes a state store, a lake with staging, and a key.
  auto demo = test::RunFleetlog({"demo", "--clusters", "1", "--days", "1", "--dir", dir});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const auto perms = e.symlink_status().permissions() & (fs::perms::group_all | fs::perms::others_all);
    EXPECT_EQ(perms, fs::perms::none) << e.path();
    ++checked;
  }
  EXPECT_GT(checked, 3);
}

TEST_F(CliSecurityTest, UnknownTableAndClusterNamesAreUsageErrors) {
  auto exported = test::RunFleetlog({"--config", config_, "export", "--table", "stl_nope"});
  EXPECT_EQ(exported.exit_code, 2) << exported.err;
  EXPECT_THAT(exported.err, HasSubstr("\"stl_nope\""));
  auto compacted = test::RunFleetlog({"--config", config_, "compact", "--table", "stl_nope"});
  EXPECT_EQ(compacted.exit_code, 2) << compacted.out << compacted.err;
  EXPECT_THAT(compacted.err, HasSubstr("no table named \"stl_nope\""));
  auto by_cluster = test::RunFleetlog({"--config", config_, "compact", "--cluster", "nope"});
  EXPECT_EQ(by_cluster.exit_code, 2) << by_cluster.err;
  auto known = test::RunFleetlog({"--config", config_, "compact", "--table", "stl_query", "--dry-run"});
  EXPECT_EQ(known.exit_code, 0) << known.err;
}

// After a full disk, `status` showed the tables whose export failed as "never" run, with no
// error: the record of the failure could not be written either. The disk is a small tmpfs in
// a user and mount namespace (`unshare -Urm`), so the whole scenario runs in one shell there.
TEST(CliFullDiskTest, StatusNamesTheFailureAndTheNextExportLosesNothing) {
  if (!test::HaveProgram("unshare") ||
      test::RunProcess({"unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"}).exit_code != 0)
    GTEST_SKIP() << "this machine does not allow a tmpfs in a user namespace (unshare -Urm)";
  test::TempDir dir;
  const std::string disk = dir.Sub("disk");
  fs::create_directories(disk);
  const std::string config =
      test::WriteMinimalConfig(disk, "[[cluster]]\nname = \"sim-a\"\nkind = \"sim\"\nscale = 0.05\n\n"
                                     "[[cluster]]\nname = \"sim-b\"\nkind = \"sim\"\nscale = 0.05\n");
  const std::string fleetlog = test::FleetlogBinary() + " --config " + config;
  const std::string script =
      "mount -t tmpfs -o size=48m tmpfs " + disk + " || exit 90\n" +
      // The config lived on the folder the tmpfs now covers: write it again.
      "cp " + dir.Sub("fleetlog.toml.copy") + " " + config + "\n" +
      fleetlog + " export --cluster sim-a >/dev/null 2>&1; echo \"first=$?\"\n" +
      "dd if=/dev/zero of=" + disk + "/filler bs=64k 2>/dev/null; echo\n" +
      fleetlog + " export --cluster sim-b >/dev/null 2>&1; echo \"full=$?\"\n" +
      "echo '--- status full'\n" + fleetlog + " status --format json\n" +
      "rm " + disk + "/filler\n" +
      fleetlog + " export --cluster sim-b >/dev/null 2>&1; echo \"freed=$?\"\n" +
      "echo '--- status freed'\n" + fleetlog + " status --format json\n";
  fs::copy_file(config, dir.Sub("fleetlog.toml.copy"));
  auto r = test::RunProcess({"unshare", "-Urm", "sh", "-c", script});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("first=0"));
  EXPECT_THAT(r.out, HasSubstr("full=1"));
  EXPECT_THAT(r.out, HasSubstr("freed=0"));
  // The JSON array printed after `header`.
  const auto status_after = [&](const std::string& header) {
    const size_t from = r.out.find(header + "\n[");
    const size_t to = r.out.find("\n]", from);
    if (from == std::string::npos || to == std::string::npos) return nlohmann::json();
    return nlohmann::json::parse(r.out.substr(from + header.size(), to + 2 - from - header.size()));
  };
  const auto full = status_after("--- status full"), freed = status_after("--- status freed");
  ASSERT_TRUE(full.is_array() && freed.is_array()) << r.out << r.err;
  // The failures are recorded in the reserve's space; tables after the first failure may
  // then succeed in what the reserve freed, which is fine: nothing is committed twice or lost.
  int failed = 0;
  for (const auto& t : full) {
    ASSERT_FALSE(t["last_run"].is_null()) << t.dump();  // never "never"
    if (t["cluster"] == "sim-a") {
      EXPECT_EQ(t["last_run"]["status"], "ok") << t.dump();
    }
    if (t["cluster"] != "sim-b" || t["last_run"]["status"] != "failed") continue;
    EXPECT_THAT(t["last_error"].get<std::string>(), HasSubstr("space")) << t.dump();
    ++failed;
  }
  EXPECT_GT(failed, 0) << r.out;
  EXPECT_THAT(r.err, HasSubstr("reserve")) << r.err;  // status warns that failures may be missing
  for (const auto& t : freed) EXPECT_EQ(t["last_run"]["status"], "ok") << t.dump();
}

}  // namespace
}  // namespace fleetlog
