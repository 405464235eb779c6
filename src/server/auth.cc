#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace fleetlog {

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
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
    if (t.sha256.size() == digest.size() && CRYPTO_memcmp(t.sha256.data(), digest.data(), digest.size()) == 0)
      match = &t;
  if (match == nullptr) return Status(StatusCode::kPermissionDenied, "the bearer token is not one this server knows");
  return Principal{.name = match->name, .workgroup = match->workgroup};
}

}  // namespace fleetlog
