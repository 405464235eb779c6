// The cluster and query pages of a cluster read from the SYS monitoring views (a Serverless
// workgroup, or a provisioned cluster exported with views = "sys"): the SQL that gives each
// panel the columns its STL SQL gives, from sys_query_history (one row per finished query,
// times in µs), sys_query_detail (steps: scans, spilled blocks, alert text), sys_query_explain
// and fleet_query_text. SYS has no per-attempt WLM rows, no slice rows and no alert solutions.
// A cluster exporting both families is read from STL, as the detector and the roll-ups read it.
// SYS query_id is a number space of its own: a query page reads its cluster's family.
import { clusterWhere } from './panels.js';

export const familyOf = (info) => {
  const names = new Set((info?.tables || []).map((t) => t.table));
  return !names.has('stl_query') && names.has('sys_query_history') ? 'sys' : 'stl';
};

const FAILED = "status IN ('failed', 'canceled', 'cancelled')";
const CLASS = "coalesce(nullif(trim(service_class_name), ''), 'class ' || service_class_id, 'leader node')";

// Per service class and bucket: queries and their p95 queue wait (s).
export const sysWorkloadSql = (bucketS, range) => `SELECT ${CLASS} AS class,
    epoch(time_bucket(INTERVAL '${bucketS} seconds', end_time, TIMESTAMP '1970-01-01'))::BIGINT AS t,
    count(*) AS n, quantile_cont(queue_time / 1e6, 0.95) AS p95_queue
  FROM sys_query_history WHERE ${clusterWhere('end_time', range)} GROUP BY ALL ORDER BY t`;

export const sysAlertEventsSql = (range) => `SELECT split_part(trim(alert), ':', 1) AS event, any_value(trim(alert)) AS sample,
    NULL AS solution, count(*) AS events, count(DISTINCT query_id) AS queries, max(start_time) AS last_seen,
    arg_max(query_id, start_time) AS example
  FROM sys_query_detail WHERE ${clusterWhere('start_time', range)} AND trim(alert) <> '' GROUP BY 1 ORDER BY events DESC LIMIT 20`;

export const sysTopTablesSql = (range) => `SELECT trim(table_name) AS tbl, count(DISTINCT query_id) AS queries,
    sum(output_rows) AS rows, sum(output_bytes) AS bytes
  FROM sys_query_detail WHERE ${clusterWhere('end_time', range)} AND step_name = 'scan' AND trim(table_name) <> ''
  GROUP BY 1 ORDER BY queries DESC, bytes DESC LIMIT 15`;

export const sysStatementsSql = (range) => `SELECT CASE query_type WHEN 'DDL' THEN 'DDL' ELSE 'utility' END AS kind,
    start_time AS starttime, transaction_id AS xid, query_text AS text
  FROM sys_query_history WHERE ${clusterWhere('end_time', range)} AND query_type IN ('DDL', 'UTILITY')
  ORDER BY start_time DESC LIMIT 25`;

export const sysSlowestSql = (range) => `SELECT query_id AS query, user_id AS userid, start_time AS starttime,
    elapsed_time / 1e6 AS seconds, queue_time / 1e6 AS queue_s, CASE WHEN ${FAILED} THEN 1 ELSE 0 END AS aborted,
    left(query_text, 200) AS text
  FROM sys_query_history WHERE ${clusterWhere('start_time', range)} ORDER BY elapsed_time DESC, query_id LIMIT 20`;

// The query page's row: stl_query's columns, plus SYS's status, times and service class.
export const sysQueryRowSql = `SELECT query_id AS query, user_id AS userid, database_name AS database,
    trim(query_label) AS label, start_time AS starttime, end_time AS endtime, CASE WHEN ${FAILED} THEN 1 ELSE 0 END AS aborted,
    transaction_id AS xid, session_id AS pid, elapsed_time / 1e6 AS seconds, query_text AS querytxt, dt, status,
    queue_time / 1e6 AS queue_s, execution_time / 1e6 AS exec_s, service_class_id AS service_class,
    ${CLASS} AS class, trim(query_priority) AS priority, error_message
  FROM sys_query_history WHERE cluster = :cluster AND query_id = :query LIMIT 1`;

export const sysQueryTextSql = `SELECT text FROM fleet_query_text
  WHERE cluster = :cluster AND family = 'sys' AND query_id = :query LIMIT 1`;

// The query's one WLM "attempt": SYS keeps a query's queue and execution times, not attempts.
export const sysAttempts = (q) => [{ service_class: q.service_class, class: q.class, slot_count: null, queue_s: q.queue_s,
  exec_s: q.exec_s, final_state: q.status, est_peak_mem: null, priority: q.priority }];

export const sysQueryAlertsSql = (near) => `SELECT trim(alert) AS event, NULL AS solution, count(*) AS events, min(start_time) AS at
  FROM sys_query_detail WHERE ${near} AND trim(alert) <> '' GROUP BY 1, 2 ORDER BY events DESC`;

export const sysPlanSql = (near) => `SELECT plan_node_id AS nodeid, plan_parent_id AS parentid, trim(plan_node) AS plannode,
    trim(node_info) AS info FROM sys_query_explain WHERE ${near} ORDER BY child_query_sequence, plan_node_id`;

export const sysQueryScansSql = (near) => `SELECT coalesce(nullif(trim(table_name), ''), 'table ' || table_id) AS tbl,
    step_name AS kind, count(*) AS slices, sum(input_rows) AS rows, sum(input_bytes) AS bytes,
    epoch(max(end_time)) - epoch(min(start_time)) AS seconds
  FROM sys_query_detail WHERE ${near} AND step_name IN ('scan', 's3scan') GROUP BY ALL ORDER BY bytes DESC`;

// Every finished query of both families as (cluster, family, query, starttime, seconds,
// aborted, txt, dt), over the tables the lake has: the same statement shape across a mixed fleet.
export function fleetRunsSql(tables) {
  const parts = [];
  if (tables.has('stl_query')) {
    parts.push(`SELECT cluster, 'stl' AS family, CAST(query AS BIGINT) AS query, starttime, epoch(endtime) - epoch(starttime) AS seconds,
        aborted, querytxt AS txt, dt FROM stl_query`);
  }
  if (tables.has('sys_query_history')) {
    parts.push(`SELECT cluster, 'sys' AS family, query_id AS query, start_time AS starttime, elapsed_time / 1e6 AS seconds,
        CASE WHEN ${FAILED} THEN 1 ELSE 0 END AS aborted, query_text AS txt, dt FROM sys_query_history`);
  }
  return parts.join(' UNION ALL ');
}
