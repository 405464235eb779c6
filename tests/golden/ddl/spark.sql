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

