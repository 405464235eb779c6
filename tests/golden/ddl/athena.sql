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

