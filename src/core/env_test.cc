#include "core/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>

#include "test_util.h"

namespace fleetlog {
namespace {

class FixedClock final : public Clock {
 public:
  Timestamp Now() const override { return Timestamp::FromMicros(42); }
};

TEST(PosixError, MapsErrnoToCodes) {
  EXPECT_EQ(PosixError("open x", ENOENT).code(), StatusCode::kNotFound);
  EXPECT_EQ(PosixError("open x", EACCES).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(PosixError("open x", EROFS).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(PosixError("write x", ENOSPC).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(PosixError("mkdir x", EEXIST).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(PosixError("read x", EIO).code(), StatusCode::kIoError);
  EXPECT_EQ(PosixError("open x", ENOENT).message(), "open x: No such file or directory");
}

TEST(ParentDir, SplitsAtTheLastSlash) {
  EXPECT_EQ(ParentDir("a/b/c"), "a/b");
  EXPECT_EQ(ParentDir("/a"), "/");
  EXPECT_EQ(ParentDir("a"), ".");
}

TEST(PosixEnv, WritesWholeFilesAtomicallyWithTheirModeAndFolders) {
  test::TempDir dir;
  Env* env = Env::Default();
  const std::string path = dir.Sub("a/b/key");
  ASSERT_TRUE(env->WriteFile(path, "secret", {.mode = 0600}).ok());
  auto text = env->ReadFile(path);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "secret");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(env->WriteFile(path, "new").ok());
  EXPECT_EQ(*env->ReadFile(path), "new");
  // No temporary file is left beside it.
  auto files = env->ListFiles(dir.Sub("a"));
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].name, "b/key");
  EXPECT_EQ((*files)[0].size, 3);
}

TEST(PosixEnv, ReadsRanges) {
  test::TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(env->WriteFile(dir.Sub("f"), "0123456789").ok());
  EXPECT_EQ(*env->ReadRange(dir.Sub("f"), 2, 3), "234");
  EXPECT_EQ(*env->ReadRange(dir.Sub("f"), 8, 10), "89");
  EXPECT_EQ(*env->ReadRange(dir.Sub("f"), 20, 4), "");
  EXPECT_EQ(env->ReadRange(dir.Sub("missing"), 0, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(env->ReadFile(dir.Sub("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*env->FileSize(dir.Sub("f")), 10);
  EXPECT_EQ(env->FileSize(dir.Sub("missing")).status().code(), StatusCode::kNotFound);
}

TEST(PosixEnv, StreamsIntoAWritableFile) {
  test::TempDir dir;
  Env* env = Env::Default();
  auto file = env->NewWritableFile(dir.Sub("x/rows.jsonl"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("one\n").ok());
  ASSERT_TRUE((*file)->Append("two\n").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(*env->ReadFile(dir.Sub("x/rows.jsonl")), "one\ntwo\n");
}

TEST(PosixEnv, ListsEveryFileUnderAFolderSortedAndAMissingFolderAsEmpty) {
  test::TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(env->WriteFile(dir.Sub("lake/t/cluster=b/dt=2026-01-02/y.parquet"), "yy").ok());
  ASSERT_TRUE(env->WriteFile(dir.Sub("lake/t/cluster=a/dt=2026-01-01/x.parquet"), "x").ok());
  ASSERT_TRUE(env->CreateDir(dir.Sub("lake/empty/folder")).ok());
  auto files = env->ListFiles(dir.Sub("lake"));
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].name, "t/cluster=a/dt=2026-01-01/x.parquet");
  EXPECT_EQ((*files)[1].name, "t/cluster=b/dt=2026-01-02/y.parquet");
  EXPECT_EQ((*files)[1].size, 2);
  auto none = env->ListFiles(dir.Sub("nothing-here"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(PosixEnv, DeletesFilesAndTreesAndAbsenceIsSuccess) {
  test::TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(env->WriteFile(dir.Sub("s/a/1"), "1").ok());
  ASSERT_TRUE(env->WriteFile(dir.Sub("s/2"), "2").ok());
  EXPECT_TRUE(env->DeleteFile(dir.Sub("s/2")).ok());
  EXPECT_FALSE(*env->FileExists(dir.Sub("s/2")));
  EXPECT_TRUE(env->DeleteFile(dir.Sub("s/2")).ok());
  EXPECT_TRUE(env->DeleteTree(dir.Sub("s")).ok());
  EXPECT_FALSE(*env->FileExists(dir.Sub("s")));
  EXPECT_TRUE(env->DeleteTree(dir.Sub("s")).ok());
}

TEST(PosixEnv, PublishMovesAStagedFileIntoNewFoldersAndReplaces) {
  test::TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(env->WriteFile(dir.Sub("staging/f"), "v1").ok());
  ASSERT_TRUE(env->Publish(dir.Sub("staging/f"), dir.Sub("t/cluster=a/f")).ok());
  EXPECT_FALSE(*env->FileExists(dir.Sub("staging/f")));
  EXPECT_EQ(*env->ReadFile(dir.Sub("t/cluster=a/f")), "v1");
  ASSERT_TRUE(env->WriteFile(dir.Sub("staging/f"), "v2").ok());
  ASSERT_TRUE(env->Publish(dir.Sub("staging/f"), dir.Sub("t/cluster=a/f")).ok());
  EXPECT_EQ(*env->ReadFile(dir.Sub("t/cluster=a/f")), "v2");
  // Publishing what is not staged fails and says which file.
  Status s = env->Publish(dir.Sub("staging/f"), dir.Sub("t/cluster=a/f"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("staging/f"), std::string::npos) << s.message();
}

TEST(PosixEnv, LockIsExclusiveAndNamesItsOwner) {
  test::TempDir dir;
  Env* env = Env::Default();
  auto first = env->LockFile(dir.Sub("_fleetlog/writer.lock"), "1234");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = env->LockFile(dir.Sub("_fleetlog/writer.lock"), "5678");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("1234"), std::string::npos) << second.status().message();
  first->reset();
  EXPECT_TRUE(env->LockFile(dir.Sub("_fleetlog/writer.lock"), "5678").ok());
}

TEST(PosixEnv, ErrorsAreStatusesNotExceptions) {
  test::TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(env->WriteFile(dir.Sub("file"), "x").ok());
  // A file where a folder must be: every call answers with a Status.
  EXPECT_FALSE(env->WriteFile(dir.Sub("file/below"), "y").ok());
  EXPECT_FALSE(env->NewWritableFile(dir.Sub("file/below")).ok());
  EXPECT_FALSE(env->CreateDir(dir.Sub("file/below")).ok());
  EXPECT_EQ(env->ReadFile(dir.Sub("file/below")).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(env->SyncDir(dir.Sub("missing")).ok());
}

TEST(PosixEnv, TakesItsClockFromTheCaller) {
  FixedClock clock;
  auto env = NewPosixEnv(&clock);
  EXPECT_EQ(env->Now().micros(), 42);
  EXPECT_GT(Env::Default()->Now().micros(), 42);
}

TEST(EnvWrapper, ForwardsToItsTarget) {
  test::TempDir dir;
  EnvWrapper env(Env::Default());
  ASSERT_TRUE(env.WriteFile(dir.Sub("w"), "through").ok());
  EXPECT_EQ(*Env::Default()->ReadFile(dir.Sub("w")), "through");
  EXPECT_EQ(env.LocalPath(dir.Sub("w")), dir.Sub("w"));
}

}  // namespace
}  // namespace fleetlog
