#include "client/curl_connection.h"

#include <curl/curl.h>

namespace fleetlog::client {
namespace {

struct Transfer {
  CURL* handle;
  BodySink* sink;
};

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  long code = 0;
  curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &code);
  return t->sink->Write(code, data, size * n) ? size * n : 0;  // a closed stdout stops the transfer
}

int OnProgress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) { return InterruptGuard::Interrupted() ? 1 : 0; }

class CurlConnection final : public HttpConnection {
 public:
  CurlConnection(std::string base, CURL* handle, const std::string& token) : base_(std::move(base)), handle_(handle) {
    for (curl_slist** list : {&headers_, &post_headers_}) {
      *list = curl_slist_append(*list, "Accept: application/json, text/csv");
      if (!token.empty()) *list = curl_slist_append(*list, ("Authorization: Bearer " + token).c_str());
    }
    post_headers_ = curl_slist_append(post_headers_, "Content-Type: application/json");
  }
  ~CurlConnection() override {
    curl_slist_free_all(headers_);
    curl_slist_free_all(post_headers_);
    curl_easy_cleanup(handle_);
  }

  Result<HttpResponse> Post(const std::string& path, const std::string& body, bool interruptible) override {
    BodySink sink;
    return Send(path, &body, post_headers_, sink, interruptible);
  }
  Result<HttpResponse> Get(const std::string& path, BodySink& sink) override {
    return Send(path, nullptr, headers_, sink, true);
  }

 private:
  Result<HttpResponse> Send(const std::string& path, const std::string* body, curl_slist* headers, BodySink& sink,
                            bool interruptible) {
    CURL* h = handle_;
    const std::string url = base_ + path;
    char error[CURL_ERROR_SIZE] = {};
    Transfer transfer{h, &sink};
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(kConnectTimeoutSeconds));
    curl_easy_setopt(h, CURLOPT_TIMEOUT, sink.streams() ? 0L : static_cast<long>(kRequestTimeoutSeconds));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(kStallTimeoutSeconds));
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, interruptible ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "fleetlog-query");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (body) {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
    } else {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    const CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);  // both live on this call's stack
    curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
    HttpResponse r;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    if (rc == CURLE_ABORTED_BY_CALLBACK && InterruptGuard::Interrupted())
      return Error(StatusCode::kCancelled, "interrupted");
    if (rc == CURLE_WRITE_ERROR && sink.stream_failed())
      return IoError("cannot write the result (is the output closed?)");
    if (rc != CURLE_OK)
      return Error(StatusCode::kUnavailable, "{} {}: {}", body ? "POST" : "GET", url.substr(0, url.find('?')),
                   error[0] ? error : curl_easy_strerror(rc));
    r.body = sink.TakeBody();
    return r;
  }

  std::string base_;
  CURL* handle_;
  curl_slist* headers_ = nullptr;
  curl_slist* post_headers_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<HttpConnection>> ConnectCurl(const std::string& base, const std::string& token) {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  CURL* handle = initialized ? curl_easy_init() : nullptr;
  if (handle == nullptr) return Internal("libcurl: cannot make a handle");
  return std::unique_ptr<HttpConnection>(std::make_unique<CurlConnection>(base, handle, token));
}

Result<std::unique_ptr<HttpConnection>> ConnectAny(const std::string& base, const std::string& token) {
  return base.starts_with("https://") ? ConnectCurl(base, token) : ConnectPlain(base, token);
}

}  // namespace fleetlog::client
