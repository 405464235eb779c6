// The cluster page: workload over time by WLM service class, a queue-wait heatmap, run-time
// percentiles, aborted and disk-spilling queries, anomalies, alert events with Redshift's
// solutions, the tables most scanned, recent DDL and utility statements, export runs over time
// and the slowest queries (each opens the query page).
import { api, queryObjects } from './api.js';
import { bucketFor } from './state.js';
import { metricsSql, clusterWhere, bothFamilies } from './panels.js';
import { fmtSeconds, fmtCount, fmtTime, fmtBytes, el, toDate, unescapeText } from './format.js';
import { timeChart, fillBuckets, heatmap, color } from './charts.js';
import { panel, fill, dataTable } from './ui.js';
import { clusterAnomalyRows, anomalyMarkers, markAnomalies } from './alerts.js';
import { familyOf, sysWorkloadSql, sysAlertEventsSql, sysTopTablesSql, sysStatementsSql, sysSlowestSql } from './sys_panels.js';

const MAX_CLASSES = 8;

export async function renderCluster(ctx) {
  const { state: s, range, tables, alive, main, hrefOf, zoomTo } = ctx;
  const cluster = s.cluster;
  const params = { cluster };
  const bucketS = bucketFor(range, 120);
  const fleet = await api('GET', '/v1/fleet');
  if (!alive()) return;
  const info = fleet.clusters.find((c) => c.name === cluster);
  if (!info) {
    main.replaceChildren(el('p', { class: 'error', id: 'not-found' }, `no cluster "${cluster}" in this fleet`));
    return;
  }
  // Buckets after what has been exported are not drawn (they are not gaps, just not there yet).
  const exported = info.tables.reduce((m, t) => (t.cursor && toDate(t.cursor) > m ? toDate(t.cursor) : m), new Date(0));
  const until = exported.getTime() > 0 ? exported : range.to;
  const has = (...names) => names.every((n) => tables.has(n));
  // A Serverless workgroup (SYS views only) fills the same panels from its SYS views.
  const sys = familyOf(info) === 'sys';
  const T = sys ? { wlm: 'sys_query_history', query: 'sys_query_history', alerts: 'sys_query_detail', scans: 'sys_query_detail', ddl: 'sys_query_history' }
    : { wlm: 'stl_wlm_query', query: 'stl_query', alerts: 'stl_alert_event_log', scans: 'stl_scan', ddl: 'stl_ddltext' };
  const P = {
    workload: panel('workload', 'Queries per hour by service class', {
      note: sys ? 'sys_query_history, by the end of each query' : 'stl_wlm_query, by the end of each query\'s time in its class' }),
    heat: panel('queue-heatmap', 'Queue wait by service class (p95)'),
    runtime: panel('runtime', 'Run time percentiles and queue wait (s)'),
    failures: panel('aborted-disk', 'Aborted and disk-spilling queries per hour'),
    anomalies: panel('anomalies', 'Anomalies', { wide: true }),
    alerts: panel('alert-events', sys ? 'Alerts of query steps (sys_query_detail)' : 'Alert events and Redshift\'s solutions', { wide: true }),
    scans: panel('top-tables', 'Tables most scanned'),
    ddl: panel('ddl', 'Recent DDL and utility statements'),
    exports: panel('export-runs', 'Export runs', { wide: true }),
    slowest: panel('slowest', 'Slowest queries', { wide: true, note: 'Click a query to open it.' }),
  };
  const head = el('div', { class: 'cluster-head wide' }, el('h2', {}, cluster), el('span', { class: 'muted' }, info.kind),
                  (info.tags || []).map((t) => el('span', { class: 'tag' }, t)),
                  el('span', { class: 'muted' }, info.max_lag_s === null ? ' never exported' : ` export lag ${fmtSeconds(info.max_lag_s)}`),
                  info.errors ? el('span', { class: 'bad-text' }, ` · ${info.errors} failing table(s)`) : null);
  main.replaceChildren(head, ...Object.values(P));
  const canvas = (p, id) => { const c = el('canvas', { id }); p.$body.replaceChildren(el('div', { class: 'chart' }, c)); return c; };
  const series = (rows, key, valueOf) => {
    const m = new Map();
    for (const r of rows) if (r[key] !== undefined) m.set(Number(r.t) * 1000, valueOf(r));
    return m;
  };
  const need = (p, names) => { if (!has(...names)) { p.dataset.state = 'empty'; p.querySelector('.panel-message').textContent = `no ${names.join(', ')} in the lake`; return false; } return true; };

  const work = [];
  // Anomalous buckets, marked on the charts of the metrics that drove them (alerts.js).
  const anomalyRows = clusterAnomalyRows(cluster, range, tables);
  const anomalies = anomalyRows.then(anomalyMarkers).catch(() => []);
  if (need(P.workload, [T.wlm]) && need(P.heat, [T.wlm])) {
    const wlm = sys ? queryObjects(sysWorkloadSql(bucketS, range), params) : queryObjects(`SELECT coalesce(nullif(trim(service_class_name), ''), 'class ' || service_class) AS class,
        epoch(time_bucket(INTERVAL '${bucketS} seconds', service_class_end_time, TIMESTAMP '1970-01-01'))::BIGINT AS t,
        count(*) AS n, quantile_cont(total_queue_time / 1e6, 0.95) AS p95_queue
      FROM stl_wlm_query WHERE ${clusterWhere('service_class_end_time', range)} GROUP BY ALL ORDER BY t`, params);
    work.push(fill(P.workload, alive, async () => {
      const rows = await wlm;
      const totals = new Map();
      for (const r of rows) totals.set(r.class, (totals.get(r.class) || 0) + Number(r.n));
      const classes = [...totals].sort((a, b) => b[1] - a[1]).slice(0, MAX_CLASSES).map(([c]) => c).sort();
      const workload = timeChart('workload', canvas(P.workload, 'chart-workload'), {
        range, bucketS, stacked: true, onZoom: zoomTo, yTitle: 'queries / hour',
        datasets: classes.map((c) => ({ label: c, fill: true,
          data: fillBuckets(series(rows.filter((r) => r.class === c), 'n', (r) => (Number(r.n) * 3600) / bucketS), range.from, range.to, bucketS, until) })),
      });
      markAnomalies(workload, 'workload', await anomalies);
      return rows.length;
    }));
    // The heatmap's cells are hours (ranges over a week: wider; a few hours: the chart's buckets).
    const heatS = range.to - range.from <= 6 * 3600e3 ? bucketS : Math.max(3600, bucketFor(range, 170));
    const heat = heatS === bucketS ? wlm : sys ? queryObjects(sysWorkloadSql(heatS, range), params) : queryObjects(`SELECT coalesce(nullif(trim(service_class_name), ''), 'class ' || service_class) AS class,
        epoch(time_bucket(INTERVAL '${heatS} seconds', service_class_end_time, TIMESTAMP '1970-01-01'))::BIGINT AS t,
        quantile_cont(total_queue_time / 1e6, 0.95) AS p95_queue
      FROM stl_wlm_query WHERE ${clusterWhere('service_class_end_time', range)} GROUP BY ALL ORDER BY t`, params);
    work.push(fill(P.heat, alive, async (body) => {
      const rows = await heat;
      const classes = [...new Set(rows.map((r) => r.class))].sort();
      const cols = [...new Set(rows.map((r) => Number(r.t) * 1000))].sort((a, b) => a - b);
      const cell = new Map(rows.map((r) => [r.class + '|' + Number(r.t) * 1000, r.p95_queue === null ? null : Number(r.p95_queue)]));
      heatmap(body, { rows: classes, columns: cols, bucketMs: heatS * 1000, value: (r, c) => cell.get(r + '|' + c) ?? null, range,
                      formatValue: fmtSeconds });
      return rows.length;
    }));
  }
  if (need(P.runtime, [T.query])) {
    const metrics = queryObjects(metricsSql({ range, bucketS: Math.max(bucketS, range.to - range.from > 2 * 86400e3 ? 3600 : 0), tables, raw: s.src === 'raw', cluster, bothClusters: bothFamilies(fleet) }));
    work.push(fill(P.runtime, alive, async () => {
      const rows = await metrics;
      const b = Math.max(bucketS, range.to - range.from > 2 * 86400e3 ? 3600 : 0);
      const line = (label, key) => ({ label, data: fillBuckets(series(rows, key, (r) => (r[key] === null ? null : Number(r[key]))), range.from, range.to, b, until) });
      const runtime = timeChart('runtime', canvas(P.runtime, 'chart-runtime'), {
        range, bucketS: b, onZoom: zoomTo, yTitle: 'seconds',
        datasets: [line('p50 run', 'p50_run'), line('p95 run', 'p95_run'), line('p95 queue', 'p95_queue')],
      });
      markAnomalies(runtime, 'runtime', await anomalies);
      return rows.length;
    }));
    work.push(fill(P.failures, alive, async () => {
      const rows = await metrics;
      const b = Math.max(bucketS, range.to - range.from > 2 * 86400e3 ? 3600 : 0);
      const bar = (label, key, i) => ({ label, backgroundColor: color(i),
        data: fillBuckets(series(rows, key, (r) => (Number(r[key]) * 3600) / b), range.from, range.to, b, until) });
      const failures = timeChart('failures', canvas(P.failures, 'chart-failures'), {
        range, bucketS: b, type: 'bar', onZoom: zoomTo, yTitle: 'queries / hour',
        datasets: [bar('aborted', 'aborted', 4), bar('disk-based', 'disk', 6)],
      });
      markAnomalies(failures, 'failures', await anomalies);
      return rows.length;
    }));
  }
  if (need(P.anomalies, ['anomalies'])) {
    work.push(fill(P.anomalies, alive, async (body) => {
      const rows = await anomalyRows;
      const c = el('canvas', { id: 'chart-anomalies' });
      const worst = rows.filter((r) => Number(r.grade) > 0).sort((a, b) => Number(b.grade) - Number(a.grade)).slice(0, 15);
      body.replaceChildren(el('div', { class: 'chart short' }, c),
        worst.length ? dataTable([
          { key: 't', label: 'bucket', render: (r) => fmtTime(Number(r.t) * 1000) },
          { key: 'grade', label: 'grade', num: true, render: (r) => Number(r.grade).toFixed(2) },
          { key: 'score', label: 'score', num: true, render: (r) => Number(r.score).toFixed(2) },
          { key: 'attribution', label: 'what stands out' },
        ], worst) : el('p', { class: 'muted' }, 'no bucket graded anomalous in this range'));
      const byT = (key) => new Map(rows.map((r) => [Number(r.t) * 1000, Number(r[key])]));
      const ab = rows.length > 1 ? Number(rows[1].t) - Number(rows[0].t) : 300;
      const chart = timeChart('anomalies', c, { range, bucketS: ab, onZoom: zoomTo, datasets: [
        { label: 'grade', data: fillBuckets(byT('grade'), range.from, range.to, ab, until) },
      ] });
      markAnomalies(chart, 'anomalies', await anomalies);
      return rows.length;
    }));
  }
  if (need(P.alerts, [T.alerts])) {
    work.push(fill(P.alerts, alive, async (body) => {
      // Events by kind (the text before the first colon; the rest holds the query's numbers).
      const rows = sys ? await queryObjects(sysAlertEventsSql(range), params) : await queryObjects(`SELECT split_part(trim(event), ':', 1) AS event, any_value(trim(event)) AS sample,
          trim(solution) AS solution, count(*) AS events, count(DISTINCT query) AS queries, max(event_time) AS last_seen,
          arg_max(query, event_time) AS example
        FROM stl_alert_event_log WHERE ${clusterWhere('event_time', range)} GROUP BY 1, 3 ORDER BY events DESC LIMIT 20`, params);
      body.replaceChildren(dataTable([
        { key: 'event', label: 'event', render: (r) => el('span', { title: r.sample }, r.event) },
        { key: 'solution', label: 'solution', cls: 'solution' },
        { key: 'events', label: 'events', num: true }, { key: 'queries', label: 'queries', num: true },
        { key: 'last_seen', label: 'last seen', render: (r) => fmtTime(r.last_seen) },
        { key: 'example', label: 'example', render: (r) => el('a', { href: hrefOf({ p: 'query', cluster, query: String(r.example) }) }, String(r.example)) },
      ], rows));
      return rows.length;
    }));
  }
  if (need(P.scans, [T.scans])) {
    work.push(fill(P.scans, alive, async (body) => {
      const rows = sys ? await queryObjects(sysTopTablesSql(range), params) : await queryObjects(`SELECT trim(perm_table_name) AS tbl, count(DISTINCT query) AS queries, sum(rows) AS rows,
          sum(bytes) AS bytes FROM stl_scan WHERE ${clusterWhere('endtime', range)} AND type = 2
        GROUP BY 1 ORDER BY queries DESC, bytes DESC LIMIT 15`, params);
      body.replaceChildren(dataTable([
        { key: 'tbl', label: 'table' }, { key: 'queries', label: 'queries', num: true, render: (r) => fmtCount(r.queries) },
        { key: 'rows', label: 'rows', num: true, render: (r) => fmtCount(r.rows) }, { key: 'bytes', label: 'bytes', num: true, render: (r) => fmtBytes(r.bytes) },
      ], rows));
      return rows.length;
    }));
  }
  if (need(P.ddl, [T.ddl])) {
    // The newest 25 statements: their keys first, then only their pieces joined (an ordered
    // string_agg over every statement of 30 days cost twice the whole read).
    const util = tables.has('stl_utilitytext')
      ? `UNION ALL SELECT 'utility', xid, pid, starttime, sequence, text FROM stl_utilitytext WHERE ${clusterWhere('endtime', range)}` : '';
    work.push(fill(P.ddl, alive, async (body) => {
      const rows = sys ? await queryObjects(sysStatementsSql(range), params) : await queryObjects(`WITH pieces AS MATERIALIZED (
          SELECT 'DDL' AS kind, xid, pid, starttime, sequence, text FROM stl_ddltext WHERE ${clusterWhere('endtime', range)} ${util}),
        newest AS (SELECT kind, xid, pid, starttime FROM pieces GROUP BY ALL ORDER BY starttime DESC, kind, xid, pid LIMIT 25)
        SELECT kind, starttime, xid, string_agg(text, '' ORDER BY sequence) AS text
        FROM pieces p SEMI JOIN newest n ON p.kind = n.kind AND p.xid IS NOT DISTINCT FROM n.xid
          AND p.pid IS NOT DISTINCT FROM n.pid AND p.starttime IS NOT DISTINCT FROM n.starttime
        GROUP BY kind, xid, pid, starttime ORDER BY starttime DESC, kind, xid, pid`, params);
      body.replaceChildren(el('div', { class: 'scroll' }, dataTable([
        { key: 'starttime', label: 'start', render: (r) => fmtTime(r.starttime, true) }, { key: 'kind', label: 'kind' },
        { key: 'text', label: 'statement', render: (r) => el('code', {}, unescapeText(r.text).trim().slice(0, 300)) },
      ], rows)));
      return rows.length;
    }));
  }
  work.push(fill(P.exports, alive, async (body) => {
    const LIMIT = 5000;
    const all = (await api('GET', `/v1/runs?cluster=${encodeURIComponent(cluster)}&limit=${LIMIT}`)).runs;
    const runs = all.filter((r) => r.kind === 'export' && toDate(r.finished_at) >= range.from && toDate(r.finished_at) < range.to);
    const truncated = all.length === LIMIT && toDate(all[all.length - 1].finished_at) > range.from;
    const c = el('canvas', { id: 'chart-exports' });
    const failed = runs.filter((r) => r.status === 'failed');
    body.replaceChildren(el('div', { class: 'chart short' }, c), el('p', { class: 'muted', id: 'export-summary' },
      `${runs.length} runs in the range${truncated ? ` (the newest ${LIMIT} runs only: older ones are not shown)` : ''}, ` +
      `${failed.length} failed; ${fmtCount(runs.reduce((x, r) => x + r.rows_written, 0))} rows written`),
      failed.length ? dataTable([
        { key: 'finished_at', label: 'failed at', render: (r) => fmtTime(r.finished_at, true) }, { key: 'table', label: 'table' },
        { key: 'error', label: 'error', cls: 'error-text' }], failed.slice(0, 10)) : '');
    const perTable = new Map();
    for (const r of runs) {
      if (!perTable.has(r.table)) perTable.set(r.table, []);
      perTable.get(r.table).push({ x: toDate(r.finished_at).getTime(), y: r.rows_written });
    }
    const datasets = [...perTable].sort().map(([t, data]) => ({ label: t, type: 'line', showLine: false, data: data.sort((a, b) => a.x - b.x), pointRadius: 2 }));
    datasets.push({ label: 'failed', type: 'line', showLine: false, borderColor: '#c92a2a', backgroundColor: '#c92a2a',
                    data: failed.map((r) => ({ x: toDate(r.finished_at).getTime(), y: 0 })) });
    const chart = timeChart('exports', c, { range, bucketS, onZoom: zoomTo, yTitle: 'rows per run', datasets });
    chart.data.datasets.forEach((d) => { d.pointRadius = d.label === 'failed' ? 5 : 2; });
    chart.update();
    return runs.length;
  }));
  if (need(P.slowest, [T.query])) {
    work.push(fill(P.slowest, alive, async (body) => {
      const wlm = tables.has('stl_wlm_query')
        ? `(SELECT sum(total_queue_time) / 1e6 FROM stl_wlm_query w WHERE w.cluster = q.cluster AND w.query = q.query
             AND w.dt BETWEEN q.dt - 1 AND q.dt + 1)` : 'NULL';
      const rows = sys ? await queryObjects(sysSlowestSql(range), params) : await queryObjects(`SELECT q.query, q.userid, q.starttime, epoch(q.endtime) - epoch(q.starttime) AS seconds,
          ${wlm} AS queue_s, q.aborted, left(q.querytxt, 200) AS text
        FROM (SELECT * FROM stl_query WHERE ${clusterWhere('starttime', range)} ORDER BY endtime - starttime DESC LIMIT 20) q
        ORDER BY seconds DESC, q.query`, params);
      body.replaceChildren(dataTable([
        { key: 'query', label: 'query', render: (r) => el('a', { href: hrefOf({ p: 'query', cluster, query: String(r.query) }), class: 'query-link' }, String(r.query)) },
        { key: 'userid', label: 'user' }, { key: 'starttime', label: 'start', render: (r) => fmtTime(r.starttime, true) },
        { key: 'seconds', label: 'run', num: true, render: (r) => fmtSeconds(r.seconds) },
        { key: 'queue_s', label: 'queue', num: true, render: (r) => fmtSeconds(r.queue_s) },
        { key: 'aborted', label: 'aborted', render: (r) => (Number(r.aborted) ? 'yes' : '') },
        { key: 'text', label: 'text', render: (r) => el('code', {}, unescapeText(r.text).replace(/\s+/g, ' ')) },
      ], rows, { rowAttrs: () => ({ 'data-nav-row': true }) }));
      return rows.length;
    }));
  }
  await Promise.all(work);
}
