-- The fleetlog lake in Spark SQL: run MSCK REPAIR TABLE again after exports add days.

CREATE DATABASE IF NOT EXISTS `fleetlog`;
USE `fleetlog`;

CREATE TABLE IF NOT EXISTS `stl_query` (
  `userid` INT,
  `query` INT,
  `label` STRING,
  `xid` BIGINT,
  `pid` INT,
  `database` STRING,
  `querytxt` STRING,
  `starttime` TIMESTAMP,
  `endtime` TIMESTAMP,
  `aborted` INT,
  `insert_pristine` INT,
  `concurrency_scaling_status` INT,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/stl_query/';

MSCK REPAIR TABLE `stl_query`;

CREATE TABLE IF NOT EXISTS `stl_querytext` (
  `userid` INT,
  `xid` BIGINT,
  `pid` INT,
  `query` INT,
  `sequence` INT,
  `text` STRING,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/stl_querytext/';

MSCK REPAIR TABLE `stl_querytext`;

CREATE TABLE IF NOT EXISTS `stl_explain` (
  `userid` INT,
  `query` INT,
  `nodeid` INT,
  `parentid` INT,
  `plannode` STRING,
  `info` STRING,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/stl_explain/';

MSCK REPAIR TABLE `stl_explain`;

CREATE TABLE IF NOT EXISTS `stl_wlm_query` (
  `userid` INT,
  `xid` INT,
  `task` INT,
  `query` INT,
  `service_class` INT,
  `slot_count` INT,
  `service_class_start_time` TIMESTAMP,
  `queue_start_time` TIMESTAMP,
  `queue_end_time` TIMESTAMP,
  `total_queue_time` BIGINT,
  `exec_start_time` TIMESTAMP,
  `exec_end_time` TIMESTAMP,
  `total_exec_time` BIGINT,
  `service_class_end_time` TIMESTAMP,
  `final_state` STRING,
  `est_peak_mem` BIGINT,
  `query_priority` STRING,
  `service_class_name` STRING,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/stl_wlm_query/';

MSCK REPAIR TABLE `stl_wlm_query`;

CREATE TABLE IF NOT EXISTS `stl_scan` (
  `userid` INT,
  `query` INT,
  `slice` INT,
  `segment` INT,
  `step` INT,
  `starttime` TIMESTAMP,
  `endtime` TIMESTAMP,
  `tasknum` INT,
  `rows` BIGINT,
  `bytes` BIGINT,
  `fetches` BIGINT,
  `type` INT,
  `tbl` INT,
  `is_rrscan` STRING,
  `is_delayed_scan` STRING,
  `rows_pre_filter` BIGINT,
  `rows_pre_user_filter` BIGINT,
  `perm_table_name` STRING,
  `is_rlf_scan` STRING,
  `is_rlf_scan_reason` INT,
  `num_em_blocks` INT,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/stl_scan/';

MSCK REPAIR TABLE `stl_scan`;

CREATE TABLE IF NOT EXISTS `stl_alert_event_log` (
  `userid` INT,
  `query` INT,
  `slice` INT,
  `segment` INT,
  `step` INT,
  `pid` INT,
  `xid` BIGINT,
  `event` STRING,
  `solution` STRING,
  `event_time` TIMESTAMP,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/stl_alert_event_log/';

MSCK REPAIR TABLE `stl_alert_event_log`;

CREATE TABLE IF NOT EXISTS `stl_ddltext` (
  `userid` INT,
  `xid` BIGINT,
  `pid` INT,
  `label` STRING,
  `starttime` TIMESTAMP,
  `endtime` TIMESTAMP,
  `sequence` INT,
  `text` STRING,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/stl_ddltext/';

MSCK REPAIR TABLE `stl_ddltext`;

CREATE TABLE IF NOT EXISTS `stl_utilitytext` (
  `userid` INT,
  `xid` BIGINT,
  `pid` INT,
  `label` STRING,
  `starttime` TIMESTAMP,
  `endtime` TIMESTAMP,
  `sequence` INT,
  `text` STRING,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/stl_utilitytext/';

MSCK REPAIR TABLE `stl_utilitytext`;

CREATE TABLE IF NOT EXISTS `sys_query_history` (
  `user_id` INT,
  `query_id` BIGINT,
  `query_label` STRING,
  `transaction_id` BIGINT,
  `session_id` INT,
  `database_name` STRING,
  `query_type` STRING,
  `status` STRING,
  `result_cache_hit` BOOLEAN,
  `start_time` TIMESTAMP,
  `end_time` TIMESTAMP,
  `elapsed_time` BIGINT,
  `queue_time` BIGINT,
  `execution_time` BIGINT,
  `error_message` STRING,
  `returned_rows` BIGINT,
  `returned_bytes` BIGINT,
  `query_text` STRING,
  `redshift_version` STRING,
  `usage_limit` STRING,
  `compute_type` STRING,
  `compile_time` BIGINT,
  `planning_time` BIGINT,
  `lock_wait_time` BIGINT,
  `service_class_id` INT,
  `service_class_name` STRING,
  `query_priority` STRING,
  `short_query_accelerated` STRING,
  `user_query_hash` STRING,
  `generic_query_hash` STRING,
  `query_hash_version` INT,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_query_history/';

MSCK REPAIR TABLE `sys_query_history`;

CREATE TABLE IF NOT EXISTS `sys_query_text` (
  `user_id` INT,
  `query_id` BIGINT,
  `transaction_id` BIGINT,
  `session_id` INT,
  `start_time` TIMESTAMP,
  `sequence` INT,
  `text` STRING,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_query_text/';

MSCK REPAIR TABLE `sys_query_text`;

CREATE TABLE IF NOT EXISTS `sys_query_detail` (
  `user_id` INT,
  `query_id` BIGINT,
  `child_query_sequence` INT,
  `stream_id` INT,
  `segment_id` INT,
  `step_id` INT,
  `step_name` STRING,
  `table_id` INT,
  `table_name` STRING,
  `is_rrscan` STRING,
  `start_time` TIMESTAMP,
  `end_time` TIMESTAMP,
  `duration` BIGINT,
  `alert` STRING,
  `input_bytes` BIGINT,
  `input_rows` BIGINT,
  `output_bytes` BIGINT,
  `output_rows` BIGINT,
  `blocks_read` BIGINT,
  `blocks_write` BIGINT,
  `spilled_block_local_disk` BIGINT,
  `spilled_block_remote_disk` BIGINT,
  `data_skewness` BIGINT,
  `time_skewness` BIGINT,
  `metrics_level` STRING,
  `plan_node_id` INT,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_query_detail/';

MSCK REPAIR TABLE `sys_query_detail`;

CREATE TABLE IF NOT EXISTS `sys_query_explain` (
  `user_id` INT,
  `query_id` BIGINT,
  `child_query_sequence` INT,
  `plan_node_id` INT,
  `plan_parent_id` INT,
  `plan_node` STRING,
  `node_info` STRING,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_query_explain/';

MSCK REPAIR TABLE `sys_query_explain`;

CREATE TABLE IF NOT EXISTS `sys_load_history` (
  `user_id` INT,
  `query_id` BIGINT,
  `transaction_id` BIGINT,
  `session_id` INT,
  `database_name` STRING,
  `status` STRING,
  `table_name` STRING,
  `start_time` TIMESTAMP,
  `end_time` TIMESTAMP,
  `duration` BIGINT,
  `data_source` STRING,
  `file_format` STRING,
  `loaded_rows` BIGINT,
  `loaded_bytes` BIGINT,
  `source_file_count` INT,
  `source_file_bytes` BIGINT,
  `file_count_scanned` INT,
  `file_bytes_scanned` BIGINT,
  `error_count` BIGINT,
  `copy_job_id` BIGINT,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_load_history/';

MSCK REPAIR TABLE `sys_load_history`;

CREATE TABLE IF NOT EXISTS `sys_unload_history` (
  `user_id` INT,
  `query_id` BIGINT,
  `transaction_id` BIGINT,
  `session_id` INT,
  `database_name` STRING,
  `status` STRING,
  `start_time` TIMESTAMP,
  `end_time` TIMESTAMP,
  `duration` BIGINT,
  `unloaded_location` STRING,
  `unloaded_rows` BIGINT,
  `unloaded_files_count` INT,
  `unloaded_files_size` BIGINT,
  `file_format` STRING,
  `compression_type` STRING,
  `error_message` STRING,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_unload_history/';

MSCK REPAIR TABLE `sys_unload_history`;

CREATE TABLE IF NOT EXISTS `sys_connection_log` (
  `event` STRING,
  `record_time` TIMESTAMP,
  `remote_host` STRING,
  `remote_port` STRING,
  `session_id` INT,
  `database_name` STRING,
  `user_name` STRING,
  `auth_method` STRING,
  `duration` BIGINT,
  `ssl_version` STRING,
  `ssl_cipher` STRING,
  `application_name` STRING,
  `os_version` STRING,
  `driver_version` STRING,
  `plugin_name` STRING,
  `protocol_version` INT,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_connection_log/';

MSCK REPAIR TABLE `sys_connection_log`;

CREATE TABLE IF NOT EXISTS `sys_session_history` (
  `user_id` STRING,
  `session_id` INT,
  `database_name` STRING,
  `status` STRING,
  `session_timeout` INT,
  `start_time` TIMESTAMP,
  `end_time` TIMESTAMP,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_session_history/';

MSCK REPAIR TABLE `sys_session_history`;

CREATE TABLE IF NOT EXISTS `sys_transaction_history` (
  `user_id` INT,
  `transaction_id` BIGINT,
  `isolation_level` STRING,
  `status` STRING,
  `transaction_start_time` TIMESTAMP,
  `commit_start_time` TIMESTAMP,
  `commit_end_time` TIMESTAMP,
  `blocks_committed` BIGINT,
  `undo_transaction_id` BIGINT,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_transaction_history/';

MSCK REPAIR TABLE `sys_transaction_history`;

CREATE TABLE IF NOT EXISTS `sys_serverless_usage` (
  `start_time` TIMESTAMP,
  `end_time` TIMESTAMP,
  `compute_seconds` DOUBLE,
  `compute_capacity` DOUBLE,
  `data_storage` INT,
  `cross_region_transferred_data` BIGINT,
  `charged_seconds` INT,
  `cluster` STRING,
  `dt` DATE
)
USING parquet
PARTITIONED BY (`cluster`, `dt`)
LOCATION 's3://fleetlog-lake/prod/sys_serverless_usage/';

MSCK REPAIR TABLE `sys_serverless_usage`;

CREATE OR REPLACE VIEW `stl_querytext_full` AS
SELECT `cluster`, `query`,
       first(`userid`) AS `userid`,
       replace(array_join(transform(array_sort(collect_list(struct(`sequence`, `text`))), x -> x.`text`), ''), '\\n', chr(10)) AS `text`,
       count(*) AS `pieces`,
       min(`dt`) AS `dt`
FROM `stl_querytext`
GROUP BY `cluster`, `query`;

CREATE OR REPLACE VIEW `stl_ddltext_full` AS
SELECT `cluster`, `xid`, `pid`, `starttime`,
       first(`userid`) AS `userid`,
       replace(array_join(transform(array_sort(collect_list(struct(`sequence`, `text`))), x -> x.`text`), ''), '\\n', chr(10)) AS `text`,
       count(*) AS `pieces`,
       min(`dt`) AS `dt`
FROM `stl_ddltext`
GROUP BY `cluster`, `xid`, `pid`, `starttime`;

CREATE OR REPLACE VIEW `stl_utilitytext_full` AS
SELECT `cluster`, `xid`, `pid`, `starttime`,
       first(`userid`) AS `userid`,
       replace(array_join(transform(array_sort(collect_list(struct(`sequence`, `text`))), x -> x.`text`), ''), '\\n', chr(10)) AS `text`,
       count(*) AS `pieces`,
       min(`dt`) AS `dt`
FROM `stl_utilitytext`
GROUP BY `cluster`, `xid`, `pid`, `starttime`;

CREATE OR REPLACE VIEW `sys_query_text_full` AS
SELECT `cluster`, `query_id`,
       first(`user_id`) AS `user_id`,
       replace(array_join(transform(array_sort(collect_list(struct(`sequence`, `text`))), x -> x.`text`), ''), '\\n', chr(10)) AS `text`,
       count(*) AS `pieces`,
       min(`dt`) AS `dt`
FROM `sys_query_text`
GROUP BY `cluster`, `query_id`;

