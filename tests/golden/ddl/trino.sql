-- The fleetlog lake in Trino's Hive connector: run in a session on your Hive catalog
-- (USE hive.fleetlog), and call sync_partition_metadata again after exports add days.

CREATE SCHEMA IF NOT EXISTS "fleetlog";

CREATE TABLE IF NOT EXISTS "fleetlog"."stl_query" (
  "userid" integer,
  "query" integer,
  "label" varchar,
  "xid" bigint,
  "pid" integer,
  "database" varchar,
  "querytxt" varchar,
  "starttime" timestamp,
  "endtime" timestamp,
  "aborted" integer,
  "insert_pristine" integer,
  "concurrency_scaling_status" integer,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/stl_query/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'stl_query', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."stl_querytext" (
  "userid" integer,
  "xid" bigint,
  "pid" integer,
  "query" integer,
  "sequence" integer,
  "text" varchar,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/stl_querytext/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'stl_querytext', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."stl_explain" (
  "userid" integer,
  "query" integer,
  "nodeid" integer,
  "parentid" integer,
  "plannode" varchar,
  "info" varchar,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/stl_explain/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'stl_explain', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."stl_wlm_query" (
  "userid" integer,
  "xid" integer,
  "task" integer,
  "query" integer,
  "service_class" integer,
  "slot_count" integer,
  "service_class_start_time" timestamp,
  "queue_start_time" timestamp,
  "queue_end_time" timestamp,
  "total_queue_time" bigint,
  "exec_start_time" timestamp,
  "exec_end_time" timestamp,
  "total_exec_time" bigint,
  "service_class_end_time" timestamp,
  "final_state" varchar,
  "est_peak_mem" bigint,
  "query_priority" varchar,
  "service_class_name" varchar,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/stl_wlm_query/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'stl_wlm_query', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."stl_scan" (
  "userid" integer,
  "query" integer,
  "slice" integer,
  "segment" integer,
  "step" integer,
  "starttime" timestamp,
  "endtime" timestamp,
  "tasknum" integer,
  "rows" bigint,
  "bytes" bigint,
  "fetches" bigint,
  "type" integer,
  "tbl" integer,
  "is_rrscan" varchar,
  "is_delayed_scan" varchar,
  "rows_pre_filter" bigint,
  "rows_pre_user_filter" bigint,
  "perm_table_name" varchar,
  "is_rlf_scan" varchar,
  "is_rlf_scan_reason" integer,
  "num_em_blocks" integer,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/stl_scan/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'stl_scan', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."stl_alert_event_log" (
  "userid" integer,
  "query" integer,
  "slice" integer,
  "segment" integer,
  "step" integer,
  "pid" integer,
  "xid" bigint,
  "event" varchar,
  "solution" varchar,
  "event_time" timestamp,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/stl_alert_event_log/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'stl_alert_event_log', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."stl_ddltext" (
  "userid" integer,
  "xid" bigint,
  "pid" integer,
  "label" varchar,
  "starttime" timestamp,
  "endtime" timestamp,
  "sequence" integer,
  "text" varchar,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/stl_ddltext/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'stl_ddltext', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."stl_utilitytext" (
  "userid" integer,
  "xid" bigint,
  "pid" integer,
  "label" varchar,
  "starttime" timestamp,
  "endtime" timestamp,
  "sequence" integer,
  "text" varchar,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/stl_utilitytext/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'stl_utilitytext', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_query_history" (
  "user_id" integer,
  "query_id" bigint,
  "query_label" varchar,
  "transaction_id" bigint,
  "session_id" integer,
  "database_name" varchar,
  "query_type" varchar,
  "status" varchar,
  "result_cache_hit" boolean,
  "start_time" timestamp,
  "end_time" timestamp,
  "elapsed_time" bigint,
  "queue_time" bigint,
  "execution_time" bigint,
  "error_message" varchar,
  "returned_rows" bigint,
  "returned_bytes" bigint,
  "query_text" varchar,
  "redshift_version" varchar,
  "usage_limit" varchar,
  "compute_type" varchar,
  "compile_time" bigint,
  "planning_time" bigint,
  "lock_wait_time" bigint,
  "service_class_id" integer,
  "service_class_name" varchar,
  "query_priority" varchar,
  "short_query_accelerated" varchar,
  "user_query_hash" varchar,
  "generic_query_hash" varchar,
  "query_hash_version" integer,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_query_history/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_query_history', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_query_text" (
  "user_id" integer,
  "query_id" bigint,
  "transaction_id" bigint,
  "session_id" integer,
  "start_time" timestamp,
  "sequence" integer,
  "text" varchar,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_query_text/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_query_text', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_query_detail" (
  "user_id" integer,
  "query_id" bigint,
  "child_query_sequence" integer,
  "stream_id" integer,
  "segment_id" integer,
  "step_id" integer,
  "step_name" varchar,
  "table_id" integer,
  "table_name" varchar,
  "is_rrscan" varchar,
  "start_time" timestamp,
  "end_time" timestamp,
  "duration" bigint,
  "alert" varchar,
  "input_bytes" bigint,
  "input_rows" bigint,
  "output_bytes" bigint,
  "output_rows" bigint,
  "blocks_read" bigint,
  "blocks_write" bigint,
  "spilled_block_local_disk" bigint,
  "spilled_block_remote_disk" bigint,
  "data_skewness" bigint,
  "time_skewness" bigint,
  "metrics_level" varchar,
  "plan_node_id" integer,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_query_detail/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_query_detail', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_query_explain" (
  "user_id" integer,
  "query_id" bigint,
  "child_query_sequence" integer,
  "plan_node_id" integer,
  "plan_parent_id" integer,
  "plan_node" varchar,
  "node_info" varchar,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_query_explain/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_query_explain', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_load_history" (
  "user_id" integer,
  "query_id" bigint,
  "transaction_id" bigint,
  "session_id" integer,
  "database_name" varchar,
  "status" varchar,
  "table_name" varchar,
  "start_time" timestamp,
  "end_time" timestamp,
  "duration" bigint,
  "data_source" varchar,
  "file_format" varchar,
  "loaded_rows" bigint,
  "loaded_bytes" bigint,
  "source_file_count" integer,
  "source_file_bytes" bigint,
  "file_count_scanned" integer,
  "file_bytes_scanned" bigint,
  "error_count" bigint,
  "copy_job_id" bigint,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_load_history/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_load_history', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_unload_history" (
  "user_id" integer,
  "query_id" bigint,
  "transaction_id" bigint,
  "session_id" integer,
  "database_name" varchar,
  "status" varchar,
  "start_time" timestamp,
  "end_time" timestamp,
  "duration" bigint,
  "unloaded_location" varchar,
  "unloaded_rows" bigint,
  "unloaded_files_count" integer,
  "unloaded_files_size" bigint,
  "file_format" varchar,
  "compression_type" varchar,
  "error_message" varchar,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_unload_history/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_unload_history', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_connection_log" (
  "event" varchar,
  "record_time" timestamp,
  "remote_host" varchar,
  "remote_port" varchar,
  "session_id" integer,
  "database_name" varchar,
  "user_name" varchar,
  "auth_method" varchar,
  "duration" bigint,
  "ssl_version" varchar,
  "ssl_cipher" varchar,
  "application_name" varchar,
  "os_version" varchar,
  "driver_version" varchar,
  "plugin_name" varchar,
  "protocol_version" integer,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_connection_log/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_connection_log', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_session_history" (
  "user_id" varchar,
  "session_id" integer,
  "database_name" varchar,
  "status" varchar,
  "session_timeout" integer,
  "start_time" timestamp,
  "end_time" timestamp,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_session_history/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_session_history', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_transaction_history" (
  "user_id" integer,
  "transaction_id" bigint,
  "isolation_level" varchar,
  "status" varchar,
  "transaction_start_time" timestamp,
  "commit_start_time" timestamp,
  "commit_end_time" timestamp,
  "blocks_committed" bigint,
  "undo_transaction_id" bigint,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_transaction_history/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_transaction_history', 'FULL');

CREATE TABLE IF NOT EXISTS "fleetlog"."sys_serverless_usage" (
  "start_time" timestamp,
  "end_time" timestamp,
  "compute_seconds" double,
  "compute_capacity" double,
  "data_storage" integer,
  "cross_region_transferred_data" bigint,
  "charged_seconds" integer,
  "cluster" varchar,
  "dt" date
)
WITH (
  external_location = 's3://fleetlog-lake/prod/sys_serverless_usage/',
  format = 'PARQUET',
  partitioned_by = ARRAY['cluster', 'dt']
);

CALL system.sync_partition_metadata('fleetlog', 'sys_serverless_usage', 'FULL');

CREATE OR REPLACE VIEW "stl_querytext_full" AS
SELECT "cluster", "query",
       arbitrary("userid") AS "userid",
       replace(array_join(array_agg("text" ORDER BY "sequence"), ''), '\n', chr(10)) AS "text",
       count(*) AS "pieces",
       min("dt") AS "dt"
FROM "stl_querytext"
GROUP BY "cluster", "query";

CREATE OR REPLACE VIEW "stl_ddltext_full" AS
SELECT "cluster", "xid", "pid", "starttime",
       arbitrary("userid") AS "userid",
       replace(array_join(array_agg("text" ORDER BY "sequence"), ''), '\n', chr(10)) AS "text",
       count(*) AS "pieces",
       min("dt") AS "dt"
FROM "stl_ddltext"
GROUP BY "cluster", "xid", "pid", "starttime";

CREATE OR REPLACE VIEW "stl_utilitytext_full" AS
SELECT "cluster", "xid", "pid", "starttime",
       arbitrary("userid") AS "userid",
       replace(array_join(array_agg("text" ORDER BY "sequence"), ''), '\n', chr(10)) AS "text",
       count(*) AS "pieces",
       min("dt") AS "dt"
FROM "stl_utilitytext"
GROUP BY "cluster", "xid", "pid", "starttime";

CREATE OR REPLACE VIEW "sys_query_text_full" AS
SELECT "cluster", "query_id",
       arbitrary("user_id") AS "user_id",
       replace(array_join(array_agg("text" ORDER BY "sequence"), ''), '\n', chr(10)) AS "text",
       count(*) AS "pieces",
       min("dt") AS "dt"
FROM "sys_query_text"
GROUP BY "cluster", "query_id";

