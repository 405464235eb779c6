#include "query/confine.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

namespace fleetlog {
namespace {

namespace fs = std::filesystem;

// Runs `body` in a forked child (confinement cannot be undone) and returns its exit code.
template <typename Body>
int InChild(Body body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

class ConfineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fleetlog-confine-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::ofstream(allowed()) << "lake data";
    std::ofstream(other()) << "secret";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string allowed() const { return (dir_ / "allowed.parquet").string(); }
  std::string other() const { return (dir_ / "other.txt").string(); }
  fs::path dir_;
};

// Issue 11's defence in depth: even a statement that got past DuckDB's checks could not
// write the lake or read anything else once the process is confined.
TEST_F(ConfineTest, OnlyTheGivenFilesCanBeReadAndNothingWritten) {
  if (LandlockAbi() == 0) GTEST_SKIP() << "this kernel has no Landlock: the worker runs unconfined by the kernel";
  const int code = InChild([&] {
    auto c = ConfineToFiles({allowed()});
    if (!c.ok() || !c->landlocked) return 1;
    if (open(allowed().c_str(), O_RDONLY) < 0) return 2;                      // reading the lake file works
    if (open(allowed().c_str(), O_WRONLY) >= 0) return 3;                     // overwriting it does not
    if (open(other().c_str(), O_RDONLY) >= 0) return 4;                       // nor reading another file
    if (open((dir_ / "planted.parquet").c_str(), O_WRONLY | O_CREAT, 0600) >= 0) return 5;  // nor creating one
    if (open(dir_.c_str(), O_RDONLY | O_DIRECTORY) >= 0) return 6;            // nor listing the folder
    if (open("/etc/passwd", O_RDONLY) >= 0) return 7;
    return 0;
  });
  EXPECT_EQ(code, 0) << "step " << code << " of the child failed";
  EXPECT_FALSE(fs::exists(dir_ / "planted.parquet"));
}

TEST_F(ConfineTest, SymlinksAreNotAllowedAsFiles) {
  if (LandlockAbi() == 0) GTEST_SKIP() << "this kernel has no Landlock";
  const std::string link = (dir_ / "link.parquet").string();
  fs::create_symlink(other(), link);
  const int code = InChild([&] { return ConfineToFiles({link}).ok() ? 1 : 0; });
  EXPECT_EQ(code, 0);
}

TEST_F(ConfineTest, DataLimitStopsLargeAllocations) {
  const int code = InChild([&] {
    auto limit = LimitProcess(64LL << 20, /*may_write_files=*/false);
    if (!limit.ok()) return 1;
    void* big = std::malloc(512LL << 20);  // over the cap: refused by the kernel
    if (big != nullptr) return 2;
    void* small = std::malloc(16LL << 20);  // under it: fine
    if (small == nullptr) return 3;
    std::signal(SIGXFSZ, SIG_IGN);  // a write then fails with EFBIG instead of ending the process
    std::ofstream out(other(), std::ios::app);
    out << "more";
    out.flush();
    return out.good() ? 4 : 0;  // no regular file may grow
  });
  EXPECT_EQ(code, 0) << "step " << code;
}

}  // namespace
}  // namespace fleetlog
