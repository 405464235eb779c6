// verify finds each injected fault (truncated, deleted, orphan, flipped byte, unfinished
// publish), and --repair leaves a lake that verifies clean and answers queries again.
#include "upkeep/verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/fs.h"
#include "upkeep_test_util.h"

namespace fleetlog::upkeep {
namespace {

namespace fs = std::filesystem;
using testing::Day;
using testing::UpkeepLake;

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int d = 0; d < 4; ++d) lake_.WriteQueries("c1", d * 10 + 1, d * 10 + 10, Day("2025-05-01") + Duration::Days(d));
    files_ = lake_.Files("stl_query");
    ASSERT_EQ(files_.size(), 4u);
  }

  std::string Abs(const CommittedFile& f) { return lake_.lake().Abs(f.path); }

  VerifyReport Verify(bool repair = false) {
    auto report = VerifyLake(lake_.state(), lake_.lake(), {.repair = repair});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }

  static std::vector<std::pair<IssueKind, std::string>> Found(const VerifyReport& r) {
    std::vector<std::pair<IssueKind, std::string>> out;
    for (const auto& i : r.issues) out.emplace_back(i.kind, i.path);
    std::sort(out.begin(), out.end());
    return out;
  }

  UpkeepLake lake_;
  std::vector<CommittedFile> files_;
};

TEST_F(VerifyTest, ACleanLakeIsClean) {
  auto report = Verify();
  EXPECT_TRUE(report.clean());
  EXPECT_EQ(report.files_checked, 4);
}

TEST_F(VerifyTest, FindsTruncatedFile) {
  fs::resize_file(Abs(files_[0]), static_cast<uintmax_t>(files_[0].bytes / 2));
  EXPECT_EQ(Found(Verify()), (std::vector<std::pair<IssueKind, std::string>>{{IssueKind::kSize, files_[0].path}}));
}

TEST_F(VerifyTest, FindsDeletedFile) {
  fs::remove(Abs(files_[1]));
  EXPECT_EQ(Found(Verify()), (std::vector<std::pair<IssueKind, std::string>>{{IssueKind::kMissing, files_[1].path}}));
}

TEST_F(VerifyTest, FindsOrphanFile) {
  const std::string orphan = "stl_query/cluster=c1/dt=2025-05-02/stray.parquet";
  fs::copy_file(Abs(files_[0]), lake_.lake().Abs(orphan));
  EXPECT_EQ(Found(Verify()), (std::vector<std::pair<IssueKind, std::string>>{{IssueKind::kOrphan, orphan}}));
}

// Issue 11: symlinks (to a file or as a folder) and files that are not Parquet are reported.
TEST_F(VerifyTest, FindsSymlinksAndForeignFiles) {
  const std::string link = "stl_query/cluster=c1/dt=2025-05-02/evil.parquet";
  fs::create_symlink("/etc/passwd", lake_.lake().Abs(link));
  const std::string planted = "stl_query/cluster=c1/dt=2025-05-02/a.csv";
  ASSERT_TRUE(test::WriteFile(lake_.lake().Abs(planted), "42\n"));
  const std::string folder_link = "stl_linked";
  fs::create_directory_symlink("/etc", lake_.lake().Abs(folder_link));
  EXPECT_EQ(Found(Verify()), (std::vector<std::pair<IssueKind, std::string>>{{IssueKind::kSymlink, folder_link},
                                                                           {IssueKind::kSymlink, link},
                                                                           {IssueKind::kForeign, planted}}));
}

TEST_F(VerifyTest, FindsFlippedByte) {
  {
    std::fstream f(Abs(files_[2]), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(files_[2].bytes / 2);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(files_[2].bytes / 2);
    f.write(&c, 1);
  }
  EXPECT_EQ(Found(Verify()), (std::vector<std::pair<IssueKind, std::string>>{{IssueKind::kChecksum, files_[2].path}}));
}

TEST_F(VerifyTest, FindsRewrittenFileWhoseCatalogEntryWasFixedUp) {
  // A file replaced by something that is not Parquet, with size and checksum recorded to
  // match: only opening it finds the fault.
  ASSERT_TRUE(test::WriteFile(Abs(files_[3]), "not parquet at all"));
  auto digest = DigestFile(*Env::Default(), Abs(files_[3]));
  ASSERT_TRUE(digest.ok());
  CommittedFile f = files_[3];
  // Re-register under a new id with the new digest (the catalog has no update call).
  NewFile entry = f;
  entry.path = f.path + ".x.parquet";
  entry.staging_path = entry.path;
  entry.bytes = digest->bytes;
  entry.checksum = digest->checksum;
  fs::rename(Abs(files_[3]), lake_.lake().Abs(entry.path));
  ASSERT_TRUE(lake_.state().Commit({.add = {entry}, .retire = {f.id}, .run = {.cluster = "c1"}}).ok());
  auto report = Verify();
  ASSERT_EQ(report.issues.size(), 1u);
  EXPECT_EQ(report.issues[0].kind, IssueKind::kUnreadable);
}

TEST_F(VerifyTest, RepairQuarantinesEveryFaultAndLeavesAWorkingLake) {
  fs::resize_file(Abs(files_[0]), 10);
  fs::remove(Abs(files_[1]));
  const std::string orphan = "stl_query/cluster=c1/dt=2025-05-02/stray.parquet";
  ASSERT_TRUE(test::WriteFile(lake_.lake().Abs(orphan), "stray"));
  // An unfinished publish: a committed file still in staging.
  NewFile pending = files_[2];
  pending.path = LakeLayout::NewFilePath("stl_query", "c1", "2025-05-09", Timestamp::Now());
  pending.staging_path = LakeLayout::StagingPathFor(pending.path);
  fs::copy_file(Abs(files_[2]), lake_.lake().Abs(pending.staging_path));
  ASSERT_TRUE(lake_.state().Commit({.add = {pending}, .run = {.cluster = "c1"}}).ok());

  auto found = Verify();
  EXPECT_EQ(found.issues.size(), 4u);
  auto repaired = Verify(/*repair=*/true);
  ASSERT_EQ(repaired.issues.size(), 4u);
  for (const auto& issue : repaired.issues) EXPECT_FALSE(issue.repair.empty()) << issue.path;
  EXPECT_TRUE(fs::exists(lake_.lake().Abs(LakeLayout::QuarantineDir() + "/" + orphan)));
  EXPECT_TRUE(fs::exists(lake_.lake().Abs(LakeLayout::QuarantineDir() + "/" + files_[0].path)));
  EXPECT_EQ(lake_.Files("stl_query", {FileState::kQuarantined}).size(), 2u);

  EXPECT_TRUE(Verify().clean());
  // Queries run again: the two intact files and the finished publish.
  EXPECT_EQ(lake_.Rows("SELECT count(*) FROM stl_query"), std::vector<std::string>{"30"});
}

}  // namespace
}  // namespace fleetlog::upkeep
