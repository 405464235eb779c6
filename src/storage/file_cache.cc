#include "storage/file_cache.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include "core/fs.h"
#include "core/sigv4.h"

namespace fleetlog {
namespace {

constexpr int64_t kChunk = 8 << 20;

// Copies the remote file into the local file `local` in chunks, so a large file never sits in
// memory whole.
Status Download(Env* remote, const std::string& remote_path, int64_t bytes, Env* local_env, const std::string& local) {
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, local_env->NewWritableFile(local, {.sync = false}));
  for (int64_t offset = 0; offset < bytes; offset += kChunk) {
    ASSIGN_OR_RETURN(std::string chunk, remote->ReadRange(remote_path, offset, std::min(kChunk, bytes - offset)));
    if (chunk.empty()) {
      return Status(StatusCode::kCorruption,
                    fmt::format("{} ends at {} bytes; the catalog says {}", remote_path, offset, bytes));
    }
    RETURN_IF_ERROR(out->Append(chunk));
  }
  return out->Close();
}

}  // namespace

CachedFile::~CachedFile() {
  if (cache_ != nullptr) cache_->Unpin(name_);
}

Result<std::unique_ptr<LakeFileCache>> LakeFileCache::Open(Env* remote, Env* local, std::string dir,
                                                           int64_t capacity_bytes) {
  RETURN_IF_ERROR(local->CreateDir(dir).WithContext("creating the lake cache folder"));
  std::unique_ptr<LakeFileCache> cache(new LakeFileCache(remote, local, std::move(dir), capacity_bytes));
  ASSIGN_OR_RETURN(std::vector<FileInfo> found, local->ListFiles(cache->dir_));
  std::lock_guard lock(cache->mutex_);
  for (const FileInfo& file : found) {
    if (file.name.ends_with(".tmp")) {
      RETURN_IF_ERROR(local->DeleteFile(cache->dir_ + "/" + file.name));  // a fetch cut short by a crash
      continue;
    }
    if (!file.name.ends_with(".parquet")) continue;
    // Recency is not kept across restarts: the entries found start in listing order.
    cache->lru_.push_back(file.name);
    Entry& e = cache->entries_[file.name];
    e.name = file.name;
    e.bytes = file.size;
    e.position = std::prev(cache->lru_.end());
    cache->stats_.bytes += e.bytes;
  }
  cache->stats_.entries = static_cast<int64_t>(cache->entries_.size());
  RETURN_IF_ERROR(cache->MakeRoom(0));
  return cache;
}

void LakeFileCache::Touch(Entry& entry) {
  lru_.erase(entry.position);
  lru_.push_front(entry.name);
  entry.position = lru_.begin();
}

Status LakeFileCache::MakeRoom(int64_t incoming) {
  auto victim = lru_.end();
  while (stats_.bytes + reserved_ + incoming > capacity_) {
    if (victim == lru_.begin()) {
      return Error(StatusCode::kResourceExhausted,
                   "the lake cache {} is full: {} bytes are in use by running queries and {} more are needed; raise "
                   "[lake] cache_size (now {} bytes)",
                   dir_, stats_.bytes + reserved_, incoming, capacity_);
    }
    --victim;
    Entry& entry = entries_[*victim];
    if (entry.pins > 0) continue;
    Status removed = local_->DeleteFile(dir_ + "/" + entry.name);
    if (!removed.ok()) return removed.WithContext("evicting from the lake cache");
    stats_.bytes -= entry.bytes;
    ++stats_.evictions;
    const std::string name = *victim;
    victim = lru_.erase(victim);
    entries_.erase(name);
  }
  stats_.entries = static_cast<int64_t>(entries_.size());
  return Status::Ok();
}

Result<CachedFile> LakeFileCache::Fetch(const std::string& remote_path, int64_t bytes, const std::string& checksum,
                                        const std::string& folder) {
  const std::string name =
      (folder.empty() ? "" : folder + "/") + sigv4::Sha256Hex(remote_path + "\n" + checksum).substr(0, 40) + ".parquet";
  const std::string local = dir_ + "/" + name;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(name);
    if (it != entries_.end()) {
      ++it->second.pins;
      Touch(it->second);
      ++stats_.hits;
      return CachedFile(this, name, local_->LocalPath(local));
    }
    ++stats_.misses;
    RETURN_IF_ERROR(MakeRoom(bytes));
    reserved_ += bytes;
  }
  const std::string tmp = local + "." + RandomHex() + ".tmp";
  Status fetched = Download(remote_, remote_path, bytes, local_, tmp);
  if (fetched.ok() && !checksum.empty()) {
    Result<FileDigest> digest = DigestFile(*local_, tmp);
    if (!digest.ok()) {
      fetched = digest.status();
    } else if (digest->checksum != checksum || digest->bytes != bytes) {
      fetched = Status(StatusCode::kCorruption,
                       fmt::format("{} is not the catalogued file ({} bytes, BLAKE2b {}; the catalog says {} bytes, {}); "
                                   "run `fleetlog verify`",
                                   remote_path, digest->bytes, digest->checksum, bytes, checksum));
    }
  }
  std::lock_guard lock(mutex_);
  reserved_ -= bytes;
  if (!fetched.ok()) {
    (void)local_->DeleteFile(tmp);
    return fetched;
  }
  auto it = entries_.find(name);
  if (it != entries_.end()) {  // another thread fetched it meanwhile
    (void)local_->DeleteFile(tmp);
    ++it->second.pins;
    Touch(it->second);
    return CachedFile(this, name, local_->LocalPath(local));
  }
  Status placed = local_->Publish(tmp, local);
  if (!placed.ok()) {
    (void)local_->DeleteFile(tmp);
    return placed.WithContext("placing a fetched file in the lake cache");
  }
  lru_.push_front(name);
  Entry& entry = entries_[name];
  entry.name = name;
  entry.bytes = bytes;
  entry.pins = 1;
  entry.position = lru_.begin();
  stats_.bytes += bytes;
  stats_.entries = static_cast<int64_t>(entries_.size());
  return CachedFile(this, name, local_->LocalPath(local));
}

void LakeFileCache::Unpin(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it != entries_.end() && it->second.pins > 0) --it->second.pins;
}

CacheStats LakeFileCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace fleetlog
