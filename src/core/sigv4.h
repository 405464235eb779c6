// AWS Signature Version 4: the one implementation fleetlog uses both to sign the requests it
// sends (the S3 client) and to verify the requests it receives (the Redshift Data API).
//
// A request is signed over its canonical form: method, canonical URI, canonical query string,
// the signed headers (lower-case names, trimmed values) and the hex SHA-256 of the payload. The
// string to sign binds that to the time and the credential scope (date/region/service), and the
// signature is HMAC-SHA256 under a key derived from the secret and the scope.
// Reference: "Create a signed AWS API request" and the SigV4 test suite in AWS's documentation.
//
// Thread-safety: pure functions over values; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace fleetlog::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// Hex SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// The credential scope: "<date>/<region>/<service>/aws4_request".
struct Scope {
  std::string date;  // YYYYMMDD, the UTC date of the request time
  std::string region;
  std::string service;
  std::string ToString() const;
};

// How the path becomes the canonical URI.
enum class PathRule {
  // Amazon S3: the decoded path is percent-encoded once (every byte but unreserved characters
  // and '/'), never normalised: "a//b" and "a/./b" are distinct keys.
  kS3,
  // Every other service: "." and ".." segments and repeated slashes are removed, then the path as
  // sent (already encoded once) is encoded again.
  kGeneric,
};

// An HTTP request as SigV4 sees it.
struct Request {
  std::string method;  // "GET", "PUT", ...
  // The path exactly as on the request line (percent-encoded as sent; raw UTF-8 is accepted too).
  std::string path = "/";
  // Decoded query parameters; a parameter without '=' has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  // Headers to sign (any case; repeated names are joined with ','). Must include "host".
  std::vector<std::pair<std::string, std::string>> headers;
  // Hex SHA-256 of the body, or kUnsignedPayload.
  std::string payload_hash = std::string(kEmptyPayloadHash);
};

// Splits a raw query string ("a=1&b=%20x") into decoded pairs.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view raw);

// Hex SHA-256 of `data`; raw HMAC-SHA256 of `data` under `key`; lower-case hex of bytes.
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HexEncode(std::string_view bytes);

// The steps, exposed so that tests can compare each one with AWS's published values.
std::string CanonicalUri(std::string_view path, PathRule rule);
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);
// "name:value\n" lines sorted by name, and the ';'-joined sorted names.
std::string CanonicalHeaders(const std::vector<std::pair<std::string, std::string>>& headers);
std::string SignedHeaderNames(const std::vector<std::pair<std::string, std::string>>& headers);
std::string CanonicalRequest(const Request& request, PathRule rule);
// `amz_date` is the request time as YYYYMMDD'T'HHMMSS'Z'.
std::string StringToSign(std::string_view amz_date, const Scope& scope, std::string_view canonical_request);
// The derived key: HMAC chain over "AWS4"+secret, date, region, service, "aws4_request" (raw bytes).
std::string SigningKey(std::string_view secret_access_key, const Scope& scope);
// Hex signature of `request` at `amz_date`.
std::string Signature(const Request& request, std::string_view amz_date, const Scope& scope,
                      std::string_view secret_access_key, PathRule rule);

// Signs `request` in place: adds x-amz-date, x-amz-security-token (with a session token) and
// x-amz-content-sha256 (service "s3" only) to its headers, then the Authorization header.
// `amz_date` as above; scope.date is taken from it. REQUIRES: a "host" header.
void Sign(Request* request, const Credentials& credentials, std::string_view region, std::string_view service,
          std::string_view amz_date, PathRule rule);
// The current UTC time as YYYYMMDD'T'HHMMSS'Z'.
std::string AmzDateNow();

// The parts of a received "Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..." header.
struct Authorization {
  std::string access_key_id;
  Scope scope;
  std::vector<std::string> signed_headers;  // lower case, as listed
  std::string signature;                    // lower-case hex
};
// InvalidArgument when the header is not a well-formed SigV4 Authorization header.
Result<Authorization> ParseAuthorization(std::string_view header);

// Verifies a received request signed with SigV4 in its Authorization header.
// `received` holds the request as received: its path as on the request line, its decoded query,
// ALL its headers (only those the signature names are used) and the hex SHA-256 of its body.
// `secret_access_key` is the secret of authorization.access_key_id (the caller looks it up).
// `now_amz_date` is the server's time; a request dated more than `max_skew_seconds` away is refused.
// Returns PermissionDenied with a reason (never the expected signature) when the request does not
// verify: unsigned host or x-amz-date, scope date not the request's date, wrong signature,
// out-of-window time.
Status Verify(const Request& received, const Authorization& authorization, std::string_view secret_access_key,
              std::string_view now_amz_date, int max_skew_seconds = 15 * 60, PathRule rule = PathRule::kGeneric);

}  // namespace fleetlog::sigv4
