#include "alert/delivery.h"

#include <curl/curl.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "alert/alert_store.h"
#include "core/env.h"
#include "alert/notification.h"

namespace fleetlog::alert {
namespace {

// curl_global_init is not thread-safe; the first user initializes it once.
void InitCurl() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

struct Easy {
  CURL* h = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* recipients = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  Easy() {
    InitCurl();
    h = curl_easy_init();
    if (h) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  }
  ~Easy() {
    curl_slist_free_all(headers);
    curl_slist_free_all(recipients);
    if (h) curl_easy_cleanup(h);
  }
  Status Fail(CURLcode code, const std::string& what) const {
    return Error(StatusCode::kUnavailable, "{}: {}", what, error[0] ? error : curl_easy_strerror(code));
  }
};

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->size() < 4096) s->append(data, std::min(size * n, 4096 - s->size()));
  return size * n;
}

struct Upload {
  const std::string* text;
  size_t at = 0;
};
size_t ReadUpload(char* buf, size_t size, size_t n, void* in) {
  auto* u = static_cast<Upload*>(in);
  const size_t len = std::min(size * n, u->text->size() - u->at);
  std::memcpy(buf, u->text->data() + u->at, len);
  u->at += len;
  return len;
}

// The URL without a query string or credentials, for messages (tokens stay out of logs).
std::string Redact(const std::string& url) {
  const size_t scheme = url.find("://");
  std::string host_path = scheme == std::string::npos ? url : url.substr(scheme + 3);
  host_path = host_path.substr(0, host_path.find_first_of("?#"));
  if (const size_t at = host_path.find('@'); at != std::string::npos && at < host_path.find('/')) host_path = host_path.substr(at + 1);
  // Webhook paths such as Slack's carry the token: keep the first segment only.
  const size_t slash = host_path.find('/');
  if (slash != std::string::npos && host_path.find('/', slash + 1) != std::string::npos)
    host_path = host_path.substr(0, host_path.find('/', slash + 1)) + "/...";
  return (scheme == std::string::npos ? "" : url.substr(0, scheme + 3)) + host_path;
}

}  // namespace

Status HttpPost(const std::string& url, const std::string& body, Duration timeout, const std::string& ca_file) {
  Easy e;
  if (!e.h) return Internal("libcurl: cannot make a handle");
  std::string answer;
  e.headers = curl_slist_append(e.headers, "Content-Type: application/json");
  e.headers = curl_slist_append(e.headers, "User-Agent: fleetlog");
  curl_easy_setopt(e.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.headers);
  curl_easy_setopt(e.h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(e.h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(e.h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.micros() / 1000));
  curl_easy_setopt(e.h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.micros() / 1000));
  curl_easy_setopt(e.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e.h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &answer);
  if (!ca_file.empty()) curl_easy_setopt(e.h, CURLOPT_CAINFO, ca_file.c_str());
  const CURLcode code = curl_easy_perform(e.h);
  if (code != CURLE_OK) return e.Fail(code, "POST " + Redact(url));
  long status = 0;
  curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299)
    return Error(StatusCode::kUnavailable, "POST {}: HTTP {}: {}", Redact(url), status, answer.substr(0, 300));
  return Status::Ok();
}

Status SendMail(const SmtpMessage& m) {
  Easy e;
  if (!e.h) return Internal("libcurl: cannot make a handle");
  for (const auto& to : m.to) e.recipients = curl_slist_append(e.recipients, ("<" + to + ">").c_str());
  const std::string from = "<" + m.from + ">";
  Upload upload{&m.message};
  curl_easy_setopt(e.h, CURLOPT_URL, m.url.c_str());
  curl_easy_setopt(e.h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(e.h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(e.h, CURLOPT_MAIL_RCPT, e.recipients);
  curl_easy_setopt(e.h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e.h, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(e.h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(e.h, CURLOPT_TIMEOUT_MS, static_cast<long>(m.timeout.micros() / 1000));
  curl_easy_setopt(e.h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m.timeout.micros() / 1000));
  curl_easy_setopt(e.h, CURLOPT_NOSIGNAL, 1L);
  // smtp:// with STARTTLS required: the session fails rather than send in clear text.
  if (m.require_starttls) curl_easy_setopt(e.h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!m.username.empty()) curl_easy_setopt(e.h, CURLOPT_USERNAME, m.username.c_str());
  if (!m.password.empty()) curl_easy_setopt(e.h, CURLOPT_PASSWORD, m.password.c_str());
  if (!m.ca_file.empty()) curl_easy_setopt(e.h, CURLOPT_CAINFO, m.ca_file.c_str());
  const CURLcode code = curl_easy_perform(e.h);
  if (code != CURLE_OK) return e.Fail(code, "SMTP " + Redact(m.url));
  return Status::Ok();
}

std::vector<ResolvedReceiver> ResolveReceivers(const std::vector<ReceiverConfig>& receivers, SecretStore* secrets) {
  std::vector<ResolvedReceiver> out;
  for (const ReceiverConfig& c : receivers) {
    ResolvedReceiver r{.config = c, .url = c.url};
    auto secret = [&](const std::string& name, std::string* value) {
      if (name.empty() || !r.problem.empty()) return;
      if (!secrets) {
        r.problem = fmt::format("receiver {} needs secret \"{}\", but there is no master key", c.name, name);
        return;
      }
      auto v = secrets->Get(name);
      if (v.ok()) *value = *v;
      else r.problem = fmt::format("receiver {}: secret \"{}\": {}", c.name, name, v.status().message());
    };
    secret(c.url_secret, &r.url);
    secret(c.password_secret, &r.password);
    out.push_back(std::move(r));
  }
  return out;
}

Status SendNotification(const ResolvedReceiver& r, const Transition& t, const std::string& link, Duration repeat) {
  if (!r.problem.empty()) return Status(StatusCode::kUnavailable, r.problem);
  const ReceiverConfig& c = r.config;
  switch (c.kind) {
    case ReceiverKind::kWebhook: return HttpPost(r.url, WebhookBody(t, link), c.timeout, c.ca_file);
    case ReceiverKind::kSlack: return HttpPost(r.url, SlackBody(t, link), c.timeout, c.ca_file);
    case ReceiverKind::kAlertmanager: {
      std::string base = r.url;
      while (!base.empty() && base.back() == '/') base.pop_back();
      return HttpPost(base + "/api/v2/alerts", AlertmanagerBody(t, link, repeat), c.timeout, c.ca_file);
    }
    case ReceiverKind::kEmail:
      return SendMail({.url = r.url, .username = c.username, .password = r.password,
                       .require_starttls = c.starttls && r.url.starts_with("smtp://"), .ca_file = c.ca_file,
                       .timeout = c.timeout, .from = c.from, .to = c.to,
                       .message = EmailMessage(t, link, c.from, c.to)});
  }
  return Internal("unknown receiver kind");
}

Dispatcher::Dispatcher(std::vector<ResolvedReceiver> receivers, DispatcherOptions options) : options_(std::move(options)) {
  for (auto& r : receivers) {
    auto w = std::make_unique<Worker>();
    w->receiver = std::move(r);
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) w->thread = std::thread([this, p = w.get()] { Work(p); });
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Enqueue(const Transition& t, const std::vector<std::string>& receivers, Duration repeat) {
  std::lock_guard lock(mu_);
  for (auto& w : workers_)
    if (std::find(receivers.begin(), receivers.end(), w->receiver.config.name) != receivers.end())
      w->queue.push_back({t, repeat, 0});
  changed_.notify_all();
}

bool Dispatcher::WaitIdle(Duration timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout.chrono(), [this] {
    return std::all_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->queue.empty() && !w->busy; });
  });
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (const auto& w : workers_)
      if (!w->queue.empty())
        spdlog::warn("alert receiver {}: {} notifications not sent at shutdown", w->receiver.config.name, w->queue.size());
    changed_.notify_all();
  }
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
}

std::vector<Delivery> Dispatcher::Attempts() const {
  std::lock_guard lock(mu_);
  return attempts_;
}

void Dispatcher::Record(const Delivery& d) {
  {
    std::lock_guard lock(mu_);
    attempts_.push_back(d);
  }
  if (!options_.state) return;
  std::lock_guard lock(record_mu_);
  if (Status s = AppendDelivery(*options_.state, d); !s.ok()) spdlog::warn("cannot record a delivery: {}", s.message());
}

void Dispatcher::Work(Worker* w) {
  const std::string& name = w->receiver.config.name;
  std::unique_lock lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !w->queue.empty(); });
    if (stopping_) return;
    Job job = w->queue.front();
    w->busy = true;
    lock.unlock();
    const std::string link = DashboardLink(options_.dashboard_url, job.transition);
    const Status sent = options_.send ? options_.send(w->receiver, job.transition, link)
                                      : SendNotification(w->receiver, job.transition, link, job.repeat);
    ++job.attempt;
    const bool final = sent.ok() || job.attempt >= w->receiver.config.max_attempts;
    Record({.receiver = name, .rule = job.transition.rule, .labels = LabelsText(job.transition.labels),
            .kind = TransitionKindName(job.transition.kind), .at = Env::Default()->Now(), .attempt = job.attempt,
            .sent = sent.ok(), .final = final, .error = sent.ok() ? "" : sent.message()});
    if (!sent.ok())
      spdlog::warn("alert {} to receiver {}: attempt {} failed: {}", job.transition.rule, name, job.attempt, sent.message());
    lock.lock();
    if (final) {
      w->queue.pop_front();
    } else {
      w->queue.front().attempt = job.attempt;
      // Back off: first_retry, doubling, capped; a stop request cuts the wait short.
      Duration wait = w->receiver.config.first_retry;
      for (int i = 1; i < job.attempt && wait < options_.max_backoff; ++i) wait = wait * 2;
      wait = std::min(wait, options_.max_backoff);
      changed_.wait_for(lock, wait.chrono(), [&] { return stopping_; });
    }
    w->busy = false;
    changed_.notify_all();
  }
}

}  // namespace fleetlog::alert
