// The commented fleetlog.toml that `fleetlog init` writes. It must always load: a test
// parses it.
#include <fmt/format.h>

#include "core/config_example.h"

#include "core/config.h"

namespace fleetlog {

std::string ExampleConfig(const std::string& lake_path, const std::string& state_dir) {
  return fmt::format(R"toml(# fleetlog configuration. Reference: README.md, "Configuration", and `man fleetlog`.
# Every section is here; a commented key shows its default. Relative paths are relative to
# this file. Durations: 500ms, 30s, 5m, 2h, 7d, 1w, or sums like 1h30m. Sizes: 512MB, 2GiB.
# Strings may use ${{VAR}} to read an environment variable ($$ is a literal $).

[lake]
path = "{0}"                # Parquet files: <table>/cluster=<c>/dt=<YYYY-MM-DD>/*.parquet

[state]
path = "{1}/fleetlog.db"     # cursors, committed files and runs (SQLite)

[secrets]
key_file = "{1}/fleetlog.key"  # master key of the secret store; or set FLEETLOG_MASTER_KEY

[export]
interval = "5m"            # how often `fleetlog run` exports
settle = "30s"             # rows newer than source-now minus settle wait for the next cycle
lookback = "15m"           # overlap re-read each cycle, so late rows are not lost
initial_backfill = "7d"    # first run: everything Redshift still holds
statement_timeout = "5m"   # per source statement
# connect_timeout = "10s"  # per connection attempt
parallelism = 4            # clusters exported at once
# Each cluster exports the tables of this list that it has (see views below).
tables = ["stl_query", "stl_querytext", "stl_explain", "stl_wlm_query",
          "stl_scan", "stl_alert_event_log", "stl_ddltext", "stl_utilitytext",
          "sys_query_history", "sys_query_text", "sys_query_detail", "sys_query_explain",
          "sys_load_history", "sys_unload_history", "sys_connection_log", "sys_session_history",
          "sys_transaction_history", "sys_serverless_usage"]

# Per-table overrides. stl_alert_event_log is keyed by the query's start time, so its
# lookback must exceed your longest query.
[table.stl_alert_event_log]
lookback = "6h"
# keep = "400d"            # retention of raw rows (any table); older partitions expire after a roll-up

# One [[cluster]] per database. Passwords never go in this file:
#   echo -n 'the password' | fleetlog secrets set product-warehouse
# [[cluster]]
# name = "product-warehouse"
# kind = "redshift"        # redshift | redshift-serverless | postgres | sim (a simulated demo cluster)
# views = "stl"            # redshift: stl (default) | sys | both; redshift-serverless has sys only
# dsn = "host=pw.example.internal port=5439 dbname=dev user=fleetlog sslmode=verify-full"
# password_secret = "product-warehouse"   # or password_env = "PW_PASSWORD"

# A simulated cluster, to try fleetlog without one:
[[cluster]]
name = "sim-1"
kind = "sim"
seed = 1

# A simulated Serverless workgroup (SYS views only):
# [[cluster]]
# name = "sim-serverless"
# kind = "sim"
# views = "sys"

# Your own tables: any SELECT, with a cursor column and a key.
# [[custom]]
# name = "sales_2000"
# cluster = "product-warehouse"
# sql = "select s.*, o.order_amnt from sales s join orders o using (orderid) where o.order_amnt > 2000"
# cursor = "sale_timestamp"
# key = ["salesid"]

[query]                    # limits of `fleetlog query`
memory_limit = "2GB"
threads = 2

# [server]                 # enables `fleetlog serve`, and the server inside `fleetlog run`
# listen = "127.0.0.1:8080"
# tls_cert = "/etc/fleetlog/tls/cert.pem"   # both tls_cert and tls_key: HTTPS
# tls_key = "/etc/fleetlog/tls/key.pem"
# results_dir = ""         # default: results/ beside the state store
# result_ttl = "24h"       # statements and their results are kept this long
# result_cap = "100MiB"    # the largest result kept
# max_body = "1MiB"        # larger request bodies get 413
# request_timeout = "30s"

# A bearer token, by its SHA-256 (`printf %s TOKEN | sha256sum`), bound to a workgroup;
# required when [server] listens beyond loopback.
# [[server.token]]
# name = "analysts"
# sha256 = "<64 hex digits>"
# workgroup = "default"

# The Redshift Data API's own wire protocol (the AWS CLI, boto3, the SDKs), beside /v1/.
# [server.data_api]
# enabled = true
# path = "/"               # where POSTs with X-Amz-Target land
# region = "us-east-1"     # requests must be signed for this region
# database = "fleetlog"    # the one database ListDatabases names: the lake
# clock_skew = "5m"        # how far a request's X-Amz-Date may be from this clock
# workgroups = {{ "prod-warehouse" = "default" }}  # ClusterIdentifier / WorkgroupName -> workgroup

# An AWS access key for the Data API, bound to a workgroup; its secret access key is in the
# secret store (`fleetlog secrets set analyst-aws`) or in the variable secret_access_key_env names.
# [[server.access_key]]
# name = "analyst"
# access_key_id = "AKIAFLEETLOG00000001"
# secret_access_key_secret = "analyst-aws"
# workgroup = "default"

# Statement queues of the HTTP API; "default" always exists.
# [[workgroup]]
# name = "default"
# max_concurrent = 4
# max_queued = 64
# max_scan_bytes = 0       # 0: no limit
# timeout = "10m"
# memory_limit = "1GiB"

[detect]                   # anomaly detection after each cycle (lake table `anomalies`)
# enabled = true
# bucket = "5m"

[upkeep]                   # lake upkeep inside `fleetlog run`: compaction, roll-ups, expiry
# enabled = true
# every = "10m"            # at most this often
# grace = "10m"            # replaced files are deleted this long after
# target_file_size = "128MiB"
# max_files_per_partition = 48
# rollup_keep = "1825d"    # retention of the hourly roll-ups
)toml",
                     lake_path, state_dir);
}

std::string ExampleConfig(const std::string& lake_path) { return ExampleConfig(lake_path, "."); }

}  // namespace fleetlog
