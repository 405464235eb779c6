#include "storage/file_cache.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "core/fs.h"
#include "core/sigv4.h"

namespace fleetlog {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kChunk = 8 << 20;

// Copies the remote file into `local` in chunks, so a large file never sits in memory whole.
Status Download(Env* remote, const std::string& remote_path, int64_t bytes, const std::string& local) {
  std::FILE* out = std::fopen(local.c_str(), "wb");
  if (out == nullptr) return IoError("cannot create {}", local);
  Status status;
  for (int64_t offset = 0; offset < bytes && status.ok(); offset += kChunk) {
    Result<std::string> chunk = remote->ReadRange(remote_path, offset, std::min(kChunk, bytes - offset));
    if (!chunk.ok()) {
      status = chunk.status();
    } else if (chunk->empty()) {
      status = Status(StatusCode::kCorruption,
                      fmt::format("{} ends at {} bytes; the catalog says {}", remote_path, offset, bytes));
    } else if (std::fwrite(chunk->data(), 1, chunk->size(), out) != chunk->size()) {
      status = IoError("cannot write {} (disk full?)", local);
    }
  }
  if (std::fclose(out) != 0 && status.ok()) status = IoError("cannot write {}", local);
  return status;
}

}  // namespace

CachedFile::~CachedFile() {
  if (cache_ != nullptr) cache_->Unpin(name_);
}

Result<std::unique_ptr<LakeFileCache>> LakeFileCache::Open(Env* remote, std::string dir, int64_t capacity_bytes) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return IoError("cannot create the lake cache folder {}: {}", dir, error.message());
  std::unique_ptr<LakeFileCache> cache(new LakeFileCache(remote, std::move(dir), capacity_bytes));
  std::vector<std::pair<fs::file_time_type, fs::directory_entry>> found;
  for (const auto& entry : fs::directory_iterator(cache->dir_, error)) {
    if (entry.path().extension() == ".tmp") {
      fs::remove(entry.path(), error);  // a fetch cut short by a crash
    } else if (entry.is_regular_file(error) && entry.path().extension() == ".parquet") {
      found.emplace_back(entry.last_write_time(error), entry);
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::lock_guard lock(cache->mutex_);
  for (const auto& [time, entry] : found) {  // oldest first; each goes to the front
    const std::string name = entry.path().filename().string();
    cache->lru_.push_front(name);
    Entry& e = cache->entries_[name];
    e.name = name;
    e.bytes = static_cast<int64_t>(entry.file_size(error));
    e.position = cache->lru_.begin();
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
    std::error_code error;
    fs::remove(fs::path(dir_) / entry.name, error);
    stats_.bytes -= entry.bytes;
    ++stats_.evictions;
    const std::string name = *victim;
    victim = lru_.erase(victim);
    entries_.erase(name);
  }
  stats_.entries = static_cast<int64_t>(entries_.size());
  return Status::Ok();
}

Result<CachedFile> LakeFileCache::Fetch(const std::string& remote_path, int64_t bytes, const std::string& checksum) {
  const std::string name = sigv4::Sha256Hex(remote_path + "\n" + checksum).substr(0, 40) + ".parquet";
  const std::string local = (fs::path(dir_) / name).string();
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(name);
    if (it != entries_.end()) {
      ++it->second.pins;
      Touch(it->second);
      ++stats_.hits;
      return CachedFile(this, name, local);
    }
    ++stats_.misses;
    RETURN_IF_ERROR(MakeRoom(bytes));
    reserved_ += bytes;
  }
  const std::string tmp = local + "." + RandomHex() + ".tmp";
  Status fetched = Download(remote_, remote_path, bytes, tmp);
  if (fetched.ok() && !checksum.empty()) {
    Result<FileDigest> digest = DigestFile(tmp);
    if (!digest.ok()) {
      fetched = digest.status();
    } else if (digest->checksum != checksum || digest->bytes != bytes) {
      fetched = Status(StatusCode::kCorruption,
                       fmt::format("{} is not the catalogued file ({} bytes, BLAKE2b {}; the catalog says {} bytes, {}); "
                                   "run `fleetlog verify`",
                                   remote_path, digest->bytes, digest->checksum, bytes, checksum));
    }
  }
  std::error_code error;
  std::lock_guard lock(mutex_);
  reserved_ -= bytes;
  if (!fetched.ok()) {
    fs::remove(tmp, error);
    return fetched;
  }
  auto it = entries_.find(name);
  if (it != entries_.end()) {  // another thread fetched it meanwhile
    fs::remove(tmp, error);
    ++it->second.pins;
    Touch(it->second);
    return CachedFile(this, name, local);
  }
  fs::rename(tmp, local, error);
  if (error) {
    fs::remove(tmp, error);
    return IoError("cannot move a fetched file into the lake cache {}: {}", dir_, error.message());
  }
  lru_.push_front(name);
  Entry& entry = entries_[name];
  entry.name = name;
  entry.bytes = bytes;
  entry.pins = 1;
  entry.position = lru_.begin();
  stats_.bytes += bytes;
  stats_.entries = static_cast<int64_t>(entries_.size());
  return CachedFile(this, name, local);
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
