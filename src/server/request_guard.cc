#include "server/request_guard.h"

#include <algorithm>
#include <cctype>

#include "core/text.h"

namespace fleetlog {
namespace {

bool StateChanging(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace

std::string HostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return LowerAscii(close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1));
  }
  const size_t colon = host.find(':');
  // More than one colon: a bare IPv6 address, which has no port here.
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) host = host.substr(0, colon);
  return LowerAscii(host);
}

RequestGuard::RequestGuard(const std::string& listen_host, std::vector<std::string> hosts, std::vector<std::string> origins)
    : origins_(std::move(origins)) {
  hosts_ = {"localhost", "127.0.0.1", "::1"};
  if (!listen_host.empty() && listen_host != "0.0.0.0" && listen_host != "::") hosts_.push_back(HostWithoutPort(listen_host));
  for (const auto& h : hosts) hosts_.push_back(HostWithoutPort(h));
  for (auto& o : origins_) o = LowerAscii(o);
}

bool RequestGuard::HostAllowed(std::string_view host) const {
  const std::string name = HostWithoutPort(host);
  return std::find(hosts_.begin(), hosts_.end(), name) != hosts_.end();
}

GuardVerdict RequestGuard::Check(const GuardedRequest& r) const {
  if (!HostAllowed(r.host))
    return {421, "the Host header \"" + std::string(r.host) +
                     "\" does not name this server; add the name to [server] hosts if clients use it"};
  if (!StateChanging(r.method)) return {};
  if (r.sec_fetch_site == "cross-site")
    return {403, "cross-site requests may not change state (Sec-Fetch-Site: cross-site)"};
  if (r.has_origin) {
    const std::string origin = LowerAscii(r.origin);
    const size_t scheme = origin.find("://");
    const bool same = scheme != std::string::npos && LowerAscii(r.host) == origin.substr(scheme + 3);
    if (!same && std::find(origins_.begin(), origins_.end(), origin) == origins_.end())
      return {403, "requests from the origin \"" + std::string(r.origin) +
                       "\" may not change state; add it to [server] origins to allow its pages"};
  }
  std::string type = LowerAscii(r.content_type.substr(0, r.content_type.find(';')));
  type.erase(0, type.find_first_not_of(" \t"));
  type.erase(type.find_last_not_of(" \t") + 1);
  if ((r.has_body || !r.content_type.empty()) && type != r.body_type)
    return {415, "send the body as JSON with the header Content-Type: " + std::string(r.body_type) +
                     " (curl: -H 'Content-Type: " + std::string(r.body_type) + "')"};
  return {};
}

}  // namespace fleetlog
