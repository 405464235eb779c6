#include "storage/s3_lake.h"

namespace fleetlog {
namespace {

std::string Lookup(const std::map<std::string, std::string>& env, const char* name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string FirstOf(std::initializer_list<std::string> values) {
  for (const std::string& value : values) {
    if (!value.empty()) return value;
  }
  return "";
}

// A secret's value, or "" when the store is absent or lacks it.
Result<std::string> OptionalSecret(SecretStore* secrets, const char* name) {
  if (secrets == nullptr) return std::string();
  Result<std::string> value = secrets->Get(name);
  if (value.status().code() == StatusCode::kNotFound) return std::string();
  return value;
}

}  // namespace

Result<S3LakeLocation> ResolveS3Lake(const Config& config, const std::map<std::string, std::string>& env,
                                     SecretStore* secrets) {
  S3LakeLocation location;
  S3Options& options = location.options;
  RETURN_IF_ERROR(ParseS3Url(config.lake_path, &options.bucket, &location.prefix).WithContext("[lake] path"));
  options.region = FirstOf({config.lake_s3.region, Lookup(env, "AWS_REGION"), Lookup(env, "AWS_DEFAULT_REGION"),
                            "us-east-1"});
  std::string custom = FirstOf({config.lake_s3.endpoint, Lookup(env, "AWS_ENDPOINT_URL_S3"),
                                Lookup(env, "AWS_ENDPOINT_URL")});
  options.endpoint = custom.empty() ? fmt::format("https://s3.{}.amazonaws.com", options.region) : custom;
  options.path_style = config.lake_s3.path_style.value_or(!custom.empty());
  options.ca_file = Lookup(env, "AWS_CA_BUNDLE");

  sigv4::Credentials& credentials = options.credentials;
  credentials.access_key_id = Lookup(env, "AWS_ACCESS_KEY_ID");
  credentials.secret_access_key = Lookup(env, "AWS_SECRET_ACCESS_KEY");
  credentials.session_token = Lookup(env, "AWS_SESSION_TOKEN");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    ASSIGN_OR_RETURN(credentials.access_key_id, OptionalSecret(secrets, "aws_access_key_id"));
    ASSIGN_OR_RETURN(credentials.secret_access_key, OptionalSecret(secrets, "aws_secret_access_key"));
    ASSIGN_OR_RETURN(credentials.session_token, OptionalSecret(secrets, "aws_session_token"));
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return Error(StatusCode::kPermissionDenied,
                 "the lake {} is in S3 but no credentials were found: set AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY, or store them with `fleetlog secrets set aws_access_key_id` and "
                 "`fleetlog secrets set aws_secret_access_key`",
                 config.lake_path);
  }
  return location;
}

Result<std::unique_ptr<S3Env>> OpenS3Lake(const S3LakeLocation& location, const Clock* clock, S3EnvOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<S3Client> client, S3Client::Create(location.options));
  RETURN_IF_ERROR(client->CheckBucket());
  return std::make_unique<S3Env>(std::move(client), clock, options);
}

}  // namespace fleetlog
