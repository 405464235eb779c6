// One HTTP exchange as plain data, independent of the HTTP library: what the AWS-protocol
// handlers take and return, so that the server's registration of them is a few lines.
// Thread-safety: values; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleetlog {

struct PlainRequest {
  std::string method;  // "POST"
  std::string target;  // the request target as sent: path and query, still percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;
  std::string remote;  // client address, for logs only

  // The first header named `name` (any case), or "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  std::string Path() const { return target.substr(0, target.find('?')); }
};

struct PlainResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

}  // namespace fleetlog
