#include "storage/s3_lake.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "lake/layout.h"

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
  std::string custom;
  location.endpoint_source = "[lake.s3] region";
  for (const auto& [value, source] : {std::pair{config.lake_s3.endpoint, "[lake.s3] endpoint"},
                                      std::pair{Lookup(env, "AWS_ENDPOINT_URL_S3"), "AWS_ENDPOINT_URL_S3"},
                                      std::pair{Lookup(env, "AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL"}}) {
    if (value.empty()) continue;
    custom = value;
    location.endpoint_source = source;
    break;
  }
  options.endpoint = custom.empty() ? fmt::format("https://s3.{}.amazonaws.com", options.region) : custom;
  RETURN_IF_ERROR(S3Client::CheckEndpoint(options.endpoint).WithContext("fix " + location.endpoint_source));
  options.path_style = config.lake_s3.path_style.value_or(!custom.empty());
  options.ca_file = Lookup(env, "AWS_CA_BUNDLE");
  options.low_speed_seconds = static_cast<int>(config.lake_s3.timeout.micros() / 1'000'000);

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
  if (Status checked = client->CheckBucket(); !checked.ok()) {
    const StatusCode code = checked.code();
    if (code != StatusCode::kUnavailable && code != StatusCode::kIoError && code != StatusCode::kTimeout) return checked;
    // No S3 answer (refused, unresolved, TLS, timed out) or only server errors.
    return Status(code, fmt::format("the lake's S3 endpoint {} does not answer: check {}, that the store is running "
                                    "and reachable from here (and AWS_CA_BUNDLE for a private CA): {}",
                                    location.options.endpoint, location.endpoint_source, checked.message()));
  }
  return std::make_unique<S3Env>(std::move(client), clock, options);
}

namespace {

bool HolderGone(const std::string& owner) {
  // WriterLock's owner: "pid <n> on <host>". Only a process of this host can be known dead.
  int pid = 0;
  char host[256] = {};
  if (std::sscanf(owner.c_str(), "pid %d on %255s", &pid, host) != 2 || pid <= 0) return false;
  char mine[256] = {};
  if (::gethostname(mine, sizeof mine - 1) != 0 || std::string(host) != mine) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

Result<std::unique_ptr<S3Lake>> S3Lake::Open(const Config& config, SecretStore* secrets, Env* local,
                                             S3EnvOptions options) {
  if (!options.holder_gone) options.holder_gone = HolderGone;
  ASSIGN_OR_RETURN(S3LakeLocation location, ResolveS3Lake(config, ProcessEnvironment(), secrets));
  ASSIGN_OR_RETURN(std::unique_ptr<S3Env> bucket, OpenS3Lake(location, &local->clock(), options));
  std::unique_ptr<S3Lake> lake(new S3Lake());
  lake->root_ = config.lake_path;
  while (lake->root_.ends_with('/')) lake->root_.pop_back();
  const std::string scratch = ParentDir(config.state_path) + "/lake-scratch";
  lake->env_ = std::make_unique<S3LakeEnv>(std::move(bucket), local, lake->root_, scratch);
  ASSIGN_OR_RETURN(lake->cache_, LakeFileCache::Open(lake->env_.get(), local, config.lake_cache_dir,
                                                     config.lake_cache_bytes));
  SetLakeFileResolver(lake->root_, lake.get());
  return lake;
}

S3Lake::~S3Lake() { SetLakeFileResolver(root_, nullptr); }

Result<LocalFiles> S3Lake::Resolve(const std::vector<const CommittedFile*>& files) {
  auto pins = std::make_shared<std::vector<CachedFile>>();
  pins->reserve(files.size());
  LocalFiles local{.root = cache_->dir(), .relative = {}, .hold = pins};
  for (const CommittedFile* f : files) {
    auto fetch = [&](const std::string& relative) {
      return cache_->Fetch(root_ + "/" + relative, f->bytes, f->checksum, ParentDir(f->path));
    };
    Result<CachedFile> fetched = fetch(f->path);
    if (!fetched.ok() && fetched.status().code() != StatusCode::kNotFound) return fetched.status();
    // Not in its table folder: retired since the snapshot was taken, and kept for readers.
    Result<CachedFile> kept = fetched.ok() ? std::move(fetched) : fetch(LakeLayout::RetiredDir() + "/" + f->path);
    if (!kept.ok()) return kept.status();
    CachedFile copy = std::move(kept).value();
    local.relative.push_back(copy.name());
    pins->push_back(std::move(copy));
  }
  return local;
}

}  // namespace fleetlog
