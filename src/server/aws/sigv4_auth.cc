#include "server/aws/sigv4_auth.h"

#include <openssl/crypto.h>

#include "core/sigv4.h"

namespace fleetlog {
namespace {

constexpr std::string_view kService = "redshift-data";

AwsError Incomplete(std::string message) { return {400, "IncompleteSignatureException", std::move(message)}; }
AwsError InvalidSignature(std::string message) { return {400, "InvalidSignatureException", std::move(message)}; }
AwsError Unrecognized() {
  return {400, "UnrecognizedClientException", "The security token included in the request is invalid."};
}

// "20261201T121314Z" -> the instant; nullopt when it is not that form.
std::optional<Timestamp> ParseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  const std::string iso = fmt::format("{}-{}-{} {}:{}:{}", text.substr(0, 4), text.substr(4, 2), text.substr(6, 2),
                                      text.substr(9, 2), text.substr(11, 2), text.substr(13, 2));
  auto t = ParseTimestamp(iso);
  if (!t.ok()) return std::nullopt;
  return *t;
}

std::string FormatAmzDate(Timestamp t) {
  const std::string iso = FormatTimestampIso(t);  // 2026-12-01T12:13:14[.ffffff]Z
  std::string out;
  for (size_t i = 0; i < 19; ++i)
    if (iso[i] != '-' && iso[i] != ':') out += iso[i];
  return out + "Z";
}

int SkewMinutes(Duration skew) { return static_cast<int>(skew.micros() / 60'000'000); }

}  // namespace

SigV4Authenticator::SigV4Authenticator(std::vector<AwsAccessKey> keys, bool anonymous, std::string region,
                                       Duration clock_skew, const Clock* clock)
    : keys_(std::move(keys)), anonymous_(anonymous), region_(std::move(region)), clock_skew_(clock_skew), clock_(clock) {}

const AwsAccessKey* SigV4Authenticator::FindKey(const std::string& access_key_id) const {
  // Every key is compared, so the time taken does not tell which one matched.
  const AwsAccessKey* match = nullptr;
  for (const auto& k : keys_)
    if (k.access_key_id.size() == access_key_id.size() &&
        CRYPTO_memcmp(k.access_key_id.data(), access_key_id.data(), access_key_id.size()) == 0)
      match = &k;
  return match;
}

std::optional<AwsError> SigV4Authenticator::CheckHeaders(const HttpRequest& head) const {
  if (anonymous_) return std::nullopt;
  const std::string header = head.get_header_value("Authorization");
  if (header.empty()) return AwsError{403, "MissingAuthenticationTokenException", "Missing Authentication Token"};
  auto parsed = sigv4::ParseAuthorization(header);
  if (!parsed.ok())
    return Incomplete("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters with "
                      "algorithm AWS4-HMAC-SHA256: " + parsed.status().message());
  if (FindKey(parsed->access_key_id) == nullptr) return Unrecognized();
  return std::nullopt;
}

std::optional<AwsError> SigV4Authenticator::Verify(const HttpRequest& request, bool replay_sensitive, Principal* who) {
  if (anonymous_) {
    *who = Principal{.name = "anonymous"};
    return std::nullopt;
  }
  if (auto error = CheckHeaders(request)) return error;
  auto auth = sigv4::ParseAuthorization(request.get_header_value("Authorization"));
  const AwsAccessKey* key = FindKey(auth->access_key_id);
  if (auth->scope.service != kService)
    return InvalidSignature(fmt::format("Credential should be scoped to correct service: '{}'. ", kService));
  if (auth->scope.region != region_)
    return InvalidSignature(fmt::format("Credential should be scoped to a valid region, not '{}'. ", auth->scope.region));
  const std::string amz_date = request.get_header_value("X-Amz-Date");
  if (amz_date.empty())
    return Incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  const auto when = ParseAmzDate(amz_date);
  if (!when) return Incomplete(fmt::format("X-Amz-Date \"{}\" is not in the form YYYYMMDD'T'HHMMSS'Z'", amz_date));
  const Timestamp now = clock_->Now();
  if (*when < now - clock_skew_)
    return InvalidSignature(fmt::format("Signature expired: {} is now earlier than {} ({} - {} min.)", amz_date,
                                        FormatAmzDate(now - clock_skew_), FormatAmzDate(now), SkewMinutes(clock_skew_)));
  if (*when > now + clock_skew_)
    return InvalidSignature(fmt::format("Signature not yet current: {} is still later than {} ({} + {} min.)", amz_date,
                                        FormatAmzDate(now + clock_skew_), FormatAmzDate(now), SkewMinutes(clock_skew_)));

  const size_t q = request.target.find('?');
  sigv4::Request received{.method = request.method, .path = request.target.substr(0, q)};
  if (q != std::string::npos) received.query = sigv4::ParseQuery(std::string_view(request.target).substr(q + 1));
  received.headers = request.header_fields;
  received.payload_hash = sigv4::Sha256Hex(request.body);
  // The window was checked above, with AWS's messages; Verify checks the signature itself.
  const int window_seconds = static_cast<int>(clock_skew_.micros() / 1'000'000) + 1;
  if (Status s = sigv4::Verify(received, *auth, key->secret_access_key, FormatAmzDate(now), window_seconds); !s.ok())
    return InvalidSignature("The request signature we calculated does not match the signature you provided. Check your "
                            "AWS Secret Access Key and signing method. (" + s.message() + ")");
  if (replay_sensitive && SeenBefore(auth->signature, *when))
    return InvalidSignature("This signature was already used: a signed ExecuteStatement without a ClientToken is "
                            "accepted once. Sign the request again, or send a ClientToken to make repeats safe.");
  *who = Principal{.name = key->name, .workgroup = key->workgroup};
  return std::nullopt;
}

bool SigV4Authenticator::SeenBefore(const std::string& signature, Timestamp request_time) {
  std::lock_guard lock(mu_);
  // Forget what is outside the window: those requests are refused as expired anyway.
  const Timestamp oldest = clock_->Now() - clock_skew_;
  for (auto it = seen_.begin(); it != seen_.end();) it = it->second < oldest ? seen_.erase(it) : std::next(it);
  return !seen_.emplace(signature, request_time).second;
}

}  // namespace fleetlog
