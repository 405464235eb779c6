#include "storage/file_cache.h"

#include <gtest/gtest.h>

#include "core/fs.h"
#include "test_util.h"

namespace fleetlog {
namespace {

class FileCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a", "b", "c"}) {
      const std::string path = Remote(name);
      ASSERT_TRUE(test::WriteFile(path, std::string(1000, name[0])));
      digests_[name] = *DigestFile(*Env::Default(), path);
    }
  }
  std::string Remote(const std::string& name) const { return dir_.Sub("lake/t/cluster=x/dt=2026-11-30/" + name); }
  Result<CachedFile> Fetch(LakeFileCache& cache, const std::string& name) {
    return cache.Fetch(Remote(name), digests_[name].bytes, digests_[name].checksum);
  }

  test::TempDir dir_;
  std::map<std::string, FileDigest> digests_;
};

TEST_F(FileCacheTest, FetchesOnceEvictsLeastRecentlyUsed) {
  auto cache = LakeFileCache::Open(Env::Default(), Env::Default(), dir_.Sub("cache"), 2500);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  {
    auto a = Fetch(**cache, "a");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(*test::ReadWholeFile(a->path()), std::string(1000, 'a'));
    ASSERT_TRUE(Fetch(**cache, "b").ok());
    ASSERT_TRUE(Fetch(**cache, "a").ok());  // a is now the most recent
  }
  EXPECT_EQ((*cache)->stats().hits, 1);
  EXPECT_EQ((*cache)->stats().misses, 2);
  auto c = Fetch(**cache, "c");  // 3000 bytes would not fit: b goes
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*cache)->stats().evictions, 1);
  EXPECT_EQ((*cache)->stats().bytes, 2000);
  EXPECT_EQ(test::ListFilesUnder(dir_.Sub("cache")).size(), 2u);
  ASSERT_TRUE(Fetch(**cache, "a").ok());
  EXPECT_EQ((*cache)->stats().hits, 2);
  ASSERT_TRUE(Fetch(**cache, "b").ok());
  EXPECT_EQ((*cache)->stats().misses, 4);
}

TEST_F(FileCacheTest, PinnedEntriesAreKeptAndAFullCacheSaysSo) {
  auto cache = LakeFileCache::Open(Env::Default(), Env::Default(), dir_.Sub("cache"), 2500);
  ASSERT_TRUE(cache.ok());
  auto a = Fetch(**cache, "a");
  auto b = Fetch(**cache, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  Status full = Fetch(**cache, "c").status();
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted) << full.ToString();
  EXPECT_NE(full.message().find("cache_size"), std::string::npos) << full.ToString();
  EXPECT_TRUE(test::ReadWholeFile(a->path()).has_value());
  EXPECT_TRUE(test::ReadWholeFile(b->path()).has_value());
}

TEST_F(FileCacheTest, WrongBytesAreRefusedAndEntriesSurviveReopen) {
  auto cache = LakeFileCache::Open(Env::Default(), Env::Default(), dir_.Sub("cache"), 10'000);
  ASSERT_TRUE(cache.ok());
  Status wrong = (*cache)->Fetch(Remote("a"), 1000, digests_["b"].checksum).status();
  EXPECT_EQ(wrong.code(), StatusCode::kCorruption) << wrong.ToString();
  EXPECT_EQ(wrong.message().find("run `fleetlog verify`") == std::string::npos, false);
  EXPECT_TRUE(test::ListFilesUnder(dir_.Sub("cache")).empty());
  ASSERT_TRUE(Fetch(**cache, "a").ok());
  cache->reset();

  auto reopened = LakeFileCache::Open(Env::Default(), Env::Default(), dir_.Sub("cache"), 10'000);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->stats().entries, 1);
  ASSERT_TRUE(Fetch(**reopened, "a").ok());
  EXPECT_EQ((*reopened)->stats().hits, 1);
  EXPECT_EQ((*reopened)->stats().misses, 0);
}

}  // namespace
}  // namespace fleetlog
