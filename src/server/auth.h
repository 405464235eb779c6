// Bearer-token authentication for the HTTP API. Tokens are configured as the hex SHA-256 of
// the secret ([[server.token]] sha256), each bound to one workgroup; the server never holds
// a token itself. With no tokens configured every request is the anonymous principal, which
// may use any workgroup (the server only allows that on a loopback address).
// Thread-safety: immutable after construction; Authenticate() is safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/status.h"

namespace fleetlog {

struct Principal {
  std::string name;       // the token's configured name, or "anonymous"; safe to log
  std::string workgroup;  // the workgroup the token is bound to; empty: any (anonymous)
  bool may_use(std::string_view wg) const { return workgroup.empty() || workgroup == wg; }
};

class Authenticator {
 public:
  explicit Authenticator(std::vector<ApiToken> tokens) : tokens_(std::move(tokens)) {}

  bool enabled() const { return !tokens_.empty(); }
  // `authorization` is the Authorization header's value ("" when absent). Fails with
  // kPermissionDenied (the API's 401) when tokens are configured and it is not
  // "Bearer <token>" with a configured token. Compares digests in constant time.
  Result<Principal> Authenticate(std::string_view authorization) const;

 private:
  std::vector<ApiToken> tokens_;
};

// Hex SHA-256 of `text`, lower case: what [[server.token]] sha256 holds.
std::string Sha256Hex(std::string_view text);

}  // namespace fleetlog
