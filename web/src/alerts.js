// Alerts on the dashboard: the alerts page (pending and firing alerts, alert history from the
// lake's alert_events, the anomalies the detector graded with the metrics that drove them,
// broken rules and silences), the firing-alerts panel of the fleet page, and the anomaly
// markers drawn on the cluster page's charts. Everything comes from GET /v1/alerts and the
// lake's `anomalies` table. Notifications link here: ?p=alerts&rule=R&cluster=C.
import { api, queryObjects } from './api.js';
import { fmtTime, el, toDate } from './format.js';
import { clusterWhere } from './panels.js';
import { panel, fill, dataTable, setPanelState } from './ui.js';
import { sqlTs, sqlDate } from './state.js';

// Which cluster-page chart shows each detector metric (detect/fleet_metrics.h). The anomaly
// chart (the grade) marks every anomalous bucket.
const CHART_OF_METRIC = {
  query_count: 'workload', p95_runtime_s: 'runtime', queue_wait_s: 'runtime',
  disk_based_queries: 'failures', aborted_queries: 'failures', alert_events: 'anomalies',
  nested_loop_queries: 'anomalies',
};
const MARKER_COLOR = '#c92a2a';

// "queue_wait_s high (83%), p95_runtime_s low (12%)" -> ['queue_wait_s', 'p95_runtime_s'].
export const metricsOf = (attribution) => String(attribution || '').split(',').map((p) => p.trim().split(' ')[0]).filter(Boolean);

// The alerts document, or null when the server has no alerts (an older server, or no token).
export async function loadAlerts(history = 100) {
  try {
    return await api('GET', `/v1/alerts?history=${history}`);
  } catch {
    return null;
  }
}

const clusterOf = (a) => a.cluster || a.labels?.cluster || '';
const labelsText = (labels) => Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join(' ');

function alertsTable(alerts, hrefOf) {
  return dataTable([
    { key: 'state', label: 'state', render: (a) => el('span', { class: a.state === 'firing' ? 'bad-text' : 'warn-text' }, a.state) },
    { key: 'rule', label: 'rule', render: (a) => el('a', { href: hrefOf({ p: 'alerts', rule: a.rule, cluster: '' }) }, a.rule) },
    { key: 'cluster', label: 'cluster', render: (a) => (clusterOf(a) ? el('a', { href: hrefOf({ p: 'cluster', cluster: clusterOf(a) }) }, clusterOf(a)) : '') },
    { key: 'labels', label: 'labels', render: (a) => labelsText(Object.fromEntries(Object.entries(a.labels || {}).filter(([k]) => k !== 'cluster'))) },
    { key: 'value', label: 'value', num: true, render: (a) => Number(a.value).toPrecision(4).replace(/\.?0+$/, '') },
    { key: 'active_since', label: 'since', render: (a) => fmtTime(a.active_since) },
    { key: 'attribution', label: 'what drove it', render: (a) => a.annotations?.attribution || a.annotations?.error || '' },
  ], alerts, { rowAttrs: (a) => ({ class: 'alert-row ' + a.state, 'data-rule': a.rule, 'data-cluster': clusterOf(a) }) });
}

// The fleet page's panel: alerts firing now, with a link to the alerts page. Null when the
// server has no alerts; the panel is empty (and says so) when nothing fires.
export function firingPanel(doc, hrefOf) {
  if (!doc) return null;
  const firing = (doc.alerts || []).filter((a) => a.state === 'firing');
  const p = panel('firing-alerts', 'Firing alerts', { wide: true, empty: 'no alert is firing' });
  const more = el('a', { href: hrefOf({ p: 'alerts' }), id: 'all-alerts' }, 'all alerts and their history →');
  p.$body.replaceChildren(firing.length ? alertsTable(firing, hrefOf) : '', el('p', { class: 'note' }, more));
  setPanelState(p, firing.length ? 'ready' : 'empty', firing.length, 'no alert is firing');
  return p;
}

// The alerts page.
export async function renderAlerts(ctx) {
  const { state: s, range, tables, alive, main, hrefOf } = ctx;
  const only = (a) => (!s.rule || a.rule === s.rule) && (!s.cluster || clusterOf(a) === s.cluster);
  const filterText = [s.rule && `rule ${s.rule}`, s.cluster && `cluster ${s.cluster}`].filter(Boolean).join(', ');
  const P = {
    alerts: panel('alerts', 'Pending and firing alerts', { wide: true, empty: 'no alert is pending or firing' }),
    history: panel('alert-history', 'Alert history', { wide: true, note: 'Every transition, newest first (the lake table alert_events).', empty: 'no alert transition yet' }),
    anomalies: panel('anomaly-list', 'Anomalies in the range', { wide: true, empty: 'no bucket graded anomalous in this range',
      note: 'Buckets the detector graded anomalous (grade > 0), with the metrics that drove the grade.' }),
    rules: panel('alert-rules', 'Broken rules and silences', { empty: 'no broken rule, no silence' }),
  };
  const head = el('div', { class: 'cluster-head wide' }, el('h2', {}, 'Alerts'),
                  filterText ? el('span', { class: 'muted' }, ` ${filterText} · `, el('a', { href: hrefOf({ p: 'alerts', rule: '', cluster: '' }) }, 'show all')) : null);
  main.replaceChildren(head, ...Object.values(P));
  const doc = loadAlerts(500);
  const work = [];
  work.push(fill(P.alerts, alive, async (body) => {
    const d = await doc;
    if (!d) throw new Error('this server does not serve /v1/alerts');
    const rows = (d.alerts || []).filter(only).sort((a, b) => (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1));
    body.replaceChildren(rows.length ? alertsTable(rows, hrefOf) : '');
    return rows.length;
  }));
  work.push(fill(P.history, alive, async (body) => {
    const d = await doc;
    if (!d) throw new Error('this server does not serve /v1/alerts');
    if (d.events_error) throw new Error(d.events_error);
    const rows = (d.events || []).filter(only).slice(0, 200);
    body.replaceChildren(el('div', { class: 'scroll' }, dataTable([
      { key: 'time', label: 'time', render: (e) => fmtTime(e.time, true) },
      { key: 'rule', label: 'rule' },
      { key: 'kind', label: 'transition', render: (e) => el('span', { class: e.kind === 'firing' ? 'bad-text' : '' }, e.kind) },
      { key: 'severity', label: 'severity' },
      { key: 'cluster', label: 'cluster' },
      { key: 'value', label: 'value', num: true, render: (e) => (e.value === null ? '' : Number(e.value).toPrecision(4).replace(/\.?0+$/, '')) },
      { key: 'summary', label: 'summary' },
    ], rows, { rowAttrs: (e) => ({ class: 'event-row', 'data-kind': e.kind }) })));
    return rows.length;
  }));
  work.push(fill(P.anomalies, alive, async (body) => {
    if (!tables.has('anomalies')) return 0;
    const where = s.cluster ? clusterWhere('bucket_start', range)
      : `bucket_start >= ${sqlTs(range.from)} AND bucket_start < ${sqlTs(range.to)} AND dt BETWEEN ${sqlDate(range.from)} AND ${sqlDate(range.to)}`;
    const rows = await queryObjects(`SELECT cluster, bucket_start, grade, score, attribution FROM anomalies
      WHERE ${where} AND grade > 0 ORDER BY bucket_start DESC, cluster LIMIT 200`, s.cluster ? { cluster: s.cluster } : {});
    body.replaceChildren(el('div', { class: 'scroll' }, dataTable([
      { key: 'bucket_start', label: 'bucket', render: (r) => fmtTime(r.bucket_start) },
      { key: 'cluster', label: 'cluster', render: (r) => el('a', { href: clusterAround(hrefOf, r.cluster, toDate(r.bucket_start)) }, r.cluster) },
      { key: 'grade', label: 'grade', num: true, render: (r) => Number(r.grade).toFixed(2) },
      { key: 'score', label: 'score', num: true, render: (r) => Number(r.score).toFixed(2) },
      { key: 'attribution', label: 'what stands out', cls: 'attribution' },
    ], rows, { rowAttrs: (r) => ({ class: 'anomaly-row', 'data-cluster': r.cluster }) })));
    return rows.length;
  }));
  work.push(fill(P.rules, alive, async (body) => {
    const d = await doc;
    if (!d) return 0;
    const broken = d.broken_rules || [], silences = d.silences || [];
    body.replaceChildren(
      broken.length ? dataTable([{ key: 'rule', label: 'broken rule' }, { key: 'error', label: 'error', cls: 'error-text' }], broken) : '',
      silences.length ? dataTable([
        { key: 'id', label: 'silence' }, { key: 'rule', label: 'rule', render: (x) => x.rule || 'every rule' },
        { key: 'matchers', label: 'matching', render: (x) => labelsText(x.matchers) },
        { key: 'expires_at', label: 'until', render: (x) => fmtTime(x.expires_at) }, { key: 'comment', label: 'comment' },
      ], silences) : '');
    return broken.length + silences.length;
  }));
  await Promise.all(work);
}

// The cluster page over the six hours around `t`.
function clusterAround(hrefOf, cluster, t) {
  const from = new Date(t.getTime() - 3 * 3600e3), to = new Date(t.getTime() + 3 * 3600e3);
  return hrefOf({ p: 'cluster', cluster, range: 'custom', from: from.toISOString(), to: to.toISOString() });
}

// One cluster's anomaly scores over the range, every bucket: the anomalies panel draws them,
// and anomalyMarkers() picks the anomalous ones for the other charts. One statement for both.
export async function clusterAnomalyRows(cluster, range, tables) {
  if (!tables.has('anomalies')) return [];
  return queryObjects(`SELECT epoch(bucket_start)::BIGINT AS t, grade, score, attribution FROM anomalies
    WHERE ${clusterWhere('bucket_start', range)} ORDER BY bucket_start`, { cluster });
}

// The anomalous buckets among clusterAnomalyRows()' rows, as markAnomalies() takes them:
// [{t: ms, grade, attribution, metrics}].
export const anomalyMarkers = (rows) => rows.filter((r) => Number(r.grade) > 0)
  .map((r) => ({ t: Number(r.t) * 1000, grade: Number(r.grade), attribution: r.attribution || '', metrics: metricsOf(r.attribution) }));

// Adds the anomalies that concern chart `name` (by the metrics that drove them) as markers: a
// dataset "anomaly" of red triangles on the chart's first line at each anomalous bucket.
export function markAnomalies(chart, name, anomalies) {
  if (!chart) return;
  const mine = anomalies.filter((a) => name === 'anomalies' || a.metrics.some((m) => CHART_OF_METRIC[m] === name));
  if (!mine.length) return;
  const base = chart.data.datasets[0]?.data || [];
  const yAt = (t) => {
    let best = null;
    for (const p of base) if (p.y !== null && (best === null || Math.abs(p.x - t) < Math.abs(best.x - t))) best = p;
    return best ? best.y : 0;
  };
  chart.data.datasets.push({
    label: 'anomaly', type: 'line', showLine: false, pointStyle: 'triangle', pointRadius: 7, pointHoverRadius: 9,
    borderColor: MARKER_COLOR, backgroundColor: MARKER_COLOR,
    data: mine.map((a) => ({ x: a.t, y: yAt(a.t), attribution: a.attribution, grade: a.grade })),
  });
  chart.options.plugins.tooltip.callbacks = {
    ...(chart.options.plugins.tooltip.callbacks || {}),
    afterLabel: (item) => (item.dataset.label === 'anomaly' ? `grade ${item.raw.grade.toFixed(2)}: ${item.raw.attribution}` : ''),
  };
  chart.update();
}
