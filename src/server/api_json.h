// The JSON shapes of the HTTP API (DESIGN.md, "HTTP API contract"): requests parsed into
// service types, service types written as JSON, opaque paging tokens, and the mapping of a
// Status to an HTTP status code. Parsing never throws: a malformed request is a Status.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "server/statements.h"

namespace fleetlog {

// {"sql", "parameters": [{"name","value"}], "workgroup", "name", "client_token"}, or with
// `batch` {"sqls": [...], ...}. Unknown fields are refused, so a typo is not ignored.
Result<ExecuteRequest> ParseExecuteRequest(std::string_view body, bool batch);

nlohmann::json StatementJson(const StatementInfo& info);
nlohmann::json WorkgroupJson(const WorkgroupConfig& config, const WorkgroupCounters& counters);
nlohmann::json ErrorJson(const Status& status);

// 400 kInvalidArgument, 401 (never here: auth is the server's), 403 kPermissionDenied,
// 404 kNotFound, 429 kResourceExhausted, 503 kUnavailable, else 500.
int HttpStatusFor(const Status& status);

// Opaque tokens: a result page of a statement id, and a position in the statement list.
std::string EncodePageToken(const std::string& id, int page);
// kInvalidArgument when `token` was not made for `id`.
Result<int> DecodePageToken(std::string_view token, const std::string& id);
std::string EncodeListToken(uint64_t before);
Result<uint64_t> DecodeListToken(std::string_view token);

}  // namespace fleetlog
