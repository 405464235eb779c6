#include "server/auth.h"

#include <sodium.h>

namespace fleetlog {

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[2 * sizeof digest + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

Result<Principal> Authenticator::Authenticate(std::string_view authorization) const {
  if (tokens_.empty()) return Principal{.name = "anonymous"};
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() || authorization.substr(0, kScheme.size()) != kScheme)
    return Status(StatusCode::kPermissionDenied, "this server needs an \"Authorization: Bearer <token>\" header");
  const std::string digest = Sha256Hex(authorization.substr(kScheme.size()));
  // Every configured token is compared, so the time taken does not tell which one matched.
  const ApiToken* match = nullptr;
  for (const auto& t : tokens_)
    if (t.sha256.size() == digest.size() && sodium_memcmp(t.sha256.data(), digest.data(), digest.size()) == 0)
      match = &t;
  if (match == nullptr) return Status(StatusCode::kPermissionDenied, "the bearer token is not one this server knows");
  return Principal{.name = match->name, .workgroup = match->workgroup};
}

}  // namespace fleetlog
