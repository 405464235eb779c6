// An S3 client over libcurl: the calls a lake needs (put, multipart upload, ranged get, head,
// delete, copy, ListObjectsV2), signed with fleetlog's own SigV4 (core/sigv4.h).
//
// Every call retries with exponential back-off and full jitter when the failure may pass:
// connection refused or reset, timeouts, HTTP 500/502/503/504, 429 and S3's SlowDown,
// RequestTimeout and InternalError. Errors that the user must fix come back at once, with the
// bucket, the key and what to do: wrong credentials (kPermissionDenied), a missing bucket or key
// (kNotFound). TLS peers are verified (libcurl's defaults; AWS_CA_BUNDLE names a CA file).
// Uploads are verified: the payload's SHA-256 is signed (the server checks it), Content-MD5 is
// sent, and the returned ETag is compared with the MD5 (for multipart, the MD5 of the parts'
// MD5s and the part count; not under SSE-KMS or SSE-C, whose ETags are no MD5), so a completed
// upload holds exactly the bytes given.
//
// Thread-safety: an S3Client is safe for concurrent use; it keeps a pool of curl handles so
// that connections are reused.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sigv4.h"
#include "core/status.h"

namespace fleetlog {

struct S3Options {
  std::string endpoint;  // "https://s3.eu-west-1.amazonaws.com" or "http://127.0.0.1:9000"
  std::string region = "us-east-1";
  std::string bucket;
  bool path_style = false;  // "<endpoint>/<bucket>/<key>" instead of "<bucket>.<host>/<key>"
  sigv4::Credentials credentials;
  std::string ca_file;      // extra CA bundle; empty: the system's
  int connect_timeout_ms = 10'000;
  // A transfer slower than 1 KiB/s for this long is abandoned (and retried).
  int low_speed_seconds = 30;
  int max_attempts = 6;     // per call, the first included
  int backoff_base_ms = 200;
  int backoff_cap_ms = 10'000;
  int list_page_size = 1000;  // max-keys of each ListObjectsV2 page
};

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  std::string etag;  // without quotes
};

struct CompletedPart {
  int number = 0;
  std::string etag;  // without quotes
};

// What a conditional create (If-None-Match: *) found.
enum class CreateOutcome { kCreated, kExists, kUnsupported };

class S3Client {
 public:
  // kInvalidArgument when the endpoint or bucket is missing or malformed.
  static Result<std::unique_ptr<S3Client>> Create(S3Options options);
  // Ok when `endpoint` has the form "http(s)://host[:port]" (a trailing '/' allowed), else
  // kInvalidArgument saying the form.
  static Status CheckEndpoint(const std::string& endpoint);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Options& options() const { return options_; }

  // Writes `data` as the object `key` in one request; returns its ETag.
  Result<std::string> PutObject(const std::string& key, std::string_view data);
  // Creates `key` only when no object has that key (If-None-Match: *). kUnsupported when the
  // server refuses conditional writes (Swift 2.30's s3api answers 501).
  Result<CreateOutcome> CreateObject(const std::string& key, std::string_view data);
  // The whole object, or `length` bytes from `offset` (fewer at its end). kNotFound when absent.
  Result<std::string> GetObject(const std::string& key, std::optional<int64_t> offset = std::nullopt,
                                int64_t length = 0);
  // kNotFound when absent.
  Result<ObjectInfo> HeadObject(const std::string& key);
  // Deleting an absent key succeeds.
  Status DeleteObject(const std::string& key);
  // Server-side copy of `from` to `to` within the bucket (objects up to 5 GiB).
  Status CopyObject(const std::string& from, const std::string& to);
  // Every object whose key starts with `prefix`, in key order, following continuation tokens.
  Result<std::vector<ObjectInfo>> List(const std::string& prefix);

  // Multipart upload: each part but the last is at least 5 MiB; at most 10,000 parts.
  Result<std::string> CreateMultipartUpload(const std::string& key);
  Result<CompletedPart> UploadPart(const std::string& key, const std::string& upload_id, int part_number,
                                   std::string_view data);
  // `parts` in order; `md5s` the raw MD5 of each part, for the ETag check.
  Result<std::string> CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                              const std::vector<CompletedPart>& parts,
                                              const std::vector<std::string>& md5s);
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id);

  // Creates the bucket in the client's region; succeeds when it already exists and is ours.
  Status CreateBucket();
  // Whether the bucket exists and these credentials may list it; a message saying what is wrong.
  Status CheckBucket();

 private:
  struct Request;
  struct Response;
  explicit S3Client(S3Options options) : options_(std::move(options)) {}
  // Sends `request`, retrying what may pass; an error Status for anything that is not 2xx
  // (or in `accept`), mapped from S3's error XML.
  Result<Response> Execute(const Request& request, std::vector<long> accept = {});
  Result<Response> ExecuteOnce(const Request& request, void* curl);
  std::string Url(const Request& request, std::string* host, std::string* path) const;
  void* TakeHandle();
  void ReturnHandle(void* curl);

  S3Options options_;
  std::string scheme_host_;  // "https://s3.amazonaws.com"
  std::string host_;         // "s3.amazonaws.com[:port]"
  std::mutex mutex_;
  std::vector<void*> idle_handles_;  // GUARDED_BY(mutex_)
};

// Raw MD5 of `data` (16 bytes); base64 of bytes; hex of raw MD5.
std::string Md5(std::string_view data);
std::string Base64(std::string_view bytes);

}  // namespace fleetlog
