#include "server/aws/request_members.h"

namespace fleetlog {

using nlohmann::json;

Result<std::string> OptionalString(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument("1 validation error detected: '{}' must be a string", key);
  return it->get<std::string>();
}

Result<std::string> RequiredString(const json& in, const char* key) {
  ASSIGN_OR_RETURN(std::string value, OptionalString(in, key));
  if (value.empty())
    return InvalidArgument("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must "
                           "not be null", key);
  return value;
}

Result<std::vector<std::string>> RequiredStrings(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || !it->is_array() || it->empty())
    return InvalidArgument("1 validation error detected: '{}' must be a list of at least one string", key);
  std::vector<std::string> out;
  for (const auto& s : *it) {
    if (!s.is_string()) return InvalidArgument("1 validation error detected: '{}' must be a list of strings", key);
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<std::vector<SqlParameter>> SqlParameters(const json& in) {
  std::vector<SqlParameter> out;
  auto it = in.find("Parameters");
  if (it == in.end() || it->is_null()) return out;
  if (!it->is_array()) return InvalidArgument("Parameters must be a list of {{\"name\", \"value\"}}");
  for (const auto& p : *it) {
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string() || !p.contains("value") || !p["value"].is_string())
      return InvalidArgument("each of Parameters must be {{\"name\": string, \"value\": string}}");
    out.push_back({.name = p["name"].get<std::string>(), .value = p["value"].get<std::string>()});
  }
  return out;
}

}  // namespace fleetlog
