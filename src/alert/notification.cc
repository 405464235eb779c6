#include "alert/notification.h"

#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace fleetlog::alert {
namespace {

using nlohmann::json;

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string ClusterOf(const Transition& t) {
  auto it = t.labels.find("cluster");
  return it == t.labels.end() ? "" : it->second;
}

std::string StateWord(const Transition& t) {
  return t.kind == TransitionKind::kResolved ? "resolved" : "firing";
}

std::string ValueText(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:.6g}", v);
}

// RFC 5322's date: "Tue, 01 Dec 2026 11:12:04 +0000".
std::string MailDate(Timestamp t) {
  const time_t secs = static_cast<time_t>(t.micros() / 1'000'000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char buf[64];
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return buf;
}

}  // namespace

std::string DashboardLink(const std::string& dashboard_url, const Transition& t) {
  if (dashboard_url.empty()) return "";
  std::string base = dashboard_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string link = base + "/?view=alerts&rule=" + UrlEncode(t.rule);
  if (const std::string c = ClusterOf(t); !c.empty()) link += "&cluster=" + UrlEncode(c);
  return link;
}

std::string WebhookBody(const Transition& t, const std::string& link) {
  json j = {{"version", "1"},
            {"rule", t.rule},
            {"state", StateWord(t)},
            {"transition", TransitionKindName(t.kind)},
            {"severity", t.severity},
            {"summary", t.summary},
            {"value", t.value},
            {"labels", t.labels},
            {"cluster", ClusterOf(t)},
            {"time", FormatTimestampIso(t.at)},
            {"active_since", FormatTimestampIso(t.active_since)},
            {"query", t.query},
            {"annotations", t.annotations},
            {"link", link}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string SlackBody(const Transition& t, const std::string& link) {
  const bool resolved = t.kind == TransitionKind::kResolved;
  std::string text = fmt::format("{} *[{}{}] {}* ({})\n{}\nvalue: `{}`", resolved ? ":white_check_mark:" : ":red_circle:",
                                 resolved ? "RESOLVED" : "FIRING", t.kind == TransitionKind::kRepeat ? ", still" : "",
                                 t.rule, t.severity, t.summary, ValueText(t.value));
  if (const std::string c = ClusterOf(t); !c.empty()) text += fmt::format(" · cluster: `{}`", c);
  text += fmt::format(" · since {}", FormatTimestampIso(t.active_since));
  if (auto it = t.annotations.find("attribution"); it != t.annotations.end() && !it->second.empty())
    text += fmt::format("\ndriven by: {}", it->second);
  text += fmt::format("\n```{}```", t.query);
  if (!link.empty()) text += fmt::format("\n<{}|Open in fleetlog>", link);
  return json{{"text", text}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string AlertmanagerBody(const Transition& t, const std::string& link, Duration repeat) {
  json labels = {{"alertname", t.rule}, {"severity", t.severity}};
  for (const auto& [k, v] : t.labels) labels[k] = v;
  json annotations = {{"summary", t.summary}, {"query", t.query}, {"value", ValueText(t.value)}};
  for (const auto& [k, v] : t.annotations) annotations[k] = v;
  const Timestamp ends = t.kind == TransitionKind::kResolved ? t.at : t.at + repeat * 2;
  json alert = {{"labels", labels},
                {"annotations", annotations},
                {"startsAt", FormatTimestampIso(t.active_since)},
                {"endsAt", FormatTimestampIso(ends)}};
  if (!link.empty()) alert["generatorURL"] = link;
  return json::array({alert}).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string EmailMessage(const Transition& t, const std::string& link, const std::string& from,
                         const std::vector<std::string>& to) {
  const bool resolved = t.kind == TransitionKind::kResolved;
  std::string recipients;
  for (const auto& r : to) recipients += (recipients.empty() ? "" : ", ") + r;
  std::string subject = fmt::format("[{}] {}: {}", resolved ? "RESOLVED" : "FIRING", t.rule, t.summary);
  for (char& c : subject)
    if (c == '\r' || c == '\n') c = ' ';
  std::string body = fmt::format("{}\r\n\r\nrule:      {}\r\nstate:     {}\r\nseverity:  {}\r\nvalue:     {}\r\n",
                                 t.summary, t.rule, StateWord(t), t.severity, ValueText(t.value));
  if (const std::string c = ClusterOf(t); !c.empty()) body += fmt::format("cluster:   {}\r\n", c);
  body += fmt::format("labels:    {}\r\nsince:     {}\r\ntime:      {}\r\n", LabelsText(t.labels),
                      FormatTimestampIso(t.active_since), FormatTimestampIso(t.at));
  for (const auto& [k, v] : t.annotations) body += fmt::format("{}: {}\r\n", k, v);
  body += fmt::format("\r\nquery:\r\n{}\r\n", t.query);
  if (!link.empty()) body += fmt::format("\r\n{}\r\n", link);
  // Dot-stuffing is done by libcurl; bare LFs are normalized here.
  std::string crlf;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) crlf += '\r';
    crlf += body[i];
  }
  return fmt::format("From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\nX-Fleetlog-Rule: {}\r\n\r\n{}",
                     from, recipients, subject, MailDate(t.at), t.rule, crlf);
}

}  // namespace fleetlog::alert
