// The SQL behind the panels. Workload metrics per (cluster, bucket) of an hour or more come
// from the engine's view workload_hourly, which answers each hour from the hourly roll-ups
// once upkeep has rolled it up (a closed hour) and from the raw rows otherwise, so a 30-day
// range reads small roll-up rows and only the last hours' queries. Buckets under an hour, and `raw`
// (the benchmark's baseline, ?src=raw), compute the same numbers from the raw tables here.
import { sqlTs, sqlDate, isoDay } from './state.js';

const quote = (s) => `'${String(s).replace(/'/g, "''")}'`;

// The clusters exporting both families (views = "both"): their queries are measured from STL
// alone, as the detector and the roll-ups measure them, so none counts twice.
export const bothFamilies = (fleet) => fleet.clusters
  .filter((c) => ['stl_query', 'sys_query_history'].every((t) => (c.tables || []).some((x) => x.table === t)))
  .map((c) => c.name);

// Per cluster and bucket: queries, aborted, disk-based queries, p50/p95 run time and p95 queue
// wait (seconds). Buckets without queries have no row (charts show them as gaps). Percentiles of a bucket wider than an hour are the query-weighted mean of
// the hourly percentiles. Columns: cluster, t (epoch seconds of the bucket start), queries,
// aborted, disk, p50_run, p95_run, p95_queue. The range is widened back to the start of its
// first hour (or smaller bucket), so that bucket holds all of its queries, from either source.
// Whether metricsSql answers from workload_hourly (buckets of an hour or more, not the raw
// baseline); otherwise its SQL reads the raw tables, and needs bothClusters.
export const fromWorkloadView = ({ bucketS, raw = false }) => bucketS >= 3600 && !raw;

export function metricsSql({ range, bucketS, tables, raw: rawOnly = false, cluster = null, bothClusters = [] }) {
  const unit = Math.min(bucketS, 3600);
  const from = new Date(Math.floor(range.from.getTime() / (unit * 1000)) * unit * 1000);
  const days = `dt BETWEEN ${sqlDate(from)} AND ${sqlDate(range.to)}${cluster ? ` AND cluster = ${quote(cluster)}` : ''}`;
  const within = (col) => `${col} >= ${sqlTs(from)} AND ${col} < ${sqlTs(range.to)} AND ${days}`;
  const hourly = fromWorkloadView({ bucketS, raw: rawOnly })
    ? `SELECT cluster, hour AS t, queries, aborted, disk_based_queries AS disk, p50_run_s AS p50_run, p95_run_s AS p95_run,
         wlm_queries AS wlm, p95_queue_s AS p95_queue
       FROM workload_hourly WHERE ${within('hour')}`
    : rawMetricsSql({ tables, unit, within, days, bothClusters });
  return `WITH h AS (${hourly})
    SELECT cluster, epoch(time_bucket(INTERVAL '${bucketS} seconds', t, ${sqlTs(new Date(0))}))::BIGINT AS t,
      sum(queries)::BIGINT AS queries, sum(aborted)::BIGINT AS aborted, sum(disk)::BIGINT AS disk,
      sum(p50_run * queries) / nullif(sum(queries) FILTER (WHERE p50_run IS NOT NULL), 0) AS p50_run,
      sum(p95_run * queries) / nullif(sum(queries) FILTER (WHERE p95_run IS NOT NULL), 0) AS p95_run,
      sum(p95_queue * wlm) / nullif(sum(wlm) FILTER (WHERE p95_queue IS NOT NULL), 0) AS p95_queue
    FROM h GROUP BY ALL HAVING sum(queries) > 0 ORDER BY cluster, t`;
}

// The workload per cluster and `unit`-second bucket from the raw tables, as workload_hourly
// defines it, with `within(col)` the range's filter on time column `col` and `days` its
// filter on the partitions.
function rawMetricsSql({ tables, unit, within, days, bothClusters }) {
  const b = (col) => `time_bucket(INTERVAL '${unit} seconds', ${col})`;
  const wlm = tables.has('stl_wlm_query')
    ? `SELECT cluster, ${b('service_class_end_time')} AS t, count(*) AS wlm, quantile_cont(total_queue_time / 1e6, 0.95) AS p95_queue
       FROM stl_wlm_query WHERE ${within('service_class_end_time')} GROUP BY ALL`
    : `SELECT NULL::VARCHAR AS cluster, NULL::TIMESTAMP AS t, 0 AS wlm, NULL::DOUBLE AS p95_queue WHERE false`;
  const scan = tables.has('stl_scan')
    ? `SELECT cluster, ${b('endtime')} AS t, count(DISTINCT query) AS disk
       FROM stl_scan WHERE type = 3 AND ${within('endtime')} GROUP BY ALL`
    : `SELECT NULL::VARCHAR AS cluster, NULL::TIMESTAMP AS t, 0 AS disk WHERE false`;
  const stlRaw = `SELECT q.cluster, q.t, q.queries, q.aborted, coalesce(s.disk, 0) AS disk, q.p50_run, q.p95_run,
      coalesce(w.wlm, 0) AS wlm, w.p95_queue
    FROM (SELECT cluster, ${b('endtime')} AS t, count(*) AS queries, count(*) FILTER (WHERE aborted = 1) AS aborted,
            quantile_cont(epoch(endtime) - epoch(starttime), 0.5) AS p50_run,
            quantile_cont(epoch(endtime) - epoch(starttime), 0.95) AS p95_run
          FROM stl_query WHERE ${within('endtime')} GROUP BY ALL) q
    LEFT JOIN (${wlm}) w ON w.cluster = q.cluster AND w.t = q.t
    LEFT JOIN (${scan}) s ON s.cluster = q.cluster AND s.t = q.t`;
  // Serverless workgroups (and provisioned clusters exported with views = "sys"): finished rows of
  // sys_query_history, times in µs; failed and canceled count as aborted; a query that spilled
  // blocks to disk in a sys_query_detail step is disk-based (in the hour of the query's end).
  const notBoth = bothClusters.length ? ` AND cluster NOT IN (${bothClusters.map(quote).join(', ')})` : '';
  const spilled = tables.has('sys_query_detail')
    ? `LEFT JOIN (SELECT DISTINCT cluster, query_id, true AS spilled FROM sys_query_detail
         WHERE (spilled_block_local_disk > 0 OR spilled_block_remote_disk > 0) AND ${days}) d USING (cluster, query_id)`
    : '';
  const sysRaw = `SELECT cluster, ${b('end_time')} AS t, count(*) AS queries,
      count(*) FILTER (WHERE status IN ('failed', 'canceled', 'cancelled')) AS aborted,
      ${spilled ? 'count(*) FILTER (WHERE d.spilled)' : '0'} AS disk,
      quantile_cont(elapsed_time / 1e6, 0.5) AS p50_run, quantile_cont(elapsed_time / 1e6, 0.95) AS p95_run,
      count(queue_time) AS wlm, quantile_cont(queue_time / 1e6, 0.95) AS p95_queue
    FROM (SELECT * FROM sys_query_history WHERE ${within('end_time')}${notBoth}) h ${spilled} GROUP BY ALL`;
  return [tables.has('stl_query') ? stlRaw : null, tables.has('sys_query_history') ? sysRaw : null]
    .filter(Boolean).join(' UNION ALL ');
}

// metricsSql with one row per cluster: its buckets packed as "t,queries,aborted,disk,p95_run,
// p95_queue" joined by ";" (empty for NULL), so a thousand clusters come in one result page
// instead of fifty. unpackMetrics() reads it back.
export const packedMetricsSql = (o) => `SELECT cluster, string_agg(concat_ws(',', t, queries, aborted, disk,
    coalesce(CAST(round(p95_run, 4) AS VARCHAR), ''), coalesce(CAST(round(p95_queue, 4) AS VARCHAR), '')), ';' ORDER BY t) AS packed
  FROM (${metricsSql(o)}) GROUP BY cluster ORDER BY cluster`;

export function unpackMetrics(packed) {
  return String(packed || '').split(';').filter(Boolean).map((b) => {
    const [t, q, aborted, disk, run, queue] = b.split(',');
    return { t: Number(t), q: Number(q), aborted: Number(aborted), disk: Number(disk),
             run: run === '' ? null : Number(run), queue: queue === '' ? null : Number(queue) };
  });
}

// The range's worst anomaly grade per cluster with its attribution, and the worst since `recent`.
export function anomalySummarySql(range, recent) {
  return `SELECT cluster, max(grade) AS grade, arg_max(attribution, grade) AS attribution,
      count(*) FILTER (WHERE grade > 0) AS buckets,
      max(grade) FILTER (WHERE bucket_start >= ${sqlTs(recent)}) AS recent_grade,
      arg_max(attribution, grade) FILTER (WHERE bucket_start >= ${sqlTs(recent)}) AS recent_attribution
    FROM anomalies WHERE bucket_start >= ${sqlTs(range.from)} AND bucket_start < ${sqlTs(range.to)}
      AND dt BETWEEN ${sqlDate(range.from)} AND ${sqlDate(range.to)}
    GROUP BY cluster`;
}

// The common WHERE for one cluster's raw rows over the range, on time column `col`.
export const clusterWhere = (col, range) =>
  `cluster = :cluster AND ${col} >= ${sqlTs(range.from)} AND ${col} < ${sqlTs(range.to)} AND dt BETWEEN ${sqlDate(range.from)} AND ${sqlDate(range.to)}`;

// The shape of a statement in SQL, as format.js shapeOf() computes it.
export const shapeSql = (col) =>
  `lower(trim(regexp_replace(regexp_replace(regexp_replace(${col}, '''(?:[^'']|'''')*''', '?', 'g'), '\\b\\d+(\\.\\d+)?\\b', '?', 'g'), '\\s+', ' ', 'g')))`;

export { quote, isoDay };
