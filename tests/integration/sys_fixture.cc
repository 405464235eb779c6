#include "integration/sys_fixture.h"

#include <fmt/format.h>

namespace fleetlog::integration {
namespace {

// Types as the AWS Database Developer Guide lists them (char(n) where it says character).
constexpr const char* kSysViewsSql = R"sql(
CREATE TABLE public.fleetlog_test_clock (now timestamp NOT NULL);
CREATE OR REPLACE FUNCTION public.getdate() RETURNS timestamp LANGUAGE sql
  AS $$ select now from public.fleetlog_test_clock $$;
CREATE TABLE public.sys_query_history (user_id int, query_id bigint, query_label char(320), transaction_id bigint,
  session_id int, database_name char(128), query_type char(32), status char(10), result_cache_hit boolean,
  start_time timestamp, end_time timestamp, elapsed_time bigint, queue_time bigint, execution_time bigint,
  error_message char(512), returned_rows bigint, returned_bytes bigint, query_text char(4000),
  redshift_version char(256), usage_limit char(150), compute_type varchar(32), compile_time bigint,
  planning_time bigint, lock_wait_time bigint, service_class_id int, service_class_name char(64),
  query_priority char(20), short_query_accelerated char(10), user_query_hash char(40), generic_query_hash char(40),
  query_hash_version int);
CREATE TABLE public.sys_query_text (user_id int, query_id bigint, transaction_id bigint, session_id int,
  start_time timestamp, sequence int, text char(4000));
CREATE TABLE public.sys_query_detail (user_id int, query_id bigint, child_query_sequence int, stream_id int,
  segment_id int, step_id int, step_name char(30), table_id int, table_name char(136), is_rrscan char(1),
  start_time timestamp, end_time timestamp, duration bigint, alert char(256), input_bytes bigint, input_rows bigint,
  output_bytes bigint, output_rows bigint, blocks_read bigint, blocks_write bigint, spilled_block_local_disk bigint,
  spilled_block_remote_disk bigint, data_skewness bigint, time_skewness bigint, metrics_level char(13),
  plan_node_id int);
CREATE TABLE public.sys_query_explain (user_id int, query_id bigint, child_query_sequence int, plan_node_id int,
  plan_parent_id int, plan_node char(400), node_info char(400));
CREATE TABLE public.sys_load_history (user_id int, query_id bigint, transaction_id bigint, session_id int,
  database_name text, status text, table_name text, start_time timestamp, end_time timestamp, duration bigint,
  data_source text, file_format text, loaded_rows bigint, loaded_bytes bigint, source_file_count int,
  source_file_bytes bigint, file_count_scanned int, file_bytes_scanned bigint, error_count bigint, copy_job_id bigint);
CREATE TABLE public.sys_unload_history (user_id int, query_id bigint, transaction_id bigint, session_id int,
  database_name char(128), status char(30), start_time timestamp, end_time timestamp, duration bigint,
  unloaded_location char(1024), unloaded_rows bigint, unloaded_files_count int, unloaded_files_size bigint,
  file_format char(10), compression_type char(10), error_message char(512));
CREATE TABLE public.sys_connection_log (event char(50), record_time timestamp, remote_host char(45),
  remote_port char(32), session_id int, database_name char(50), user_name char(50), auth_method char(32),
  duration bigint, ssl_version char(50), ssl_cipher char(128), application_name char(250), os_version char(64),
  driver_version char(64), plugin_name char(32), protocol_version int);
CREATE TABLE public.sys_session_history (user_id char(50), session_id int, database_name char(50), status char(10),
  session_timeout int, start_time timestamp, end_time timestamp);
CREATE TABLE public.sys_transaction_history (user_id int, transaction_id bigint, isolation_level text, status text,
  transaction_start_time timestamp, commit_start_time timestamp, commit_end_time timestamp, blocks_committed bigint,
  undo_transaction_id bigint);
CREATE TABLE public.sys_serverless_usage (start_time timestamp, end_time timestamp, compute_seconds double precision,
  compute_capacity double precision, data_storage int, cross_region_transferred_data bigint, charged_seconds int);
)sql";

// The round's SQL; {0} is the round, {1} the clock literal.
constexpr const char* kRoundSql = R"sql(
-- New queries: ids r*100 + 1 .. r*100 + 20, queued (even) or running (odd).
INSERT INTO sys_query_history
SELECT 100 + q % 3, q, 'label ' || q, q * 10, 5000 + q, 'dev', CASE WHEN q % 10 = 4 THEN 'COPY' ELSE 'SELECT' END,
  CASE WHEN q % 2 = 0 THEN 'queued' ELSE 'running' END, q % 9 = 0, {1} - (q % 20) * interval '1 second', NULL,
  0, 0, 0, NULL, 0, 0, 'select * from sales where id = ' || q || ' -- é', '1.0.81000', NULL, 'primary',
  0, 1000, 0, 100 + q % 3, 'queue ' || q % 3, 'normal', 'false', md5(q::text), md5((q % 7)::text), 1
FROM generate_series({0} * 100 + 1, {0} * 100 + 20) AS q;
-- Their text: one in five over 64 KB (17 pieces of 4000 characters and a short last one).
INSERT INTO sys_query_text
SELECT 100 + q % 3, q, q * 10, 5000 + q, {1} - (q % 20) * interval '1 second', seq,
  CASE WHEN q % 5 = 0 AND seq < 17 THEN rpad('select col_' || seq || ' from t\n where q = ' || q || ' ', 4000, 'x')
       ELSE 'end of ' || q END
FROM generate_series({0} * 100 + 1, {0} * 100 + 20) AS q, generate_series(0, 17) AS seq
WHERE seq = 0 OR q % 5 = 0;
INSERT INTO sys_query_explain SELECT 100 + q % 3, q, 1, n, n - 1, 'XN Seq Scan on sales', 'Filter: id = ' || q
FROM generate_series({0} * 100 + 1, {0} * 100 + 20) AS q, generate_series(1, 2) AS n;
-- Steps of running queries: counters still growing, no end time yet.
INSERT INTO sys_query_detail SELECT 100 + q % 3, q, 1, s, s, 0, 'scan', 100200, 'public.sales', 'f',
  {1} - interval '1 second', NULL, NULL, CASE WHEN q % 4 = 0 AND s = 0 THEN 'Nested Loop Join in the query plan' END,
  1000, 10, 0, 0, 1, 0, 0, 0, 0, 0, 'step', s + 1
FROM generate_series({0} * 100 + 1, {0} * 100 + 20) AS q, generate_series(0, 1) AS s;
INSERT INTO sys_load_history VALUES (100, {0} * 100 + 4, 1, 1, 'dev', 'running', 'sales', {1} - interval '3 seconds',
  NULL, NULL, 's3://bucket/sales/', 'csv', 0, 0, 4, 4096, 0, 0, 0, 0);
INSERT INTO sys_unload_history VALUES (100, {0} * 100 + 6, 1, 1, 'dev', 'running', {1} - interval '3 seconds', NULL,
  NULL, 's3://bucket/out/', 0, 0, 0, 'parquet', 'none', NULL);
INSERT INTO sys_session_history VALUES ('100', {0}, 'dev', 'active', 0, {1} - interval '4 seconds', NULL);
INSERT INTO sys_connection_log VALUES ('initiating session', {1} - interval '4 seconds', '10.0.0.1', '5439', {0},
  'dev', 'analyst', 'password', 0, 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'psql', 'Linux', '15', '', 3);
INSERT INTO sys_transaction_history VALUES (100, {0} * 100 + 1, 'Serializable', CASE WHEN {0} % 3 = 0 THEN
  'rolledback' ELSE 'committed' END, {1} - interval '20 seconds', {1} - interval '3 seconds', {1} - interval '2 seconds',
  17, -1);

-- Finish: everything of two rounds ago, and the multiples of 3 of the last round.
CREATE TEMP TABLE done AS SELECT query_id AS q FROM sys_query_history
WHERE end_time IS NULL AND (query_id <= ({0} - 2) * 100 + 20 OR
  (query_id BETWEEN ({0} - 1) * 100 + 1 AND ({0} - 1) * 100 + 20 AND query_id % 3 = 0));
UPDATE sys_query_history h SET
  status = CASE WHEN q % 11 = 0 THEN 'canceled' WHEN q % 7 = 0 THEN 'failed' ELSE 'success' END,
  -- A late row: one query per round shows up finished before the last cycle's upper bound
  -- (inside the lookback).
  end_time = CASE WHEN q % 100 = 3 THEN {1} - interval '10 minutes 30 seconds' ELSE {1} - interval '5 seconds' END,
  elapsed_time = 5000000 + q, queue_time = 100 * q, execution_time = 4000000,
  error_message = CASE WHEN q % 11 = 0 THEN 'Query cancelled on user''s request'
                       WHEN q % 7 = 0 THEN 'ERROR: division by zero' END,
  returned_rows = CASE WHEN q % 7 = 0 OR q % 11 = 0 THEN 0 ELSE q END, returned_bytes = q * 64
FROM done WHERE h.query_id = done.q;
UPDATE sys_query_detail d SET end_time = h.end_time, duration = 3000000, input_rows = 1000 * d.query_id,
  output_rows = d.query_id, output_bytes = 64 * d.query_id
FROM sys_query_history h, done WHERE h.query_id = done.q AND d.query_id = done.q;
UPDATE sys_load_history l SET status = CASE WHEN l.query_id % 3 = 0 THEN 'aborted' ELSE 'completed' END,
  end_time = {1} - interval '5 seconds', duration = 2000000, loaded_rows = 1000, loaded_bytes = 65536
WHERE l.status = 'running' AND l.query_id <= ({0} - 1) * 100 + 20;
UPDATE sys_unload_history u SET status = 'completed', end_time = {1} - interval '5 seconds', duration = 1000000,
  unloaded_rows = 500, unloaded_files_count = 2, unloaded_files_size = 8192
WHERE u.status = 'running' AND u.query_id <= ({0} - 1) * 100 + 20;
UPDATE sys_session_history SET status = CASE WHEN session_id % 2 = 0 THEN 'closed' ELSE 'timed out' END,
  end_time = {1} - interval '5 seconds' WHERE status = 'active' AND session_id < {0};
DROP TABLE done;

-- Usage: the minutes of the last 10 minutes appear unbilled; minutes older than 20 are billed.
INSERT INTO sys_serverless_usage
SELECT m, m + interval '1 minute', 30.5 + extract(minute from m), 8.5, 20480, 0, 0
FROM generate_series(date_trunc('minute', {1}) - interval '10 minutes', date_trunc('minute', {1}) - interval '1 minute',
                     interval '1 minute') AS m
WHERE NOT EXISTS (SELECT 1 FROM sys_serverless_usage u WHERE u.start_time = m);
UPDATE sys_serverless_usage SET charged_seconds = 60 + extract(minute from start_time)::int
WHERE charged_seconds = 0 AND end_time < {1} - interval '20 minutes';
)sql";

std::string Literal(Timestamp t) { return fmt::format("'{}'::timestamp", FormatTimestamp(t)); }

}  // namespace

Status SysWorkload::Create(Timestamp start) {
  RETURN_IF_ERROR(pg_->Exec(db_, kSysViewsSql));
  clock_ = start;
  return pg_->Exec(db_, fmt::format("INSERT INTO fleetlog_test_clock VALUES ({})", Literal(start)));
}

Status SysWorkload::SetClock(Timestamp t) {
  clock_ = t;
  return pg_->Exec(db_, fmt::format("UPDATE fleetlog_test_clock SET now = {}", Literal(t)));
}

Status SysWorkload::Round() {
  ++round_;
  return pg_->Exec(db_, fmt::format(kRoundSql, round_, Literal(clock_)));
}

Status SysWorkload::FinishAll() {
  return pg_->Exec(db_, fmt::format(R"sql(
UPDATE sys_query_history SET status = 'success', end_time = {0} - interval '5 seconds', elapsed_time = 1,
  returned_rows = 1 WHERE end_time IS NULL;
UPDATE sys_query_detail SET end_time = {0} - interval '5 seconds', duration = 1 WHERE end_time IS NULL;
UPDATE sys_load_history SET status = 'completed', end_time = {0} - interval '5 seconds' WHERE status = 'running';
UPDATE sys_unload_history SET status = 'completed', end_time = {0} - interval '5 seconds' WHERE status = 'running';
UPDATE sys_session_history SET status = 'closed', end_time = {0} - interval '5 seconds' WHERE status = 'active';
UPDATE sys_serverless_usage SET charged_seconds = 60 + extract(minute from start_time)::int WHERE charged_seconds = 0;
)sql", Literal(clock_)));
}

Result<int> SysWorkload::RunningQueries() const {
  return pg_->QueryInt(db_, "SELECT count(*) FROM sys_query_history WHERE end_time IS NULL");
}

}  // namespace fleetlog::integration
