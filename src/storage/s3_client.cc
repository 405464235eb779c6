#include "storage/s3_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "core/text.h"
#include "storage/xml.h"

namespace fleetlog {

struct S3Client::Request {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string key;     // empty: the bucket itself
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // signed, sent as given
  std::string_view body;
  std::string what;  // "put", "list", ... for messages
};

struct S3Client::Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

namespace {

// libcurl's global state, set up once before the first handle.
void InitCurlOnce() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

size_t AppendHeader(char* data, size_t size, size_t count, void* out) {
  std::string_view line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = std::string(value);
  }
  return size * count;
}

struct UploadCursor {
  std::string_view data;
  size_t offset = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t count, void* in) {
  auto* cursor = static_cast<UploadCursor*>(in);
  size_t n = std::min(size * count, cursor->data.size() - cursor->offset);
  std::copy_n(cursor->data.data() + cursor->offset, n, buffer);
  cursor->offset += n;
  return n;
}

// Rewinds the body when libcurl resends it (after a redirect or an auth retry).
int SeekBody(void* in, curl_off_t offset, int origin) {
  auto* cursor = static_cast<UploadCursor*>(in);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > cursor->data.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  cursor->offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

std::string Unquote(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

bool IsTransient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

bool IsTransientHttp(long status, const std::string& code) {
  return status == 500 || status == 502 || status == 503 || status == 504 || status == 429 ||
         code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" || code == "ServiceUnavailable";
}

std::string Md5Hex(std::string_view data) { return sigv4::HexEncode(Md5(data)); }

// With SSE-KMS or SSE-C the ETag is not the MD5 of the bytes; the server has checked
// Content-MD5 (and the signed SHA-256) before storing all the same.
bool EtagIsMd5(const std::map<std::string, std::string>& headers) {
  auto sse = headers.find("x-amz-server-side-encryption");
  return (sse == headers.end() || sse->second == "AES256") &&
         headers.find("x-amz-server-side-encryption-customer-algorithm") == headers.end();
}

}  // namespace

std::string Md5(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Status S3Client::CheckEndpoint(const std::string& endpoint) {
  std::string trimmed = endpoint;
  while (trimmed.ends_with('/')) trimmed.pop_back();
  if (!trimmed.starts_with("http://") && !trimmed.starts_with("https://")) {
    return InvalidArgument("S3 endpoint \"{}\" is not http(s)://host[:port]", endpoint);
  }
  const std::string host = trimmed.substr(trimmed.find("://") + 3);
  if (host.empty() || host.find_first_of("/?#@ ") != std::string::npos) {
    return InvalidArgument("S3 endpoint \"{}\" must be http(s)://host[:port], without a path", endpoint);
  }
  if (const size_t colon = host.rfind(':'); colon != std::string::npos && host.back() != ']') {
    const std::string port = host.substr(colon + 1);
    const bool numeric = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    if (!numeric || std::stoi(port) == 0 || std::stoi(port) > 65535)
      return InvalidArgument("S3 endpoint \"{}\" has no valid port (1 to 65535): write http(s)://host[:port]", endpoint);
  }
  return Status::Ok();
}

Result<std::unique_ptr<S3Client>> S3Client::Create(S3Options options) {
  if (options.bucket.empty()) return InvalidArgument("S3: no bucket given");
  RETURN_IF_ERROR(CheckEndpoint(options.endpoint));
  std::string endpoint = options.endpoint;
  while (endpoint.ends_with('/')) endpoint.pop_back();
  const size_t scheme_end = endpoint.find("://");
  std::string host = endpoint.substr(scheme_end + 3);
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return Status(StatusCode::kPermissionDenied,
                  "S3: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or store them with "
                  "`fleetlog secrets set`)");
  }
  InitCurlOnce();
  std::unique_ptr<S3Client> client(new S3Client(std::move(options)));
  client->scheme_host_ = endpoint.substr(0, scheme_end + 3);
  client->host_ = host;
  return client;
}

S3Client::~S3Client() {
  for (void* handle : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* S3Client::TakeHandle() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void S3Client::ReturnHandle(void* curl) {
  std::lock_guard lock(mutex_);
  idle_handles_.push_back(curl);
}

std::string S3Client::Url(const Request& request, std::string* host, std::string* path) const {
  std::string encoded_key = UriEncode(request.key, /*keep_slash=*/true);
  if (options_.path_style) {
    *host = host_;
    *path = "/" + options_.bucket + (request.key.empty() ? "" : "/" + encoded_key);
  } else {
    *host = options_.bucket + "." + host_;
    *path = "/" + encoded_key;
  }
  std::string query = sigv4::CanonicalQueryString(request.query);
  return scheme_host_ + *host + *path + (query.empty() ? "" : "?" + query);
}

Result<S3Client::Response> S3Client::ExecuteOnce(const Request& request, void* handle) {
  CURL* curl = static_cast<CURL*>(handle);
  sigv4::Request signing;
  signing.method = request.method;
  std::string host;
  std::string url = Url(request, &host, &signing.path);
  signing.query = request.query;
  signing.headers = request.headers;
  signing.headers.emplace_back("host", host);
  signing.payload_hash = sigv4::Sha256Hex(request.body);
  sigv4::Sign(&signing, options_.credentials, options_.region, "s3", sigv4::AmzDateNow(), sigv4::PathRule::kS3);

  curl_slist* header_list = nullptr;
  for (const auto& [name, value] : signing.headers) {
    header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
  }
  header_list = curl_slist_append(header_list, "Expect:");  // no 100-continue round trip
  if (request.method == "POST") header_list = curl_slist_append(header_list, "Content-Type: application/xml");

  Response response;
  UploadCursor cursor{request.body, 0};
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_seconds));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &cursor);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &SeekBody);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &cursor);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(header_list);
  if (code != CURLE_OK) {
    return Status(IsTransient(code) ? StatusCode::kUnavailable : StatusCode::kIoError,
                  fmt::format("{}: {}", url, curl_easy_strerror(code)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Result<S3Client::Response> S3Client::Execute(const Request& request, std::vector<long> accept) {
  std::string target = "s3://" + options_.bucket + "/" + request.key;
  thread_local std::mt19937_64 random(std::random_device{}());
  Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      // Full jitter: a uniform wait up to an exponentially growing, capped bound.
      int64_t bound = std::min<int64_t>(options_.backoff_cap_ms, int64_t{options_.backoff_base_ms} << std::min(attempt, 20));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, bound)(random)));
    }
    void* handle = TakeHandle();
    if (handle == nullptr) return Internal("S3 {} {}: libcurl could not make a handle", request.what, target);
    Result<Response> response = ExecuteOnce(request, handle);
    ReturnHandle(handle);
    if (!response.ok()) {
      last = response.status().WithContext(fmt::format("S3 {} {}", request.what, target));
      if (response.status().code() == StatusCode::kUnavailable) continue;
      return last;
    }
    long status = response->status;
    std::string error_code, error_message;
    bool ok_status = (status >= 200 && status < 300) ||
                     std::find(accept.begin(), accept.end(), status) != accept.end();
    // S3 may answer 200 to a copy or a completion and still fail inside the body.
    if (!response->body.empty() && (status >= 300 || request.method == "POST" || request.what == "copy")) {
      auto xml = ParseXml(response->body);
      if (xml.ok() && xml->name == "Error") {
        error_code = xml->ChildText("Code");
        error_message = xml->ChildText("Message");
        if (ok_status && status < 300) ok_status = false;
      }
    }
    if (ok_status) return response;
    std::string detail = error_code.empty() ? fmt::format("HTTP {}", status)
                                            : fmt::format("HTTP {} {}: {}", status, error_code, error_message);
    if (IsTransientHttp(status, error_code)) {
      last = Status(StatusCode::kUnavailable, fmt::format("S3 {} {}: {}", request.what, target, detail));
      continue;
    }
    if (error_code == "NoSuchBucket") {
      return Status(StatusCode::kNotFound,
                    fmt::format("S3 bucket \"{}\" does not exist at {}{} ({}): create it, or fix [lake] path",
                                options_.bucket, scheme_host_, host_, detail));
    }
    if (status == 404) return Status(StatusCode::kNotFound, fmt::format("S3 {} {}: no such object", request.what, target));
    if (status == 403 || status == 401) {
      return Status(StatusCode::kPermissionDenied,
                    fmt::format("S3 {} {}: access refused ({}); check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or "
                                "the secret store), the region \"{}\" and the bucket's policy",
                                request.what, target, detail, options_.region));
    }
    if (status == 412) {
      return Status(StatusCode::kAlreadyExists, fmt::format("S3 {} {}: precondition failed", request.what, target));
    }
    return Status(StatusCode::kIoError, fmt::format("S3 {} {}: {}", request.what, target, detail));
  }
  return Status(last.code(), fmt::format("{} (gave up after {} attempts)", last.message(), options_.max_attempts));
}

Result<std::string> S3Client::PutObject(const std::string& key, std::string_view data) {
  std::string md5 = Md5(data);
  Request request{"PUT", key, {}, {{"content-md5", Base64(md5)}}, data, "put"};
  ASSIGN_OR_RETURN(Response response, Execute(request));
  std::string etag = Unquote(response.headers["etag"]);
  if (EtagIsMd5(response.headers) && etag != sigv4::HexEncode(md5)) {
    return Status(StatusCode::kCorruption,
                  fmt::format("S3 put s3://{}/{}: the stored object's ETag {} is not the MD5 {} of the bytes sent",
                              options_.bucket, key, etag, sigv4::HexEncode(md5)));
  }
  return etag;
}

Result<CreateOutcome> S3Client::CreateObject(const std::string& key, std::string_view data) {
  Request request{"PUT", key, {}, {{"content-md5", Base64(Md5(data))}, {"if-none-match", "*"}}, data, "create"};
  Result<Response> response = Execute(request, {501});
  if (!response.ok()) {
    // 409 ConditionalRequestConflict: another conditional write to the key is in flight.
    if (response.status().code() == StatusCode::kAlreadyExists ||
        response.status().message().find("ConditionalRequestConflict") != std::string::npos) {
      return CreateOutcome::kExists;
    }
    return response.status();
  }
  if (response->status == 501) return CreateOutcome::kUnsupported;
  return CreateOutcome::kCreated;
}

Result<std::string> S3Client::GetObject(const std::string& key, std::optional<int64_t> offset, int64_t length) {
  Request request{"GET", key, {}, {}, {}, "get"};
  if (offset) {
    if (length <= 0) return std::string();
    request.headers.emplace_back("range", fmt::format("bytes={}-{}", *offset, *offset + length - 1));
  }
  // 416: a range that starts at or past the end: nothing to read.
  ASSIGN_OR_RETURN(Response response, Execute(request, {416}));
  if (response.status == 416) return std::string();
  if (offset && response.status == 200 && *offset < static_cast<int64_t>(response.body.size())) {
    // A server that ignores Range sends the whole object.
    return response.body.substr(static_cast<size_t>(*offset), static_cast<size_t>(length));
  }
  return std::move(response.body);
}

Result<ObjectInfo> S3Client::HeadObject(const std::string& key) {
  ASSIGN_OR_RETURN(Response response, Execute({"HEAD", key, {}, {}, {}, "head"}));
  ObjectInfo info;
  info.key = key;
  info.size = std::strtoll(response.headers["content-length"].c_str(), nullptr, 10);
  info.etag = Unquote(response.headers["etag"]);
  return info;
}

Status S3Client::DeleteObject(const std::string& key) {
  Result<Response> response = Execute({"DELETE", key, {}, {}, {}, "delete"}, {404});
  return response.ok() ? Status::Ok() : response.status();
}

Status S3Client::CopyObject(const std::string& from, const std::string& to) {
  Request request{"PUT", to,    {}, {{"x-amz-copy-source", "/" + options_.bucket + "/" + UriEncode(from, true)}},
                  {},    "copy"};
  Result<Response> response = Execute(request);
  return response.ok() ? Status::Ok() : response.status().WithContext("from s3://" + options_.bucket + "/" + from);
}

Result<std::vector<ObjectInfo>> S3Client::List(const std::string& prefix) {
  std::vector<ObjectInfo> objects;
  std::string token;
  while (true) {
    Request request{"GET", "", {{"list-type", "2"}, {"prefix", prefix},
                                {"max-keys", std::to_string(options_.list_page_size)}}, {}, {}, "list"};
    if (!token.empty()) request.query.emplace_back("continuation-token", token);
    ASSIGN_OR_RETURN(Response response, Execute(request));
    ASSIGN_OR_RETURN(XmlElement xml, ParseXml(response.body));
    if (xml.name != "ListBucketResult") {
      return Status(StatusCode::kCorruption, fmt::format("S3 list s3://{}/{}: the answer is not a ListBucketResult",
                                                         options_.bucket, prefix));
    }
    for (const XmlElement* contents : xml.Children("Contents")) {
      ObjectInfo info;
      info.key = contents->ChildText("Key");
      info.size = std::strtoll(contents->ChildText("Size").c_str(), nullptr, 10);
      info.etag = Unquote(contents->ChildText("ETag"));
      objects.push_back(std::move(info));
    }
    token = xml.ChildText("NextContinuationToken");
    if (xml.ChildText("IsTruncated") != "true" || token.empty()) break;
  }
  std::sort(objects.begin(), objects.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return objects;
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& key) {
  ASSIGN_OR_RETURN(Response response, Execute({"POST", key, {{"uploads", ""}}, {}, {}, "initiate upload"}));
  ASSIGN_OR_RETURN(XmlElement xml, ParseXml(response.body));
  std::string upload_id = xml.ChildText("UploadId");
  if (upload_id.empty()) {
    return Status(StatusCode::kCorruption,
                  fmt::format("S3 initiate upload s3://{}/{}: no UploadId in the answer", options_.bucket, key));
  }
  return upload_id;
}

Result<CompletedPart> S3Client::UploadPart(const std::string& key, const std::string& upload_id, int part_number,
                                           std::string_view data) {
  std::string md5 = Md5(data);
  Request request{"PUT", key, {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
                  {{"content-md5", Base64(md5)}}, data, "upload part"};
  ASSIGN_OR_RETURN(Response response, Execute(request));
  CompletedPart part{part_number, Unquote(response.headers["etag"])};
  if (EtagIsMd5(response.headers) && part.etag != sigv4::HexEncode(md5)) {
    return Status(StatusCode::kCorruption, fmt::format("S3 upload part {} of s3://{}/{}: ETag {} is not the MD5 {}",
                                                       part_number, options_.bucket, key, part.etag,
                                                       sigv4::HexEncode(md5)));
  }
  return part;
}

Result<std::string> S3Client::CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                                      const std::vector<CompletedPart>& parts,
                                                      const std::vector<std::string>& md5s) {
  std::string body = "<CompleteMultipartUpload>";
  for (const CompletedPart& part : parts) {
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>\"{}\"</ETag></Part>", part.number,
                        XmlEscape(part.etag));
  }
  body += "</CompleteMultipartUpload>";
  Request request{"POST", key, {{"uploadId", upload_id}}, {}, body, "complete upload"};
  ASSIGN_OR_RETURN(Response response, Execute(request));
  ASSIGN_OR_RETURN(XmlElement xml, ParseXml(response.body));
  std::string etag = Unquote(xml.ChildText("ETag"));
  std::string all_md5s;
  for (const std::string& md5 : md5s) all_md5s += md5;
  std::string expected = Md5Hex(all_md5s) + "-" + std::to_string(parts.size());
  if (EtagIsMd5(response.headers) && etag != expected) {
    return Status(StatusCode::kCorruption,
                  fmt::format("S3 complete upload s3://{}/{}: ETag {} is not the expected {}", options_.bucket, key,
                              etag, expected));
  }
  return etag;
}

Status S3Client::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  Result<Response> response = Execute({"DELETE", key, {{"uploadId", upload_id}}, {}, {}, "abort upload"}, {404});
  return response.ok() ? Status::Ok() : response.status();
}

Status S3Client::CheckBucket() {
  Result<Response> response = Execute({"GET", "", {{"list-type", "2"}, {"max-keys", "1"}}, {}, {}, "list"});
  return response.ok() ? Status::Ok() : response.status();
}

Status S3Client::CreateBucket() {
  std::string body;
  if (options_.region != "us-east-1") {
    body = "<CreateBucketConfiguration><LocationConstraint>" + XmlEscape(options_.region) +
           "</LocationConstraint></CreateBucketConfiguration>";
  }
  Result<Response> response = Execute({"PUT", "", {}, {}, body, "create bucket"}, {409});
  if (!response.ok()) return response.status();
  if (response->status == 409 && response->body.find("BucketAlreadyOwnedByYou") == std::string::npos) {
    return Status(StatusCode::kAlreadyExists, fmt::format("S3 bucket \"{}\" exists and belongs to someone else",
                                                          options_.bucket));
  }
  return Status::Ok();
}

}  // namespace fleetlog
