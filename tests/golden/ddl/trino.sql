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

