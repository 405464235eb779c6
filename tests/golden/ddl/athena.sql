-- The fleetlog lake in Amazon Athena: run each statement (they are separated by blank lines).
-- Partition projection finds new days and clusters without MSCK REPAIR.

CREATE DATABASE IF NOT EXISTS `fleetlog`;

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`stl_query` (
  `userid` int,
  `query` int,
  `label` string,
  `xid` bigint,
  `pid` int,
  `database` string,
  `querytxt` string,
  `starttime` timestamp,
  `endtime` timestamp,
  `aborted` int,
  `insert_pristine` int,
  `concurrency_scaling_status` int
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/stl_query/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/stl_query/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`stl_querytext` (
  `userid` int,
  `xid` bigint,
  `pid` int,
  `query` int,
  `sequence` int,
  `text` string
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/stl_querytext/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/stl_querytext/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`stl_explain` (
  `userid` int,
  `query` int,
  `nodeid` int,
  `parentid` int,
  `plannode` string,
  `info` string
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/stl_explain/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/stl_explain/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`stl_wlm_query` (
  `userid` int,
  `xid` int,
  `task` int,
  `query` int,
  `service_class` int,
  `slot_count` int,
  `service_class_start_time` timestamp,
  `queue_start_time` timestamp,
  `queue_end_time` timestamp,
  `total_queue_time` bigint,
  `exec_start_time` timestamp,
  `exec_end_time` timestamp,
  `total_exec_time` bigint,
  `service_class_end_time` timestamp,
  `final_state` string,
  `est_peak_mem` bigint,
  `query_priority` string,
  `service_class_name` string
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/stl_wlm_query/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/stl_wlm_query/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`stl_scan` (
  `userid` int,
  `query` int,
  `slice` int,
  `segment` int,
  `step` int,
  `starttime` timestamp,
  `endtime` timestamp,
  `tasknum` int,
  `rows` bigint,
  `bytes` bigint,
  `fetches` bigint,
  `type` int,
  `tbl` int,
  `is_rrscan` string,
  `is_delayed_scan` string,
  `rows_pre_filter` bigint,
  `rows_pre_user_filter` bigint,
  `perm_table_name` string,
  `is_rlf_scan` string,
  `is_rlf_scan_reason` int,
  `num_em_blocks` int
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/stl_scan/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/stl_scan/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`stl_alert_event_log` (
  `userid` int,
  `query` int,
  `slice` int,
  `segment` int,
  `step` int,
  `pid` int,
  `xid` bigint,
  `event` string,
  `solution` string,
  `event_time` timestamp
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/stl_alert_event_log/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/stl_alert_event_log/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`stl_ddltext` (
  `userid` int,
  `xid` bigint,
  `pid` int,
  `label` string,
  `starttime` timestamp,
  `endtime` timestamp,
  `sequence` int,
  `text` string
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/stl_ddltext/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/stl_ddltext/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`stl_utilitytext` (
  `userid` int,
  `xid` bigint,
  `pid` int,
  `label` string,
  `starttime` timestamp,
  `endtime` timestamp,
  `sequence` int,
  `text` string
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/stl_utilitytext/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/stl_utilitytext/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_query_history` (
  `user_id` int,
  `query_id` bigint,
  `query_label` string,
  `transaction_id` bigint,
  `session_id` int,
  `database_name` string,
  `query_type` string,
  `status` string,
  `result_cache_hit` boolean,
  `start_time` timestamp,
  `end_time` timestamp,
  `elapsed_time` bigint,
  `queue_time` bigint,
  `execution_time` bigint,
  `error_message` string,
  `returned_rows` bigint,
  `returned_bytes` bigint,
  `query_text` string,
  `redshift_version` string,
  `usage_limit` string,
  `compute_type` string,
  `compile_time` bigint,
  `planning_time` bigint,
  `lock_wait_time` bigint,
  `service_class_id` int,
  `service_class_name` string,
  `query_priority` string,
  `short_query_accelerated` string,
  `user_query_hash` string,
  `generic_query_hash` string,
  `query_hash_version` int
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_query_history/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_query_history/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_query_text` (
  `user_id` int,
  `query_id` bigint,
  `transaction_id` bigint,
  `session_id` int,
  `start_time` timestamp,
  `sequence` int,
  `text` string
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_query_text/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_query_text/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_query_detail` (
  `user_id` int,
  `query_id` bigint,
  `child_query_sequence` int,
  `stream_id` int,
  `segment_id` int,
  `step_id` int,
  `step_name` string,
  `table_id` int,
  `table_name` string,
  `is_rrscan` string,
  `start_time` timestamp,
  `end_time` timestamp,
  `duration` bigint,
  `alert` string,
  `input_bytes` bigint,
  `input_rows` bigint,
  `output_bytes` bigint,
  `output_rows` bigint,
  `blocks_read` bigint,
  `blocks_write` bigint,
  `spilled_block_local_disk` bigint,
  `spilled_block_remote_disk` bigint,
  `data_skewness` bigint,
  `time_skewness` bigint,
  `metrics_level` string,
  `plan_node_id` int
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_query_detail/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_query_detail/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_query_explain` (
  `user_id` int,
  `query_id` bigint,
  `child_query_sequence` int,
  `plan_node_id` int,
  `plan_parent_id` int,
  `plan_node` string,
  `node_info` string
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_query_explain/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_query_explain/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_load_history` (
  `user_id` int,
  `query_id` bigint,
  `transaction_id` bigint,
  `session_id` int,
  `database_name` string,
  `status` string,
  `table_name` string,
  `start_time` timestamp,
  `end_time` timestamp,
  `duration` bigint,
  `data_source` string,
  `file_format` string,
  `loaded_rows` bigint,
  `loaded_bytes` bigint,
  `source_file_count` int,
  `source_file_bytes` bigint,
  `file_count_scanned` int,
  `file_bytes_scanned` bigint,
  `error_count` bigint,
  `copy_job_id` bigint
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_load_history/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_load_history/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_unload_history` (
  `user_id` int,
  `query_id` bigint,
  `transaction_id` bigint,
  `session_id` int,
  `database_name` string,
  `status` string,
  `start_time` timestamp,
  `end_time` timestamp,
  `duration` bigint,
  `unloaded_location` string,
  `unloaded_rows` bigint,
  `unloaded_files_count` int,
  `unloaded_files_size` bigint,
  `file_format` string,
  `compression_type` string,
  `error_message` string
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_unload_history/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_unload_history/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_connection_log` (
  `event` string,
  `record_time` timestamp,
  `remote_host` string,
  `remote_port` string,
  `session_id` int,
  `database_name` string,
  `user_name` string,
  `auth_method` string,
  `duration` bigint,
  `ssl_version` string,
  `ssl_cipher` string,
  `application_name` string,
  `os_version` string,
  `driver_version` string,
  `plugin_name` string,
  `protocol_version` int
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_connection_log/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_connection_log/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_session_history` (
  `user_id` string,
  `session_id` int,
  `database_name` string,
  `status` string,
  `session_timeout` int,
  `start_time` timestamp,
  `end_time` timestamp
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_session_history/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_session_history/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_transaction_history` (
  `user_id` int,
  `transaction_id` bigint,
  `isolation_level` string,
  `status` string,
  `transaction_start_time` timestamp,
  `commit_start_time` timestamp,
  `commit_end_time` timestamp,
  `blocks_committed` bigint,
  `undo_transaction_id` bigint
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_transaction_history/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_transaction_history/cluster=${cluster}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `fleetlog`.`sys_serverless_usage` (
  `start_time` timestamp,
  `end_time` timestamp,
  `compute_seconds` double,
  `compute_capacity` double,
  `data_storage` int,
  `cross_region_transferred_data` bigint,
  `charged_seconds` int
)
PARTITIONED BY (`cluster` string, `dt` string)
STORED AS PARQUET
LOCATION 's3://fleetlog-lake/prod/sys_serverless_usage/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.cluster.type' = 'enum',
  'projection.cluster.values' = 'product-warehouse,analytics',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2026-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://fleetlog-lake/prod/sys_serverless_usage/cluster=${cluster}/dt=${dt}/'
);

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

