#include "storage/file_cache.h"

#include <gtest/gtest.h>

#include <optional>

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

  // The cache's entries on disk (not the readers' pins).
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (auto& name : test::ListFilesUnder(dir_.Sub("cache")))
      if (!name.starts_with(".pins/")) out.push_back(name);
    return out;
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
  EXPECT_EQ(Entries().size(), 2u);
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
  EXPECT_TRUE(Entries().empty());
  ASSERT_TRUE(Fetch(**cache, "a").ok());
  cache->reset();

  auto reopened = LakeFileCache::Open(Env::Default(), Env::Default(), dir_.Sub("cache"), 10'000);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->stats().entries, 1);
  ASSERT_TRUE(Fetch(**reopened, "a").ok());
  EXPECT_EQ((*reopened)->stats().hits, 1);
  EXPECT_EQ((*reopened)->stats().misses, 0);
}

// A disk that is full: every local write fails as ENOSPC does.
class FullDiskEnv final : public EnvWrapper {
 public:
  FullDiskEnv() : EnvWrapper(Env::Default()) {}
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, const WriteOptions&) override {
    return Error(StatusCode::kResourceExhausted, "{}: No space left on device", path);
  }
};

TEST_F(FileCacheTest, AFullDiskFailsTheFetchSayingWhatToDo) {
  FullDiskEnv full;
  auto cache = LakeFileCache::Open(Env::Default(), &full, dir_.Sub("cache"), 10'000);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  Status failed = Fetch(**cache, "a").status();
  EXPECT_EQ(failed.code(), StatusCode::kResourceExhausted) << failed.ToString();
  EXPECT_NE(failed.message().find("the disk of the lake cache"), std::string::npos) << failed.ToString();
  EXPECT_NE(failed.message().find("cache_size"), std::string::npos) << failed.ToString();
  EXPECT_EQ((*cache)->stats().bytes, 0);
  EXPECT_TRUE(Entries().empty());
}

// `serve` and `run` with one config share the cache folder: what one reads, the other's
// evictions never take away; what one fetched, the other uses in place and counts.
TEST_F(FileCacheTest, CachesSharingAFolderNeverEvictWhatTheOtherReads) {
  auto reader = LakeFileCache::Open(Env::Default(), Env::Default(), dir_.Sub("cache"), 10'000, Duration());
  auto evicter = LakeFileCache::Open(Env::Default(), Env::Default(), dir_.Sub("cache"), 1500, Duration());
  ASSERT_TRUE(reader.ok() && evicter.ok());
  std::optional<Result<CachedFile>> read;
  read.emplace(Fetch(**reader, "a"));
  ASSERT_TRUE(read->ok()) << read->status().ToString();
  {
    auto shared = Fetch(**evicter, "a");  // placed by the reader: used in place
    ASSERT_TRUE(shared.ok()) << shared.status().ToString();
    EXPECT_EQ((*evicter)->stats().hits, 1);
    EXPECT_EQ((*evicter)->stats().misses, 0);
  }
  auto b = Fetch(**evicter, "b");  // a and b do not both fit in 1500 bytes: a's name goes
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ((*evicter)->stats().evictions, 1);
  EXPECT_EQ(Entries().size(), 1u);
  EXPECT_EQ(*test::ReadWholeFile((*read)->path()), std::string(1000, 'a'));  // still whole for its reader

  // The reader recounts the folder: the evicter's b joins its count (beside a, still pinned
  // until its handle is released, and c); a is fetched again once it is unpinned.
  auto c = Fetch(**reader, "c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*reader)->stats().bytes, 3000);
  read.reset();
  auto again = Fetch(**reader, "a");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*test::ReadWholeFile(again->path()), std::string(1000, 'a'));
  EXPECT_EQ((*reader)->stats().misses, 3);

  // A cache that ends takes its pins with it.
  reader->reset();
  evicter->reset();
  EXPECT_EQ(test::ListFilesUnder(dir_.Sub("cache/.pins")), std::vector<std::string>{});
}

}  // namespace
}  // namespace fleetlog
