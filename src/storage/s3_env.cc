#include "storage/s3_env.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/fs.h"

namespace fleetlog {
namespace {

// Buffers appended bytes; uploads a part each time part_size bytes are waiting.
class S3WritableFile final : public WritableFile {
 public:
  S3WritableFile(S3Client* client, std::string key, int64_t part_size)
      : client_(client), key_(std::move(key)), part_size_(static_cast<size_t>(part_size)) {}

  ~S3WritableFile() override {
    if (!closed_ && !upload_id_.empty()) (void)client_->AbortMultipartUpload(key_, upload_id_);
  }

  Status Append(std::string_view data) override {
    RETURN_IF_ERROR(failed_);
    buffer_.append(data);
    total_ += static_cast<int64_t>(data.size());
    while (buffer_.size() >= part_size_) {
      failed_ = UploadPart(std::string_view(buffer_).substr(0, part_size_));
      RETURN_IF_ERROR(failed_);
      buffer_.erase(0, part_size_);
    }
    return Status::Ok();
  }

  Status Sync() override { return failed_; }

  Status Close() override {
    RETURN_IF_ERROR(failed_);
    closed_ = true;
    if (upload_id_.empty()) {
      RETURN_IF_ERROR(client_->PutObject(key_, buffer_).status());
    } else {
      if (!buffer_.empty()) {
        Status last = UploadPart(buffer_);
        if (!last.ok()) {
          (void)client_->AbortMultipartUpload(key_, upload_id_);
          return last;
        }
      }
      Result<std::string> etag = client_->CompleteMultipartUpload(key_, upload_id_, parts_, md5s_);
      if (!etag.ok()) {
        (void)client_->AbortMultipartUpload(key_, upload_id_);
        return etag.status();
      }
    }
    buffer_.clear();
    ASSIGN_OR_RETURN(ObjectInfo info, client_->HeadObject(key_));
    if (info.size != total_) {
      return Status(StatusCode::kCorruption, fmt::format("s3://{}/{}: {} bytes stored, {} written",
                                                         client_->options().bucket, key_, info.size, total_));
    }
    return Status::Ok();
  }

 private:
  Status UploadPart(std::string_view part) {
    if (upload_id_.empty()) {
      ASSIGN_OR_RETURN(upload_id_, client_->CreateMultipartUpload(key_));
    }
    ASSIGN_OR_RETURN(CompletedPart done, client_->UploadPart(key_, upload_id_, static_cast<int>(parts_.size()) + 1, part));
    parts_.push_back(std::move(done));
    md5s_.push_back(Md5(part));
    return Status::Ok();
  }

  S3Client* client_;
  std::string key_;
  size_t part_size_;
  std::string buffer_;
  int64_t total_ = 0;
  std::string upload_id_;
  std::vector<CompletedPart> parts_;
  std::vector<std::string> md5s_;
  bool closed_ = false;
  Status failed_;
};

struct LeaseRecord {
  std::string owner;
  std::string token;
  Timestamp expires;
};

std::string EncodeLease(const LeaseRecord& record) {
  return nlohmann::json{{"owner", record.owner}, {"token", record.token}, {"expires", FormatTimestampIso(record.expires)}}
      .dump();
}

Result<std::optional<LeaseRecord>> ReadLease(S3Client& client, const std::string& key) {
  Result<std::string> text = client.GetObject(key);
  if (text.status().code() == StatusCode::kNotFound) return std::optional<LeaseRecord>();
  if (!text.ok()) return text.status();
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json["owner"].is_string() || !json["token"].is_string() || !json["expires"].is_string()) {
    return Status(StatusCode::kCorruption, fmt::format("lease s3://{}/{} is not a fleetlog lease: {}",
                                                       client.options().bucket, key, text->substr(0, 200)));
  }
  ASSIGN_OR_RETURN(Timestamp expires, ParseTimestamp(json["expires"].get<std::string>()));
  return std::optional<LeaseRecord>(LeaseRecord{json["owner"], json["token"], expires});
}

Status HeldBy(const std::string& where, const LeaseRecord& holder) {
  return Error(StatusCode::kUnavailable,
               "{} is held by another writer: {} (lease valid until {}); stop that fleetlog, or wait for its lease "
               "to expire",
               where, holder.owner, FormatTimestampIso(holder.expires));
}

class S3LeaseImpl final : public S3Lease {
 public:
  S3LeaseImpl(S3Client* client, std::string key, LeaseRecord record, const Clock* clock, Duration duration)
      : client_(client), key_(std::move(key)), record_(std::move(record)), clock_(clock), duration_(duration) {
    renewer_ = std::thread([this] { RenewLoop(); });
  }

  ~S3LeaseImpl() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    renewer_.join();
    auto current = ReadLease(*client_, key_);
    if (current.ok() && current->has_value() && (*current)->token == record_.token) {
      (void)client_->DeleteObject(key_);
    }
  }

  Status Valid() const override {
    std::lock_guard lock(mutex_);
    return lost_;
  }

 private:
  void RenewLoop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::microseconds(duration_.micros() / 3));
      if (stopping_) break;
      lock.unlock();
      Status renewed = Renew();
      lock.lock();
      if (!renewed.ok() && (renewed.code() == StatusCode::kUnavailable && lost_.ok()) &&
          renewed.message().find("held by") != std::string::npos) {
        lost_ = renewed;
      }
      if (!renewed.ok() && clock_->Now() > record_.expires && lost_.ok()) {
        lost_ = renewed.WithContext("the lease expired before it could be renewed");
      }
    }
  }

  Status Renew() {
    ASSIGN_OR_RETURN(std::optional<LeaseRecord> current, ReadLease(*client_, key_));
    if (current && current->token != record_.token) return HeldBy("s3://" + client_->options().bucket + "/" + key_, *current);
    LeaseRecord next = record_;
    next.expires = clock_->Now() + duration_;
    RETURN_IF_ERROR(client_->PutObject(key_, EncodeLease(next)).status());
    std::lock_guard lock(mutex_);
    record_.expires = next.expires;
    return Status::Ok();
  }

  S3Client* client_;
  std::string key_;
  LeaseRecord record_;  // GUARDED_BY(mutex_) for expires
  const Clock* clock_;
  Duration duration_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  Status lost_;            // GUARDED_BY(mutex_)
  std::thread renewer_;
};

}  // namespace

Status ParseS3Url(std::string_view url, std::string* bucket, std::string* prefix) {
  if (!url.starts_with("s3://")) return InvalidArgument("\"{}\" is not an s3://bucket/prefix URL", url);
  std::string_view rest = url.substr(5);
  size_t slash = rest.find('/');
  std::string_view name = rest.substr(0, slash);
  bool valid = name.size() >= 3 && name.size() <= 63;
  for (char c : name) valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
  if (!valid) {
    return InvalidArgument("\"{}\": the bucket name must be 3-63 characters of a-z, 0-9, '-' and '.'", url);
  }
  *bucket = std::string(name);
  std::string_view key = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  while (key.ends_with('/')) key.remove_suffix(1);
  *prefix = std::string(key);
  return Status::Ok();
}

S3Env::S3Env(std::unique_ptr<S3Client> client, const Clock* clock, S3EnvOptions options)
    : client_(std::move(client)), clock_(clock), options_(options) {
  options_.part_size = std::max<int64_t>(options_.part_size, 5 << 20);
}

S3Env::~S3Env() = default;

std::string S3Env::PathOf(const std::string& key) const { return "s3://" + client_->options().bucket + "/" + key; }

Result<std::string> S3Env::Key(const std::string& path) const {
  std::string root = "s3://" + client_->options().bucket;
  if (path == root) return std::string();
  if (!path.starts_with(root + "/")) {
    return InvalidArgument("\"{}\" is not in the lake's bucket ({})", path, root);
  }
  std::string key = path.substr(root.size() + 1);
  while (key.ends_with('/')) key.pop_back();
  return key;
}

Status S3Env::WriteFile(const std::string& path, std::string_view data, const WriteOptions& /*options*/) {
  ASSIGN_OR_RETURN(std::string key, Key(path));
  if (static_cast<int64_t>(data.size()) <= options_.part_size) return client_->PutObject(key, data).status();
  S3WritableFile file(client_.get(), key, options_.part_size);
  RETURN_IF_ERROR(file.Append(data));
  return file.Close();
}

Result<std::string> S3Env::ReadFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string key, Key(path));
  return client_->GetObject(key);
}

Result<std::string> S3Env::ReadRange(const std::string& path, int64_t offset, int64_t length) {
  ASSIGN_OR_RETURN(std::string key, Key(path));
  if (length <= 0) {
    RETURN_IF_ERROR(client_->HeadObject(key).status());
    return std::string();
  }
  return client_->GetObject(key, offset, length);
}

Result<std::unique_ptr<WritableFile>> S3Env::NewWritableFile(const std::string& path, const WriteOptions& /*options*/) {
  ASSIGN_OR_RETURN(std::string key, Key(path));
  return std::unique_ptr<WritableFile>(std::make_unique<S3WritableFile>(client_.get(), key, options_.part_size));
}

Result<bool> S3Env::FileExists(const std::string& path) {
  ASSIGN_OR_RETURN(std::string key, Key(path));
  if (!key.empty()) {
    Result<ObjectInfo> head = client_->HeadObject(key);
    if (head.ok()) return true;
    if (head.status().code() != StatusCode::kNotFound) return head.status();
  }
  ASSIGN_OR_RETURN(std::vector<FileInfo> below, ListFiles(path));
  return !below.empty();
}

Result<int64_t> S3Env::FileSize(const std::string& path) {
  ASSIGN_OR_RETURN(std::string key, Key(path));
  ASSIGN_OR_RETURN(ObjectInfo info, client_->HeadObject(key));
  return info.size;
}

Result<std::vector<FileInfo>> S3Env::ListFiles(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string key, Key(dir));
  std::string prefix = key.empty() ? "" : key + "/";
  ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, client_->List(prefix));
  std::vector<FileInfo> files;
  files.reserve(objects.size());
  for (ObjectInfo& object : objects) files.push_back(FileInfo{object.key.substr(prefix.size()), object.size});
  return files;
}

Status S3Env::DeleteFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string key, Key(path));
  return client_->DeleteObject(key);
}

Status S3Env::DeleteTree(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<FileInfo> files, ListFiles(dir));
  for (const FileInfo& file : files) RETURN_IF_ERROR(DeleteFile(dir + "/" + file.name));
  return Status::Ok();
}

Status S3Env::CreateDir(const std::string& /*dir*/) { return Status::Ok(); }
Status S3Env::SyncDir(const std::string& /*dir*/) { return Status::Ok(); }
std::string S3Env::LocalPath(const std::string& /*path*/) const { return ""; }

Status S3Env::Publish(const std::string& staged, const std::string& final) {
  ASSIGN_OR_RETURN(std::string from, Key(staged));
  ASSIGN_OR_RETURN(std::string to, Key(final));
  Result<ObjectInfo> source = client_->HeadObject(from);
  if (source.status().code() == StatusCode::kNotFound) {
    // Published before a crash that came before the staged object's delete: done already.
    Result<ObjectInfo> target = client_->HeadObject(to);
    if (target.ok()) return Status::Ok();
    return source.status().WithContext("publish " + staged);
  }
  if (!source.ok()) return source.status();
  RETURN_IF_ERROR(client_->CopyObject(from, to));
  ASSIGN_OR_RETURN(ObjectInfo target, client_->HeadObject(to));
  if (target.size != source->size) {
    return Status(StatusCode::kCorruption, fmt::format("publish {} to {}: the copy holds {} bytes, the original {}",
                                                       staged, final, target.size, source->size));
  }
  return client_->DeleteObject(from);
}

Result<std::unique_ptr<FileLock>> S3Env::LockFile(const std::string& path, std::string_view owner) {
  ASSIGN_OR_RETURN(std::string key, Key(path));
  ASSIGN_OR_RETURN(std::optional<LeaseRecord> current, ReadLease(*client_, key));
  const Timestamp now = clock_->Now();
  const bool gone = current && options_.holder_gone && options_.holder_gone(current->owner);
  if (current && current->expires > now && !gone) return HeldBy(path, *current);

  LeaseRecord mine{std::string(owner), RandomHex(16), now + options_.lease_duration};
  bool held = false;
  if (!current) {
    ASSIGN_OR_RETURN(CreateOutcome created, client_->CreateObject(key, EncodeLease(mine)));
    if (created == CreateOutcome::kExists) {
      ASSIGN_OR_RETURN(current, ReadLease(*client_, key));
      if (current) return HeldBy(path, *current);
      return Error(StatusCode::kUnavailable, "{}: another writer took and released the lease just now; retry", path);
    }
    held = created == CreateOutcome::kCreated;
  }
  if (!held) {
    // No conditional writes (or an expired lease to take over): write, let competing writers'
    // puts land, and read back. The last put wins; only its writer sees its own token.
    RETURN_IF_ERROR(client_->PutObject(key, EncodeLease(mine)).status());
    std::this_thread::sleep_for(options_.lease_settle.chrono());
    ASSIGN_OR_RETURN(current, ReadLease(*client_, key));
    if (!current) return Error(StatusCode::kUnavailable, "{}: the lease vanished while it was taken; retry", path);
    if (current->token != mine.token) return HeldBy(path, *current);
  }
  return std::unique_ptr<FileLock>(
      std::make_unique<S3LeaseImpl>(client_.get(), key, mine, clock_, options_.lease_duration));
}

}  // namespace fleetlog
