#include "server/aws/plain_http.h"

#include <strings.h>

namespace fleetlog {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string PlainRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (SameName(key, name)) return value;
  return {};
}

bool PlainRequest::HasHeader(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (SameName(key, name)) return true;
  return false;
}

}  // namespace fleetlog
