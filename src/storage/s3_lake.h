// Opening a lake that lives in an S3 bucket ([lake] path = "s3://bucket/prefix"): the client's
// options from [lake.s3], the AWS SDKs' environment variables and the secret store.
//
//   endpoint:    [lake.s3] endpoint, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else
//                https://s3.<region>.amazonaws.com
//   region:      [lake.s3] region, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1
//   path_style:  [lake.s3] path_style, else true for a custom endpoint and false for AWS
//   credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the secret
//                store's "aws_access_key_id" / "aws_secret_access_key" / "aws_session_token"
//   CA bundle:   AWS_CA_BUNDLE (TLS peers are always verified)
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/config.h"
#include "secrets/secret_store.h"
#include "storage/s3_env.h"

namespace fleetlog {

struct S3LakeLocation {
  S3Options options;   // bucket included
  std::string prefix;  // key prefix of the lake root, without a trailing '/'; may be empty
};

// `env` is the process environment (ProcessEnvironment() of core/config.h); `secrets` may be null.
// kInvalidArgument for a malformed path or endpoint; kPermissionDenied when no credentials are
// found, saying where they are looked for.
Result<S3LakeLocation> ResolveS3Lake(const Config& config, const std::map<std::string, std::string>& env,
                                     SecretStore* secrets);

// The Env of the lake's bucket, after checking that the bucket answers to these credentials.
Result<std::unique_ptr<S3Env>> OpenS3Lake(const S3LakeLocation& location, const Clock* clock,
                                          S3EnvOptions options = {});

}  // namespace fleetlog
