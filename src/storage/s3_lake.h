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
#include "lake/lake_files.h"
#include "secrets/secret_store.h"
#include "storage/file_cache.h"
#include "storage/s3_env.h"
#include "storage/s3_lake_env.h"

namespace fleetlog {

struct S3LakeLocation {
  S3Options options;   // bucket included
  std::string prefix;  // key prefix of the lake root, without a trailing '/'; may be empty
  // Where options.endpoint came from, for errors that ask the user to fix it:
  // "[lake.s3] endpoint", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL" or "[lake.s3] region".
  std::string endpoint_source;
};

// `env` is the process environment (ProcessEnvironment() of core/config.h); `secrets` may be null.
// kInvalidArgument for a malformed path or endpoint; kPermissionDenied when no credentials are
// found, saying where they are looked for.
Result<S3LakeLocation> ResolveS3Lake(const Config& config, const std::map<std::string, std::string>& env,
                                     SecretStore* secrets);

// The Env of the lake's bucket, after checking that the bucket answers to these credentials.
// Each refusal names its fix: a missing bucket ([lake] path), wrong credentials (the AWS_*
// variables or the secret store), an endpoint that does not answer (where it was set).
Result<std::unique_ptr<S3Env>> OpenS3Lake(const S3LakeLocation& location, const Clock* clock,
                                          S3EnvOptions options = {});

// An S3 lake opened by this process: the lake's Env (S3LakeEnv: the bucket, with local staging
// and spill folders beside the state store, "<state folder>/lake-scratch") and the local cache
// of its files ([lake] cache_dir, cache_size), registered as the lake's file resolver
// (lake/lake_files.h) while this object lives, so that the writer's dedup, upkeep and the query
// engine read the lake's files through the cache.
// Thread-safety: safe for concurrent use (the Env and the cache are).
class S3Lake final : public LakeFileResolver {
 public:
  // `secrets` may be null; `local` (the process's local Env) must outlive this.
  static Result<std::unique_ptr<S3Lake>> Open(const Config& config, SecretStore* secrets, Env* local,
                                              S3EnvOptions options = {});
  ~S3Lake() override;

  S3LakeEnv& env() { return *env_; }
  LakeFileCache& cache() { return *cache_; }
  const std::string& lake_root() const { return root_; }

  Result<LocalFiles> Resolve(const std::vector<const CommittedFile*>& files) override;
  std::string root() const override { return cache_->dir(); }

 private:
  S3Lake() = default;
  std::string root_;  // "s3://bucket/prefix"
  std::unique_ptr<S3LakeEnv> env_;
  std::unique_ptr<LakeFileCache> cache_;
};

}  // namespace fleetlog
