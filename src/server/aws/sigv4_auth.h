// Who sent a Redshift Data API request: AWS Signature Version 4 verification against the
// configured access keys ([[server.access_key]]), each bound to one workgroup as a bearer
// token is. The signature is checked exactly (core/sigv4.h): the canonical request from the
// headers the client signed and the Host it sent, the SHA-256 of the raw body, the scope
// "<date>/<region>/redshift-data/aws4_request", and the request time within clock_skew of
// ours. Each failure is the AWS error a client expects:
//   no Authorization header                       MissingAuthenticationTokenException 403
//   a malformed one, or x-amz-date missing        IncompleteSignatureException 400
//   an access key id nobody configured            UnrecognizedClientException 400
//   another service or region in the scope,
//   a time outside the window, a wrong signature,
//   or a replayed ExecuteStatement                InvalidSignatureException 400
// Replays: the signature of an ExecuteStatement or BatchExecuteStatement without a
// ClientToken is accepted once while its time is inside the window (a repeat would run the
// SQL again); every other call is idempotent and may repeat, as clients polling in the same
// second send byte-identical signed requests.
// With no access keys and no bearer tokens configured (a loopback-only server), requests are
// the anonymous principal whatever their signature.
// Thread-safety: safe for concurrent use (the replay cache has its own lock).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "server/auth.h"
#include "server/aws/aws_error.h"
#include "server/http.h"

namespace fleetlog {

// An access key with its secret, read from the secret store at start-up (cli/serve_command.cc).
struct AwsAccessKey {
  std::string name;  // safe to log
  std::string access_key_id;
  std::string secret_access_key;
  std::string workgroup;
};

class SigV4Authenticator {
 public:
  SigV4Authenticator(std::vector<AwsAccessKey> keys, bool anonymous, std::string region, Duration clock_skew,
                     const Clock* clock);

  // The checks that need no body: the Authorization header's form and its access key.
  // Returns the error to answer with, or nullopt to read the body and call Verify().
  std::optional<AwsError> CheckHeaders(const HttpRequest& head) const;
  // Verifies the whole request; on success sets `*who`. `replay_sensitive`: see above.
  std::optional<AwsError> Verify(const HttpRequest& request, bool replay_sensitive, Principal* who);

 private:
  const AwsAccessKey* FindKey(const std::string& access_key_id) const;
  bool SeenBefore(const std::string& signature, Timestamp request_time);

  const std::vector<AwsAccessKey> keys_;
  const bool anonymous_;
  const std::string region_;
  const Duration clock_skew_;
  const Clock* const clock_;
  std::mutex mu_;
  std::map<std::string, Timestamp> seen_;  // signature -> request time; GUARDED_BY(mu_)
};

}  // namespace fleetlog
