// The typed model of fleetlog.toml (the config contract in DESIGN.md) and its loader.
// Loading validates everything before anything connects: unknown keys, bad durations and
// sizes, duplicate names, unknown tables and literal passwords are errors that name the
// file, the line and a fix. Relative paths are resolved against the config file's folder.
// Thread-safety: Config is an immutable value once loaded; share it freely.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace fleetlog {

enum class SourceKind { kRedshift, kPostgres, kSim };
const char* SourceKindName(SourceKind kind);

struct ClusterConfig {
  std::string name;  // [a-z0-9_-]+, the lake's `cluster` partition value
  SourceKind kind = SourceKind::kRedshift;
  std::string dsn;   // libpq connection string, without a password
  std::string password_secret;  // name in the secret store, or
  std::string password_env;     // name of an environment variable
  std::vector<std::string> tables;  // empty: [export].tables
  uint64_t seed = 1;    // kind = "sim" only
  double scale = 1.0;   // kind = "sim" only: load multiplier
  int line = 0;         // where it was declared, for later error messages
};

struct TableConfig {
  std::optional<Duration> lookback;
  std::optional<Duration> keep;  // retention of raw rows
};

struct CustomQueryConfig {
  std::string name;     // the lake table's name
  std::string cluster;  // runs on this cluster
  std::string sql;
  std::string cursor;
  std::vector<std::string> key;
  std::optional<Duration> lookback;
  int line = 0;
};

struct ExportConfig {
  Duration interval = Duration::Minutes(5);
  Duration settle = Duration::Seconds(30);
  Duration lookback = Duration::Minutes(15);
  Duration initial_backfill = Duration::Days(7);
  Duration statement_timeout = Duration::Minutes(5);
  Duration connect_timeout = Duration::Seconds(10);
  int parallelism = 4;  // clusters exported at once
  std::vector<std::string> tables;
};

struct QueryConfig {
  int64_t memory_limit_bytes = 2LL << 30;
  int threads = 2;
};

struct ApiToken {
  std::string name;
  std::string sha256;  // hex of SHA-256(token)
  std::string workgroup;
};

// [[server.access_key]]: an AWS access key id for the Redshift Data API endpoint, bound to one
// workgroup like a token. The secret access key is read from the secret store (or an
// environment variable) when the server starts; it never appears in the config.
struct AccessKeyConfig {
  std::string name;           // safe to log
  std::string access_key_id;  // what clients put in AWS_ACCESS_KEY_ID
  std::string secret_name;    // secret_access_key_secret: a name in the secret store, or
  std::string secret_env;     // secret_access_key_env: an environment variable
  std::string workgroup;
};

// [server.data_api]: the Redshift Data API's own wire protocol (AWS JSON 1.1 with Signature
// Version 4) beside /v1/, over the same statements.
struct DataApiConfig {
  bool enabled = true;
  std::string path = "/";               // where POSTs with X-Amz-Target land
  std::string region = "us-east-1";     // signatures must be scoped to this region
  std::string database = "fleetlog";    // the one database ListDatabases names: the lake
  Duration clock_skew = Duration::Minutes(5);
  // ClusterIdentifier or WorkgroupName -> fleetlog workgroup; "*" maps every other name.
  // A name not mapped must be a workgroup's own name.
  std::map<std::string, std::string> workgroups;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert;
  std::string tls_key;
  std::string results_dir;  // default <state dir>/results
  Duration result_ttl = Duration::Hours(24);
  int64_t result_cap_bytes = 100LL << 20;
  int64_t max_body_bytes = 1LL << 20;
  Duration request_timeout = Duration::Seconds(30);
  std::vector<ApiToken> tokens;
  DataApiConfig data_api;
  std::vector<AccessKeyConfig> access_keys;
};

struct WorkgroupConfig {
  std::string name;
  int max_concurrent = 4;
  int max_queued = 64;
  int64_t max_scan_bytes = 0;  // 0: no limit
  Duration timeout = Duration::Minutes(10);
  int64_t memory_limit_bytes = 1LL << 30;
};

struct DetectConfig {
  bool enabled = true;
  Duration bucket = Duration::Minutes(5);
};

// [upkeep]: compaction, roll-ups, expiry (src/lake/upkeep/), run after export cycles.
struct UpkeepConfig {
  bool enabled = true;                       // inside `fleetlog run`
  Duration every = Duration::Minutes(10);    // at most this often inside `fleetlog run`
  Duration grace = Duration::Minutes(10);    // replaced files are deleted this long after
  int64_t target_file_bytes = 128LL << 20;   // compaction's file size
  int max_files_per_partition = 48;          // an open partition past this is compacted anyway
  Duration rollup_keep = Duration::Days(1825);  // retention of the hourly roll-ups
};

struct Config {
  std::string file;  // the file it came from, absolute
  std::string lake_path;
  std::string state_path;
  std::string key_file;
  ExportConfig export_;
  std::map<std::string, TableConfig> table_overrides;
  std::vector<ClusterConfig> clusters;
  std::vector<CustomQueryConfig> custom;
  QueryConfig query;
  std::optional<ServerConfig> server;
  std::vector<WorkgroupConfig> workgroups;  // always holds "default"
  DetectConfig detect;
  UpkeepConfig upkeep;

  const ClusterConfig* FindCluster(std::string_view name) const;
  // The tables exported from `cluster`, custom queries included.
  std::vector<std::string> TablesOf(const ClusterConfig& cluster) const;
};

// Reads, interpolates ${VAR} from `env` (the process environment when null), and validates.
// Every problem found is in the message, one per line, as "FILE:LINE: what (hint)".
Result<Config> LoadConfig(const std::string& path);
Result<Config> ParseConfig(const std::string& text, const std::string& path,
                           const std::map<std::string, std::string>* env = nullptr);

// "512MB", "2GiB", "1000" (bytes).
Result<int64_t> ParseByteSize(std::string_view text);
bool IsValidName(std::string_view name);  // [a-z0-9_-]+, at most 63 characters

// The commented example `fleetlog init` writes.
std::string ExampleConfig(const std::string& lake_path);

}  // namespace fleetlog
