// The command-line conventions, through the real binary: --version, --help with an example on
// every command, one --format flag on every command that prints data, and the completions
// and the man page generated from the command table naming every command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "test_util.h"

namespace fleetlog {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

TEST(CliConventionsTest, VersionNamesCommitAndDuckDb) {
  auto r = test::RunFleetlog({"--version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, MatchesRegex("fleetlog [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit ([0-9a-f]{12}(-dirty)?|unknown)\\)\n"
                                  "DuckDB v1\\.4\\.[0-9]+\n"));
}

// The executable opens its libraries by path: beside it (a build tree, or a copy of one) or in
// ../lib/fleetlog (the package's layout). Without them it says which one it cannot load.
TEST(CliConventionsTest, TheExecutableFindsItsLibrariesByItsOwnPlace) {
  namespace fs = std::filesystem;
  const fs::path build = fs::path(test::FleetlogBinary()).parent_path();
  const std::vector<std::string> files = {"fleetlog", "libfleetlog.so", "libfleetlog-client.so", "libduckdb.so"};
  test::TempDir dir;
  fs::create_directories(dir.Sub("beside"));
  fs::create_directories(dir.Sub("installed/bin"));
  fs::create_directories(dir.Sub("installed/lib/fleetlog"));
  fs::create_directories(dir.Sub("alone"));
  for (const auto& f : files) {
    fs::copy_file(build / f, dir.Sub("beside") + "/" + f);
    fs::copy_file(build / f, dir.Sub(f == "fleetlog" ? "installed/bin/" : "installed/lib/fleetlog/") + f);
  }
  fs::copy_file(build / "fleetlog", dir.Sub("alone/fleetlog"));
  for (const std::string& binary : {dir.Sub("beside/fleetlog"), dir.Sub("installed/bin/fleetlog")}) {
    auto r = test::RunProcess({binary, "--version"});
    EXPECT_EQ(r.exit_code, 0) << binary << "\n" << r.err;
    EXPECT_THAT(r.out, HasSubstr("DuckDB v1.4")) << binary;
  }
  auto alone = test::RunProcess({dir.Sub("alone/fleetlog"), "--version"});
  EXPECT_EQ(alone.exit_code, 1);
  EXPECT_THAT(alone.err, HasSubstr("cannot load libfleetlog.so"));
  auto client = test::RunProcess({dir.Sub("alone/fleetlog"), "query", "--server", "http://127.0.0.1:9", "SELECT 1"});
  EXPECT_EQ(client.exit_code, 1);
  EXPECT_THAT(client.err, HasSubstr("cannot load libfleetlog-client.so"));
}

TEST(CliConventionsTest, EveryCommandHasHelpWithAnExample) {
  for (const auto& row : cli::CommandTable()) {
    ASSERT_NE(row.example, nullptr) << "command `" << row.name << "` has no example in its row of src/cli/cli.cc";
    auto r = test::RunFleetlog({row.name, "--help"});
    EXPECT_EQ(r.exit_code, 0) << row.name << "\n" << r.err;
    EXPECT_THAT(r.out, HasSubstr(std::string("Example:\n  ") + row.example)) << row.name;
    EXPECT_THAT(r.out, HasSubstr(row.help)) << row.name;
  }
  auto top = test::RunFleetlog({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const auto& row : cli::CommandTable()) EXPECT_THAT(top.out, HasSubstr(row.name));
}

TEST(CliConventionsTest, CommandsThatPrintDataTakeFormat) {
  for (const auto& command : std::vector<std::vector<std::string>>{
           {"status"}, {"export"}, {"query"}, {"compact"}, {"purge"}, {"verify"}, {"secrets", "list"}}) {
    auto args = command;
    args.push_back("--help");
    auto r = test::RunFleetlog(args);
    EXPECT_EQ(r.exit_code, 0) << command[0];
    EXPECT_THAT(r.out, HasSubstr("--format")) << command[0];
  }
  // --json stays an alias where scripts use it.
  for (const char* command : {"status", "export"})
    EXPECT_THAT(test::RunFleetlog({command, "--help"}).out, HasSubstr("--json")) << command;
  auto bad = test::RunFleetlog({"status", "--format", "xml"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(CliConventionsTest, StatusPrintsTableJsonAndCsv) {
  test::TempDir dir;
  const std::string config_ok = test::WriteMinimalConfig(dir.path(), "[[cluster]]\nname = \"sim-a\"\nkind = \"sim\"\n");
  auto csv = test::RunFleetlog({"--config", config_ok, "status", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("cluster,table,cursor,lag_seconds,last_run,rows_written,duration_seconds,last_error\n"
                                 "sim-a,stl_query,,,never,,,\n"));
  EXPECT_THAT(csv.out, Not(HasSubstr("\r")));
  auto json = test::RunFleetlog({"--config", config_ok, "status", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto parsed = nlohmann::json::parse(json.out);
  ASSERT_TRUE(parsed.is_array());
  EXPECT_EQ(parsed[0]["cluster"], "sim-a");
  EXPECT_EQ(test::RunFleetlog({"--config", config_ok, "status", "--format", "json"}).out, json.out);
  auto table = test::RunFleetlog({"--config", config_ok, "status"});
  EXPECT_THAT(table.out, HasSubstr(" cluster | table "));
}

TEST(CliConventionsTest, SecretsListAndVerifyTakeFormat) {
  test::TempDir dir;
  const std::string config = test::WriteMinimalConfig(dir.path());
  test::ProcessOptions with_key{.env = {{"FLEETLOG_MASTER_KEY", std::string(64, 'a')}}};
  with_key.stdin_data = "value\n";
  ASSERT_EQ(test::RunFleetlog({"--config", config, "secrets", "set", "pw-one"}, with_key).exit_code, 0);
  with_key.stdin_data.clear();
  auto csv = test::RunFleetlog({"--config", config, "secrets", "list", "--format", "csv"}, with_key);
  EXPECT_EQ(csv.out, "name\npw-one\n") << csv.err;
  auto json = test::RunFleetlog({"--config", config, "secrets", "list", "--format", "json"}, with_key);
  EXPECT_EQ(nlohmann::json::parse(json.out), nlohmann::json::parse(R"([{"name": "pw-one"}])"));
  auto verify = test::RunFleetlog({"--config", config, "verify", "--format", "json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  auto report = nlohmann::json::parse(verify.out);
  EXPECT_EQ(report["clean"], true);
  EXPECT_EQ(report["files_checked"], 0);
}

// The generated completions and man page name every command of the table; the files the
// package ships are exactly what the binary generates.
TEST(CliConventionsTest, CompletionsAndManPageNameEveryCommand) {
  auto bash = test::RunFleetlog({"completion", "bash"});
  auto zsh = test::RunFleetlog({"completion", "zsh"});
  auto man = test::RunFleetlog({"manpage"});
  ASSERT_EQ(bash.exit_code, 0) << bash.err;
  ASSERT_EQ(zsh.exit_code, 0) << zsh.err;
  ASSERT_EQ(man.exit_code, 0) << man.err;
  for (const auto& row : cli::CommandTable()) {
    EXPECT_THAT(bash.out, HasSubstr(std::string("\"") + row.name + "\")")) << row.name;
    EXPECT_THAT(zsh.out, HasSubstr(std::string("'") + row.name + ":")) << row.name;
    EXPECT_THAT(man.out, HasSubstr(std::string(".SS \"fleetlog ") + row.name + "\"")) << row.name;
  }
  const std::string docs = test::FleetlogBinary().substr(0, test::FleetlogBinary().rfind('/')) + "/generated/docs/";
  EXPECT_EQ(test::ReadWholeFile(docs + "fleetlog.bash"), bash.out);
  EXPECT_EQ(test::ReadWholeFile(docs + "_fleetlog"), zsh.out);
}

// The bash completion works in bash: commands, subcommands, options and --format's choices.
TEST(CliConventionsTest, BashCompletionCompletes) {
  test::TempDir dir;
  ASSERT_TRUE(test::WriteFile(dir.Sub("fleetlog.bash"), test::RunFleetlog({"completion", "bash"}).out));
  const auto complete = [&](const std::string& words) {
    const std::string script = "source " + dir.Sub("fleetlog.bash") + "\nCOMP_WORDS=(" + words +
                               ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_fleetlog\necho \"${COMPREPLY[*]}\"\n";
    auto r = test::RunProcess({"bash", "--norc", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_EQ(complete("fleetlog st"), "status\n");
  EXPECT_EQ(complete("fleetlog --config x.toml sec"), "secrets\n");
  EXPECT_EQ(complete("fleetlog secrets l"), "list\n");
  EXPECT_EQ(complete("fleetlog query --format ''"), "table json csv\n");
  EXPECT_THAT(complete("fleetlog status --"), HasSubstr("--format"));
  EXPECT_EQ(complete("fleetlog completion ''"), "-h --help\n");
}

TEST(CliConventionsTest, ZshCompletionParses) {
  if (!test::HaveProgram("zsh")) GTEST_SKIP() << "zsh is not installed (scripts/bootstrap --tests installs it)";
  test::TempDir dir;
  ASSERT_TRUE(test::WriteFile(dir.Sub("_fleetlog"), test::RunFleetlog({"completion", "zsh"}).out));
  auto r = test::RunProcess({"zsh", "-n", dir.Sub("_fleetlog")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliConventionsTest, ManPageRendersWithoutWarnings) {
  if (!test::HaveProgram("groff")) GTEST_SKIP() << "groff is not installed";
  test::TempDir dir;
  ASSERT_TRUE(test::WriteFile(dir.Sub("fleetlog.1"), test::RunFleetlog({"manpage"}).out));
  auto r = test::RunProcess({"groff", "-man", "-Tutf8", "-ww", "-z", dir.Sub("fleetlog.1")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
}

TEST(CliConventionsTest, InitWritesEverySection) {
  auto r = test::RunFleetlog({"init", "--stdout", "--lake", "/var/lib/fleetlog/lake", "--state-dir", "/var/lib/fleetlog"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* section : {"\n[lake]", "\n[state]", "\n[secrets]", "\n[export]", "\n[query]", "\n# [server]",
                              "\n# [[server.token]]", "\n# [[workgroup]]", "\n[detect]", "\n[upkeep]", "\n[[cluster]]"})
    EXPECT_THAT(r.out, HasSubstr(section));
  EXPECT_THAT(r.out, HasSubstr("path = \"/var/lib/fleetlog/fleetlog.db\""));
}

}  // namespace
}  // namespace fleetlog
