// A local cache of a remote lake's files, for DuckDB, which reads only local files: a query
// over an S3 lake asks the cache for the files its statement needs; the cache fetches the
// missing ones, and evicts the least recently used when it would grow past its capacity
// ([lake] cache_size).
//
// Lake files are immutable (compaction writes new keys), so an entry keyed by the object's
// path and its catalog checksum (BLAKE2b of the bytes, stronger than an ETag, which is no
// content hash for multipart uploads) never needs invalidation. Fetched bytes are checked
// against that checksum before the entry is used.
//
// An entry in use is pinned (CachedFile holds the pin) and never evicted; when pinned entries
// alone fill the cache, Fetch fails with kResourceExhausted, saying how big the cache should be.
// The cache survives restarts: entries found in its folder at open are kept (their recency is
// not: they start in listing order).
//
// Several processes may share one folder (`serve` and `run` with the same config): while an
// entry is pinned, this cache also holds a hard link to it under its own pin folder
// (<dir>/.pins/<pid>-<random>/), and DuckDB reads that link. Another process evicts an entry by
// deleting its name only, so a file is never taken from under a statement that reads it. A
// file another process fetched is used in place rather than fetched again, and the folder is
// recounted (at most every `recount_every`) so that cache_size caps the folder, whoever filled
// it. Pin folders of processes that ended are removed at open.
// Thread-safety: safe for concurrent use; safe to share the folder between processes.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/env.h"
#include "core/time.h"

namespace fleetlog {

struct CacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;
  int64_t bytes = 0;    // held now
  int64_t entries = 0;  // held now
};

class LakeFileCache;

// A fetched file, pinned in the cache while this handle lives.
class CachedFile {
 public:
  CachedFile(CachedFile&& other) noexcept
      : cache_(other.cache_), entry_(std::move(other.entry_)), name_(std::move(other.name_)),
        path_(std::move(other.path_)) {
    other.cache_ = nullptr;
  }
  CachedFile(const CachedFile&) = delete;
  CachedFile& operator=(const CachedFile&) = delete;
  ~CachedFile();
  // The local file's path (for DuckDB): the pin's link.
  const std::string& path() const { return path_; }
  // Its name inside the cache's folder.
  const std::string& name() const { return name_; }

 private:
  friend class LakeFileCache;
  CachedFile(LakeFileCache* cache, std::string entry, std::string name, std::string path)
      : cache_(cache), entry_(std::move(entry)), name_(std::move(name)), path_(std::move(path)) {}
  LakeFileCache* cache_;
  std::string entry_;  // the entry's name in the cache
  std::string name_;
  std::string path_;
};

class LakeFileCache {
 public:
  // `remote` (not owned) holds the lake; `dir`, in the local Env `local` (not owned), is a
  // folder the cache owns.
  static Result<std::unique_ptr<LakeFileCache>> Open(Env* remote, Env* local, std::string dir, int64_t capacity_bytes,
                                                      Duration recount_every = Duration::Seconds(1));
  ~LakeFileCache();

  // The local copy of the remote file at `remote_path` (`bytes` long, BLAKE2b `checksum`),
  // fetched when absent, in the cache's sub-folder `folder` (a lake file's partition folders,
  // "t/cluster=a/dt=2026-11-21", which DuckDB reads hive columns from; "" for the top).
  // kCorruption when the fetched bytes are not the catalogued ones; kResourceExhausted when it
  // does not fit beside the pinned entries.
  Result<CachedFile> Fetch(const std::string& remote_path, int64_t bytes, const std::string& checksum,
                           const std::string& folder = "");

  CacheStats stats() const;
  const std::string& dir() const { return dir_; }

 private:
  friend class CachedFile;
  struct Entry {
    std::string name;
    int64_t bytes = 0;
    int pins = 0;
    std::list<std::string>::iterator position;  // in lru_
  };
  LakeFileCache(Env* remote, Env* local, std::string dir, int64_t capacity, Duration recount_every)
      : remote_(remote), local_(local), dir_(std::move(dir)), capacity_(capacity), recount_every_(recount_every) {}
  void Unpin(const std::string& name);
  // Evicts unpinned entries, least recently used first, until `incoming` more bytes fit.
  Status MakeRoom(int64_t incoming);  // REQUIRES: mutex_ held
  void Touch(Entry& entry);           // REQUIRES: mutex_ held
  // Takes the entries' sizes from the folder: files other processes placed join (least
  // recent), files they evicted leave (unless pinned here).
  Status Recount();                   // REQUIRES: mutex_ held
  void Add(const std::string& name, int64_t bytes, bool most_recent);  // REQUIRES: mutex_ held
  // Pins `entry` (a link at its pin name on the first pin): the handle, or kNotFound when
  // another process evicted it.
  Result<CachedFile> Pin(Entry& entry);  // REQUIRES: mutex_ held
  std::string PinName(const std::string& entry) const { return pin_dir_ + "/" + entry; }

  Env* remote_;
  Env* local_;
  std::string dir_;
  int64_t capacity_;
  Duration recount_every_;
  std::string pin_dir_;  // ".pins/<pid>-<random>", under dir_
  mutable std::mutex mutex_;
  Timestamp recounted_;                   // GUARDED_BY(mutex_)
  std::map<std::string, Entry> entries_;  // GUARDED_BY(mutex_)
  std::list<std::string> lru_;            // GUARDED_BY(mutex_): most recent at the front
  int64_t reserved_ = 0;                  // GUARDED_BY(mutex_): bytes of fetches in flight
  CacheStats stats_;                      // GUARDED_BY(mutex_)
};

}  // namespace fleetlog
