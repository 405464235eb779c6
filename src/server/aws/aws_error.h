// Errors of the AWS JSON 1.1 protocol: {"__type": "<Code>", "Message": "..."} with the HTTP
// status a client expects for that code. Clients retry 500/502/503/504 and never retry
// 4xx, so a fault the client cannot fix by waiting must not be a 5xx.
// Thread-safety: values and pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "server/http.h"

namespace fleetlog {

struct AwsError {
  int http_status = 400;
  std::string code;  // "ValidationException", ...
  std::string message;
  nlohmann::json members = nlohmann::json::object();  // ResourceId, StatementId, ...

  static AwsError Validation(std::string message) { return {400, "ValidationException", std::move(message)}; }
  static AwsError Serialization(std::string message) { return {400, "SerializationException", std::move(message)}; }
  static AwsError NotFound(std::string message, const std::string& resource_id);
  static AwsError Internal(std::string message) { return {500, "InternalServerException", std::move(message)}; }
};

// What a statement-service failure is on this protocol: kInvalidArgument ValidationException,
// kNotFound ResourceNotFoundException (ResourceId = `resource_id`), kResourceExhausted
// ActiveStatementsExceededException, kPermissionDenied AccessDeniedException, kUnavailable
// ServiceUnavailableException (503, retried), anything else InternalServerException.
AwsError AwsErrorFromStatus(const Status& status, const std::string& resource_id = "");

// The response for `error`, with the protocol's content type.
HttpResponse AwsErrorResponse(const AwsError& error);
// A 200 response carrying `body`.
HttpResponse AwsJsonResponse(std::string body);

inline constexpr const char* kAwsJsonContentType = "application/x-amz-json-1.1";

}  // namespace fleetlog
