-- A PostgreSQL stand-in for Redshift's STL views, as shared/reference/redshift-system-tables.md
-- describes them: the eight tables with Redshift's column types (char(n) is blank-padded on
-- the wire, as Redshift sends it), and getdate() returning UTC without a time zone.
CREATE FUNCTION getdate() RETURNS timestamp LANGUAGE sql
  AS $$ select (now() at time zone 'utc')::timestamp $$;
CREATE TABLE stl_query (userid int, query int, label char(320), xid bigint, pid int, database char(32),
  querytxt char(4000), starttime timestamp, endtime timestamp, aborted int, insert_pristine int,
  concurrency_scaling_status int);
CREATE TABLE stl_querytext (userid int, xid bigint, pid int, query int, sequence int, text char(200));
CREATE TABLE stl_explain (userid int, query int, nodeid int, parentid int, plannode char(400), info char(400));
CREATE TABLE stl_wlm_query (userid int, xid int, task int, query int, service_class int, slot_count int,
  service_class_start_time timestamp, queue_start_time timestamp, queue_end_time timestamp,
  total_queue_time bigint, exec_start_time timestamp, exec_end_time timestamp, total_exec_time bigint,
  service_class_end_time timestamp, final_state char(16), est_peak_mem bigint, query_priority char(20),
  service_class_name char(64));
CREATE TABLE stl_scan (userid int, query int, slice int, segment int, step int, starttime timestamp,
  endtime timestamp, tasknum int, rows bigint, bytes bigint, fetches bigint, type int, tbl int,
  is_rrscan char(1), is_delayed_scan char(1), rows_pre_filter bigint, rows_pre_user_filter bigint,
  perm_table_name char(136), is_rlf_scan char(1), is_rlf_scan_reason int, num_em_blocks int);
CREATE TABLE stl_alert_event_log (userid int, query int, slice int, segment int, step int, pid int,
  xid bigint, event char(1024), solution char(1024), event_time timestamp);
CREATE TABLE stl_ddltext (userid int, xid bigint, pid int, label char(320), starttime timestamp,
  endtime timestamp, sequence int, text char(200));
CREATE TABLE stl_utilitytext (userid int, xid bigint, pid int, label char(320), starttime timestamp,
  endtime timestamp, sequence int, text char(200));
