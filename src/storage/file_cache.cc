#include "storage/file_cache.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <set>
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

constexpr const char* kPins = ".pins";

// Cache entries are "<folders>/<hash>.parquet"; ".tmp" files are fetches in flight.
bool IsEntry(const std::string& name) { return name.ends_with(".parquet") && !name.starts_with(".pins/"); }

// Whether the process that made `tag` ("<pid>-<random>", the start of a pin folder's or a
// fetch's name) has ended.
bool TagEnded(std::string_view tag) {
  const long pid = std::strtol(std::string(tag).c_str(), nullptr, 10);
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

CachedFile::~CachedFile() {
  if (cache_ != nullptr) cache_->Unpin(entry_);
}

Result<std::unique_ptr<LakeFileCache>> LakeFileCache::Open(Env* remote, Env* local, std::string dir,
                                                           int64_t capacity_bytes, Duration recount_every) {
  RETURN_IF_ERROR(local->CreateDir(dir).WithContext("creating the lake cache folder"));
  std::unique_ptr<LakeFileCache> cache(new LakeFileCache(remote, local, std::move(dir), capacity_bytes, recount_every));
  const std::string tag = fmt::format("{}-{}", ::getpid(), RandomHex(4));
  cache->pin_dir_ = std::string(kPins) + "/" + tag;
  // Pins of processes that ended. Outside the Env: pins are local hard links (see Pin()).
  std::error_code ec;
  const std::filesystem::path pins = local->LocalPath(cache->dir_ + "/" + kPins);
  for (const auto& entry : std::filesystem::directory_iterator(pins, ec)) {  // outside the Env: pins are local hard links
    if (TagEnded(entry.path().filename().string())) std::filesystem::remove_all(entry.path(), ec);  // outside the Env: pins are local hard links
  }
  ASSIGN_OR_RETURN(std::vector<FileInfo> found, local->ListFiles(cache->dir_));
  for (const FileInfo& file : found) {
    if (!file.name.ends_with(".tmp") || file.name.starts_with(".pins/")) continue;
    // A fetch cut short by a crash ("<entry>.<pid>-<random>.tmp"); another process's may be in flight.
    const std::string stem = file.name.substr(0, file.name.size() - 4);
    if (TagEnded(stem.substr(stem.rfind('.') + 1))) RETURN_IF_ERROR(local->DeleteFile(cache->dir_ + "/" + file.name));
  }
  std::lock_guard lock(cache->mutex_);
  RETURN_IF_ERROR(cache->Recount());
  RETURN_IF_ERROR(cache->MakeRoom(0));
  return cache;
}

LakeFileCache::~LakeFileCache() {
  std::error_code ec;  // pins are local hard links (see Pin())
  std::filesystem::remove_all(local_->LocalPath(dir_ + "/" + pin_dir_), ec);  // outside the Env: pins are local hard links
}

void LakeFileCache::Add(const std::string& name, int64_t bytes, bool most_recent) {
  auto position = most_recent ? lru_.insert(lru_.begin(), name) : lru_.insert(lru_.end(), name);
  entries_[name] = Entry{.name = name, .bytes = bytes, .pins = 0, .position = position};
  stats_.bytes += bytes;
  stats_.entries = static_cast<int64_t>(entries_.size());
}

Status LakeFileCache::Recount() {
  recounted_ = local_->Now();
  ASSIGN_OR_RETURN(std::vector<FileInfo> found, local_->ListFiles(dir_));
  std::set<std::string> present;
  for (const FileInfo& file : found) {
    if (!IsEntry(file.name)) continue;
    present.insert(file.name);
    // Recency is not known for what another process (or an earlier run) placed: least recent.
    if (!entries_.count(file.name)) Add(file.name, file.size, /*most_recent=*/false);
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.pins > 0 || present.count(it->first)) {
      ++it;
      continue;
    }
    stats_.bytes -= it->second.bytes;
    lru_.erase(it->second.position);
    it = entries_.erase(it);
  }
  stats_.entries = static_cast<int64_t>(entries_.size());
  return Status::Ok();
}

void LakeFileCache::Touch(Entry& entry) {
  lru_.erase(entry.position);
  lru_.push_front(entry.name);
  entry.position = lru_.begin();
}

Result<CachedFile> LakeFileCache::Pin(Entry& entry) {
  const std::string link = local_->LocalPath(dir_ + "/" + PinName(entry.name));
  if (entry.pins == 0) {
    // Outside the Env: a pin is a hard link that need not outlive this process, and the Env's
    // LinkFile would make each durable (an fsync for every file a statement reads).
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(link).parent_path(), ec);  // outside the Env: pins are local hard links
    const std::string target = local_->LocalPath(dir_ + "/" + entry.name);
    if (::link(target.c_str(), link.c_str()) != 0 && errno != EEXIST) {
      if (errno == ENOENT) return Error(StatusCode::kNotFound, "{} left the lake cache", target);
      return IoError("pinning {} in the lake cache: {}", target, std::strerror(errno));
    }
  }
  ++entry.pins;
  Touch(entry);
  return CachedFile(this, entry.name, PinName(entry.name), link);
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
    // Another process's readers hold their own links: deleting the name takes nothing from them.
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
    if (it == entries_.end()) {
      // Fetched by another process sharing the folder: used in place.
      Result<int64_t> there = local_->FileSize(local);
      if (there.ok() && *there == bytes) {
        Add(name, bytes, /*most_recent=*/true);
        it = entries_.find(name);
      }
    }
    if (it != entries_.end()) {
      Result<CachedFile> pinned = Pin(it->second);
      if (pinned.ok()) {
        ++stats_.hits;
        return pinned;
      }
      if (pinned.status().code() != StatusCode::kNotFound) return pinned.status();
      // Evicted by another process: fetched again below.
      stats_.bytes -= it->second.bytes;
      lru_.erase(it->second.position);
      entries_.erase(it);
    }
    ++stats_.misses;
    if (local_->Now() - recounted_ >= recount_every_) RETURN_IF_ERROR(Recount());
    RETURN_IF_ERROR(MakeRoom(bytes));
    reserved_ += bytes;
  }
  const std::string tmp = local + "." + pin_dir_.substr(std::string_view(kPins).size() + 1) + RandomHex(4) + ".tmp";
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
    if (fetched.code() == StatusCode::kResourceExhausted) {  // ENOSPC, EDQUOT
      return fetched.WithContext(fmt::format("the disk of the lake cache {} is full: free space there, or lower [lake] "
                                             "cache_size (now {} bytes)", dir_, capacity_));
    }
    return fetched;
  }
  auto it = entries_.find(name);
  if (it != entries_.end()) {  // another thread fetched it meanwhile
    (void)local_->DeleteFile(tmp);
  } else {
    // Over a copy another process placed meanwhile, if any: the same bytes.
    Status placed = local_->Publish(tmp, local);
    if (!placed.ok()) {
      (void)local_->DeleteFile(tmp);
      return placed.WithContext("placing a fetched file in the lake cache");
    }
    Add(name, bytes, /*most_recent=*/true);
    it = entries_.find(name);
  }
  return Pin(it->second);
}

void LakeFileCache::Unpin(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second.pins == 0) return;
  if (--it->second.pins == 0) {
    std::error_code ec;  // pins are local hard links (see Pin())
    std::filesystem::remove(local_->LocalPath(dir_ + "/" + PinName(name)), ec);  // outside the Env: pins are local hard links
  }
}

CacheStats LakeFileCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace fleetlog
