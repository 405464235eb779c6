// Reading the members of an AWS JSON request: the model's types checked, unknown members
// ignored (newer clients send members this model does not know). Failures are
// kInvalidArgument with the member's name, which the protocol answers as ValidationException.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "server/sql_text.h"

namespace fleetlog {

// The string member `key`, "" when absent or null.
Result<std::string> OptionalString(const nlohmann::json& in, const char* key);
// The string member `key`; absent, null or empty is an error.
Result<std::string> RequiredString(const nlohmann::json& in, const char* key);
// A non-empty list of strings.
Result<std::vector<std::string>> RequiredStrings(const nlohmann::json& in, const char* key);
// Parameters: [{"name": "...", "value": "..."}], every value a string (bound as a quoted
// literal, which DuckDB casts where the SQL needs a number).
Result<std::vector<SqlParameter>> SqlParameters(const nlohmann::json& in);

}  // namespace fleetlog
