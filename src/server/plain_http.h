// A library-neutral request and answer, so that handlers are functions over plain data and
// the HTTP library under them can be replaced with a few lines of registration.
// Thread-safety: value types.
#pragma once

#include <map>
#include <string>

namespace fleetlog {

struct PlainRequest {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> params;   // query string
  std::multimap<std::string, std::string> headers;  // names as sent
  std::string body;

  std::string Param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? "" : it->second;
  }
};

struct PlainResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

}  // namespace fleetlog
