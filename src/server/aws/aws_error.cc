#include "server/aws/aws_error.h"

namespace fleetlog {

AwsError AwsError::NotFound(std::string message, const std::string& resource_id) {
  AwsError e{400, "ResourceNotFoundException", std::move(message)};
  e.members["ResourceId"] = resource_id;
  return e;
}

AwsError AwsErrorFromStatus(const Status& status, const std::string& resource_id) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return AwsError::Validation(status.message());
    case StatusCode::kNotFound: return AwsError::NotFound(status.message(), resource_id);
    case StatusCode::kResourceExhausted: return {400, "ActiveStatementsExceededException", status.message()};
    case StatusCode::kPermissionDenied: return {400, "AccessDeniedException", status.message()};
    case StatusCode::kUnavailable: return {503, "ServiceUnavailableException", status.message()};
    default: return AwsError::Internal(status.message());
  }
}

HttpResponse AwsErrorResponse(const AwsError& error) {
  nlohmann::json body = error.members;
  body["__type"] = error.code;
  body["Message"] = error.message;
  HttpResponse response;
  response.status = error.http_status;
  response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kAwsJsonContentType);
  return response;
}

HttpResponse AwsJsonResponse(std::string body) {
  HttpResponse response;
  response.set_content(std::move(body), kAwsJsonContentType);
  return response;
}

}  // namespace fleetlog
