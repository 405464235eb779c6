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

enum class SourceKind { kRedshift, kRedshiftServerless, kPostgres, kSim };
const char* SourceKindName(SourceKind kind);

// Which Redshift system tables a cluster has: the STL tables (provisioned clusters), the SYS
// monitoring views (Serverless workgroups, Multi-AZ clusters, and provisioned clusters when
// asked), or both.
enum class ViewFamily { kStl, kSys, kBoth };
const char* ViewFamilyName(ViewFamily views);

struct ClusterConfig {
  std::string name;  // [a-z0-9_-]+, the lake's `cluster` partition value
  SourceKind kind = SourceKind::kRedshift;
  ViewFamily views = ViewFamily::kStl;  // redshift-serverless: always kSys
  std::string dsn;   // libpq connection string, without a password
  std::string password_secret;  // name in the secret store, or
  std::string password_env;     // name of an environment variable
  std::vector<std::string> tables;  // empty: [export].tables
  uint64_t seed = 1;    // kind = "sim" only
  double scale = 1.0;   // kind = "sim" only: load multiplier
  std::vector<std::string> tags;  // free labels for the dashboard's filters, like "prod" or "team:bi"
  int line = 0;         // where it was declared, for later error messages
};

// True when `cluster` has Redshift system table `table`: a table of its view family, and
// sys_serverless_usage only on Serverless workgroups (real, or simulated with views = "sys").
bool ClusterHasSystemTable(const ClusterConfig& cluster, std::string_view table);

struct TableConfig {
  std::optional<Duration> lookback;
  std::optional<Duration> keep;  // retention of raw rows
  std::optional<Duration> settle;  // extra wait before rows are exported (rows that change later)
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
  // Long windows (first backfill, catching up) are read and committed in parts of at most
  // `part` of time; a part that returns more than `part_rows` rows halves the next one, and
  // a part that times out is retried at half the size (down to a minute).
  Duration part = Duration::Days(1);
  int64_t part_rows = 2000000;
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
  // Names the Host header may carry (with or without the port); the loopback names, and
  // the listen address's host, are always accepted.
  std::vector<std::string> hosts;
  // Origins ("https://dash.example.com") whose pages may send state-changing requests; a
  // request without Origin (curl, SDKs) is not a browser's and needs no entry.
  std::vector<std::string> origins;
  // The memory all running statements together may use (the sum of their workgroups'
  // memory_limit plus each worker's headroom); a statement waits until it fits. 0: half of
  // this machine's memory.
  int64_t memory_budget_bytes = 0;
  Duration ready_max_lag = Duration::Hours(1);  // GET /readyz fails past this export lag
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

// [lake.s3]: where an "s3://bucket/prefix" lake lives. Empty fields fall back to the AWS SDKs'
// environment (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_REGION), then to AWS's defaults.
struct S3LakeConfig {
  std::string endpoint;             // "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string region;
  std::optional<bool> path_style;   // default: false on AWS, true for a custom endpoint
  // A request that moves less than 1 KiB/s for this long is abandoned and retried.
  Duration timeout = Duration::Seconds(30);
};

// [[alert]]: a rule over the lake, the detector's grade, or fleetlog's own export health.
enum class AlertSource {
  kSql,            // `sql`: rows with a value column and grouping columns
  kAnomaly,        // the latest anomaly grade of each cluster (or of `cluster`)
  kExportLag,      // export lag of each (cluster, table), in seconds
  kFailingTables,  // consecutive failed export runs of each (cluster, table)
};
enum class AlertCondition { kAbove, kBelow, kEqual, kAbsent };
const char* AlertSourceName(AlertSource source);
const char* AlertConditionName(AlertCondition condition);

struct AlertRuleConfig {
  std::string name;  // [a-z0-9_-]+
  AlertSource source = AlertSource::kSql;
  std::string sql;                    // kSql only
  std::string value_column = "value"; // kSql only; the other columns group
  std::string cluster;                // kAnomaly: one cluster only; empty: every cluster
  AlertCondition condition = AlertCondition::kAbove;
  double threshold = 0;
  Duration for_;                      // active this long before firing (kAbsent: missing this long)
  std::optional<Duration> interval;   // also evaluated on this interval, besides after each cycle
  Duration repeat = Duration::Hours(4);  // re-notify a firing alert this often
  std::string severity = "warning";
  std::map<std::string, std::string> labels;
  std::vector<std::string> receivers;  // names of [[receiver]] entries
  std::string summary;                 // a sentence for people; {value} and {labels.NAME} expand
  int line = 0;
};

enum class ReceiverKind { kWebhook, kSlack, kAlertmanager, kEmail };
const char* ReceiverKindName(ReceiverKind kind);

// [[receiver]]: where notifications go. URLs that carry a token and SMTP passwords come from
// the secret store (url_secret, password_secret), never from the file.
struct ReceiverConfig {
  std::string name;
  ReceiverKind kind = ReceiverKind::kWebhook;
  std::string url;          // webhook, slack: the URL; alertmanager: its base URL; email: smtp:// or smtps://
  std::string url_secret;   // or: the name of a secret holding the URL
  std::string from;         // email
  std::vector<std::string> to;
  std::string username;     // email: SMTP login
  std::string password_secret;
  bool starttls = true;     // email over smtp://: require STARTTLS
  std::string ca_file;      // a CA bundle to verify the server with, instead of the system's
  Duration timeout = Duration::Seconds(10);
  int max_attempts = 8;     // deliveries retry with exponential back-off, then are recorded failed
  Duration first_retry = Duration::Seconds(2);
  int line = 0;
};

// [alerting]: settings for every rule.
struct AlertingConfig {
  std::string dashboard_url;  // notifications link here ("http://fleetlog.example:8080")
};

// [log]: the log format of `run` and `serve`.
struct LogConfig {
  bool json = false;  // format = "json": one JSON object per line
};

struct Config {
  std::string file;  // the file it came from, absolute
  std::string lake_path;  // a folder, or "s3://bucket/prefix"
  S3LakeConfig lake_s3;
  int64_t lake_cache_bytes = 20LL << 30;  // [lake] cache_size: local copies of an S3 lake's files
  std::string lake_cache_dir;             // [lake] cache_dir; default <state folder>/lake-cache
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
  std::vector<AlertRuleConfig> alerts;
  std::vector<ReceiverConfig> receivers;
  AlertingConfig alerting;
  LogConfig log;

  bool lake_is_s3() const { return lake_path.starts_with("s3://"); }
  const ClusterConfig* FindCluster(std::string_view name) const;
  // The tables exported from `cluster`, custom queries included: its own `tables`, else
  // those of [export].tables that it has (ClusterHasSystemTable).
  std::vector<std::string> TablesOf(const ClusterConfig& cluster) const;
};

// Reads, interpolates ${VAR} from `env` (the process environment when null), and validates.
// Every problem found is in the message, one per line, as "FILE:LINE: what (hint)".
Result<Config> LoadConfig(const std::string& path);
Result<Config> ParseConfig(const std::string& text, const std::string& path,
                           const std::map<std::string, std::string>* env = nullptr);

// The process environment as a map (what ${VAR} in the config reads).
std::map<std::string, std::string> ProcessEnvironment();

// "512MB", "2GiB", "1000" (bytes).
Result<int64_t> ParseByteSize(std::string_view text);
bool IsValidName(std::string_view name);  // [a-z0-9_-]+, at most 63 characters

// The commented example `fleetlog init` writes.
std::string ExampleConfig(const std::string& lake_path);

}  // namespace fleetlog
