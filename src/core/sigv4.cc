#include "core/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <map>

#include "core/text.h"

namespace fleetlog::sigv4 {
namespace {

// Trims the value and collapses each run of spaces to one, as SigV4 asks.
std::string TrimAll(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Removes "." and ".." segments and empty segments; keeps a trailing slash.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (std::string_view segment : segments) {
    out += '/';
    out += segment;
  }
  if (out.empty() || path.back() == '/') out += '/';
  return out;
}

std::map<std::string, std::string> HeaderMap(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::map<std::string, std::string> map;
  for (const auto& [name, value] : headers) {
    std::string key = LowerAscii(TrimAll(name));
    std::string trimmed = TrimAll(value);
    auto [it, inserted] = map.emplace(key, trimmed);
    if (!inserted) it->second += "," + trimmed;
  }
  return map;
}

bool ParseAmzDate(std::string_view amz_date, time_t* out) {
  if (amz_date.size() != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (amz_date[i] < '0' || amz_date[i] > '9')) return false;
  }
  auto number = [&](size_t pos, size_t len) { return std::atoi(std::string(amz_date.substr(pos, len)).c_str()); };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(4, 2) - 1;
  tm.tm_mday = number(6, 2);
  tm.tm_hour = number(9, 2);
  tm.tm_min = number(11, 2);
  tm.tm_sec = number(13, 2);
  *out = timegm(&tm);
  return true;
}

}  // namespace

std::string Scope::ToString() const { return date + "/" + region + "/" + service + "/aws4_request"; }

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> query;
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('&', start);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view item = raw.substr(start, end - start);
    if (!item.empty()) {
      size_t eq = item.find('=');
      if (eq == std::string_view::npos) {
        query.emplace_back(UriDecode(item), "");
      } else {
        query.emplace_back(UriDecode(item.substr(0, eq)), UriDecode(item.substr(eq + 1)));
      }
    }
    start = end + 1;
  }
  return query;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string CanonicalUri(std::string_view path, PathRule rule) {
  if (path.empty()) return "/";
  if (rule == PathRule::kS3) return UriEncode(UriDecode(path), /*keep_slash=*/true);
  return UriEncode(NormalizePath(path), /*keep_slash=*/true);
}

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string CanonicalHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  for (const auto& [name, value] : HeaderMap(headers)) out += name + ":" + value + "\n";
  return out;
}

std::string SignedHeaderNames(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  for (const auto& entry : HeaderMap(headers)) {
    if (!out.empty()) out += ';';
    out += entry.first;
  }
  return out;
}

std::string CanonicalRequest(const Request& request, PathRule rule) {
  return request.method + "\n" + CanonicalUri(request.path, rule) + "\n" + CanonicalQueryString(request.query) +
         "\n" + CanonicalHeaders(request.headers) + "\n" + SignedHeaderNames(request.headers) + "\n" +
         request.payload_hash;
}

std::string StringToSign(std::string_view amz_date, const Scope& scope, std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" + scope.ToString() + "\n" +
         Sha256Hex(canonical_request);
}

std::string SigningKey(std::string_view secret_access_key, const Scope& scope) {
  std::string key = HmacSha256("AWS4" + std::string(secret_access_key), scope.date);
  key = HmacSha256(key, scope.region);
  key = HmacSha256(key, scope.service);
  return HmacSha256(key, "aws4_request");
}

std::string Signature(const Request& request, std::string_view amz_date, const Scope& scope,
                      std::string_view secret_access_key, PathRule rule) {
  std::string to_sign = StringToSign(amz_date, scope, CanonicalRequest(request, rule));
  return HexEncode(HmacSha256(SigningKey(secret_access_key, scope), to_sign));
}

void Sign(Request* request, const Credentials& credentials, std::string_view region, std::string_view service,
          std::string_view amz_date, PathRule rule) {
  request->headers.emplace_back("x-amz-date", std::string(amz_date));
  if (!credentials.session_token.empty()) {
    request->headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  if (service == "s3") request->headers.emplace_back("x-amz-content-sha256", request->payload_hash);
  Scope scope{std::string(amz_date.substr(0, 8)), std::string(region), std::string(service)};
  std::string signature = Signature(*request, amz_date, scope, credentials.secret_access_key, rule);
  request->headers.emplace_back("Authorization", std::string(kAlgorithm) +
                                                     " Credential=" + credentials.access_key_id + "/" +
                                                     scope.ToString() + ", SignedHeaders=" +
                                                     SignedHeaderNames(request->headers) + ", Signature=" + signature);
}

std::string AmzDateNow() {
  time_t now = time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[20];
  strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

Result<Authorization> ParseAuthorization(std::string_view header) {
  auto bad = [](std::string_view why) {
    return InvalidArgument("Authorization header is not AWS Signature Version 4: {}", why);
  };
  if (!header.starts_with(kAlgorithm) || header.size() == kAlgorithm.size() || header[kAlgorithm.size()] != ' ') {
    return bad("it does not start with AWS4-HMAC-SHA256");
  }
  Authorization auth;
  bool have_credential = false, have_headers = false, have_signature = false;
  std::string_view rest = header.substr(kAlgorithm.size());
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) return bad("a part without '='");
    std::string_view name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "Credential") {
      // <key id>/<date>/<region>/<service>/aws4_request; the key id itself has no '/'.
      std::vector<std::string> fields;
      size_t start = 0;
      while (true) {
        size_t slash = value.find('/', start);
        fields.emplace_back(value.substr(start, slash == std::string_view::npos ? value.npos : slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
      }
      if (fields.size() != 5 || fields[4] != "aws4_request" || fields[0].empty() || fields[1].size() != 8) {
        return bad("Credential is not <key>/<date>/<region>/<service>/aws4_request");
      }
      auth.access_key_id = fields[0];
      auth.scope = Scope{fields[1], fields[2], fields[3]};
      have_credential = true;
    } else if (name == "SignedHeaders") {
      size_t start = 0;
      while (start <= value.size()) {
        size_t semi = value.find(';', start);
        if (semi == std::string_view::npos) semi = value.size();
        if (semi > start) auth.signed_headers.push_back(LowerAscii(value.substr(start, semi - start)));
        start = semi + 1;
      }
      have_headers = !auth.signed_headers.empty();
    } else if (name == "Signature") {
      auth.signature = LowerAscii(value);
      have_signature =
          auth.signature.size() == 64 && std::all_of(auth.signature.begin(), auth.signature.end(),
                                                     [](unsigned char c) { return std::isxdigit(c) != 0; });
    }
  }
  if (!have_credential) return bad("no Credential");
  if (!have_headers) return bad("no SignedHeaders");
  if (!have_signature) return bad("no 64-digit hex Signature");
  return auth;
}

Status Verify(const Request& received, const Authorization& authorization, std::string_view secret_access_key,
              std::string_view now_amz_date, int max_skew_seconds, PathRule rule) {
  auto denied = [](std::string_view why) { return Status(StatusCode::kPermissionDenied, std::string(why)); };
  std::map<std::string, std::string> all = HeaderMap(received.headers);
  auto signed_name = [&](std::string_view name) {
    return std::find(authorization.signed_headers.begin(), authorization.signed_headers.end(), name) !=
           authorization.signed_headers.end();
  };
  if (!signed_name("host")) return denied("the signature does not cover the host header");
  auto date = all.find("x-amz-date");
  if (date == all.end() || !signed_name("x-amz-date")) {
    return denied("the request has no signed x-amz-date header");
  }
  time_t request_time = 0, now = 0;
  if (!ParseAmzDate(date->second, &request_time)) return denied("x-amz-date is not YYYYMMDDTHHMMSSZ");
  if (!ParseAmzDate(now_amz_date, &now)) return Internal("server time {} is not YYYYMMDDTHHMMSSZ", now_amz_date);
  if (std::abs(static_cast<long long>(request_time) - static_cast<long long>(now)) > max_skew_seconds) {
    return denied("the request time is too far from the server's time (signature expired or clock skewed)");
  }
  if (authorization.scope.date != date->second.substr(0, 8)) {
    return denied("the credential scope's date is not the request's date");
  }
  Request canonical = received;
  canonical.headers.clear();
  for (const std::string& name : authorization.signed_headers) {
    auto it = all.find(name);
    if (it == all.end()) return denied("a signed header is missing from the request: " + name);
    canonical.headers.emplace_back(name, it->second);
  }
  std::string expected = Signature(canonical, date->second, authorization.scope, secret_access_key, rule);
  if (expected.size() != authorization.signature.size() ||
      CRYPTO_memcmp(expected.data(), authorization.signature.data(), expected.size()) != 0) {
    return denied("the request signature does not match (check the secret access key and the signing method)");
  }
  return Status::Ok();
}

}  // namespace fleetlog::sigv4
