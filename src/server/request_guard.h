// Checks every HTTP request makes before routing, against a web page in the operator's
// browser (cross-site requests, DNS rebinding) — plain data in, a verdict out, so the
// check does not depend on the HTTP library:
//   - the Host header must name this server: a loopback name, the listen host, or one of
//     [server] hosts (a rebound DNS name is refused, so a foreign page cannot read answers);
//   - a state-changing request (POST, PUT, PATCH, DELETE) with an Origin header must come
//     from this server's own origin or one of [server] origins, and must not be marked
//     cross-site by Sec-Fetch-Site;
//   - a state-changing request with a body (or any Content-Type) must declare
//     Content-Type: application/json (or the route's own JSON type), which a page cannot
//     send to another origin without a CORS preflight (text/plain and form posts are refused).
// Thread-safety: immutable after construction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fleetlog {

struct GuardVerdict {
  int status = 0;  // 0: allowed; else the HTTP status to answer
  std::string message;
  bool ok() const { return status == 0; }
};

struct GuardedRequest {
  std::string_view method, host, origin, content_type, sec_fetch_site;
  bool has_origin = false;
  bool has_body = false;  // Content-Length > 0, or Transfer-Encoding
  // The JSON media type the route takes (the Redshift Data API's is application/x-amz-json-1.1,
  // which a page cannot send cross-origin without a preflight either).
  std::string_view body_type = "application/json";
};

class RequestGuard {
 public:
  // `listen_host` from [server] listen; `hosts` and `origins` from [server].
  RequestGuard(const std::string& listen_host, std::vector<std::string> hosts, std::vector<std::string> origins);
  GuardVerdict Check(const GuardedRequest& request) const;

 private:
  bool HostAllowed(std::string_view host) const;
  std::vector<std::string> hosts_;  // lower case, without port
  std::vector<std::string> origins_;
};

// "Example.COM:8080" -> "example.com"; "[::1]:80" -> "::1".
std::string HostWithoutPort(std::string_view host);

}  // namespace fleetlog
