// The fleet page: one row per cluster with its health and workload over the range, sortable,
// filterable by name, tag and kind, paged for fleets of a thousand clusters; a row opens its
// per-table export detail. Firing alerts come from GET /v1/alerts when the server has it.
import { api, query, queryObjects } from './api.js';
import { bucketFor } from './state.js';
import { packedMetricsSql, unpackMetrics, anomalySummarySql, bothFamilies, fromWorkloadView } from './panels.js';
import { fmtSeconds, fmtCount, fmtShare, fmtTime, fmtBytes, el } from './format.js';
import { sparkline } from './charts.js';
import { panel, setPanelState, dataTable, sortRows } from './ui.js';
import { firingPanel } from './alerts.js';

const PAGE_ROWS = 50;
const LAG_WARN_S = 3600, LAG_BAD_S = 6 * 3600;  // export lag thresholds
const GRADE_WARN = 0.5;                         // anomaly grade that marks a cluster

// Health: 0 ok, 1 warning, 2 bad, with the reasons.
export function healthOf(c) {
  const reasons = [];
  let level = 0;
  const raise = (l, why) => { level = Math.max(level, l); reasons.push(why); };
  if (!c.tables.length) raise(1, 'never exported');
  if (c.errors > 0) raise(2, `${c.errors} table(s) failing to export`);
  if (c.max_lag_s !== null && c.max_lag_s > LAG_BAD_S) raise(2, `export lag ${fmtSeconds(c.max_lag_s)}`);
  else if (c.max_lag_s !== null && c.max_lag_s > LAG_WARN_S) raise(1, `export lag ${fmtSeconds(c.max_lag_s)}`);
  if (c.firing > 0) raise(2, `${c.firing} alert(s) firing`);
  if (c.recent_grade >= GRADE_WARN) raise(1, `anomalous in the last hour (grade ${c.recent_grade.toFixed(2)}): ${c.recent_attribution || ''}`);
  return { level, reasons };
}

const HEALTH_TEXT = ['ok', 'warning', 'bad'];

async function firingAlerts() {
  try {
    const a = await api('GET', '/v1/alerts?history=0');  // states only: no events or anomalies from the lake
    const byCluster = new Map();
    for (const x of a.alerts || []) {
      if (x.state && x.state !== 'firing') continue;
      const c = x.cluster || x.labels?.cluster;
      if (c) byCluster.set(c, (byCluster.get(c) || 0) + 1);
    }
    return { available: true, byCluster, doc: a };
  } catch {
    return { available: false, byCluster: new Map(), doc: null };  // a server without alerts
  }
}

// Loads everything the fleet table shows: one object per cluster.
export async function loadFleetRows({ range, tables, raw: rawOnly = false }) {
  // Over a day or more, hourly at least: the hourly roll-ups answer those buckets, raw rows
  // only the hours not rolled up yet (30-minute buckets would read a whole day raw).
  const bucketS = Math.max(bucketFor(range, 48), range.to - range.from >= 86400e3 ? 3600 : 0);
  // The firing alerts are read beside the statements, not before them.
  const alertsRead = firingAlerts();
  const fleetRead = api('GET', '/v1/fleet');
  // Only the raw tables' SQL needs the fleet first (which clusters export both families, so
  // none counts twice); hourly buckets from workload_hourly start beside it.
  const metricsRead = async () => {
    if (!tables.has('stl_query') && !tables.has('sys_query_history')) return { rows: [] };
    const bothClusters = fromWorkloadView({ bucketS, raw: rawOnly }) ? [] : bothFamilies(await fleetRead);
    return query(packedMetricsSql({ range, bucketS, tables, raw: rawOnly, bothClusters }));
  };
  const [metrics, anomalies, alerts, fleet] = await Promise.all([
    metricsRead(),
    tables.has('anomalies') ? queryObjects(anomalySummarySql(range, new Date(range.to.getTime() - 3600e3))) : [],
    alertsRead,
    fleetRead,
  ]);
  const step = bucketS * 1000;
  const start = Math.floor(range.from.getTime() / step) * step;
  const n = Math.max(1, Math.ceil((range.to.getTime() - start) / step));
  const series = new Map();
  for (const [cluster, packed] of metrics.rows) {
    series.set(cluster, { buckets: unpackMetrics(packed).map((b) => ({ ...b, i: Math.floor((b.t * 1000 - start) / step) })) });
  }
  const grades = new Map(anomalies.map((a) => [a.cluster, a]));
  return {
    alertsAvailable: alerts.available,
    alertsDoc: alerts.doc,
    bucketS,
    rows: fleet.clusters.map((c) => {
      const s = series.get(c.name)?.buckets || [];
      const arr = (f) => { const a = new Array(n).fill(null); for (const b of s) if (b.i >= 0 && b.i < n) a[b.i] = f(b); return a; };
      const total = s.reduce((x, b) => x + b.q, 0);
      const weighted = (k) => {
        const w = s.filter((b) => b[k] !== null && b[k] !== undefined);
        const qs = w.reduce((x, b) => x + b.q, 0);
        return qs > 0 ? w.reduce((x, b) => x + Number(b[k]) * b.q, 0) / qs : null;
      };
      const an = grades.get(c.name);
      const row = {
        name: c.name, kind: c.kind || '', tags: c.tags || [], tables: c.tables, errors: c.errors,
        max_lag_s: c.max_lag_s, last_run_at: c.last_run_at, rolled_up_to: c.rolled_up_to,
        grade: an ? Number(an.grade) : null, attribution: an?.attribution || '', anomalous_buckets: an ? Number(an.buckets) : 0,
        recent_grade: an && an.recent_grade !== null ? Number(an.recent_grade) : null, recent_attribution: an?.recent_attribution || '',
        firing: alerts.available ? alerts.byCluster.get(c.name) || 0 : null,
        qph: total / ((range.to - range.from) / 3600e3),
        p95_run: weighted('run'), p95_queue: weighted('queue'),
        aborted_share: total ? s.reduce((x, b) => x + b.aborted, 0) / total : null,
        disk_share: total ? s.reduce((x, b) => x + b.disk, 0) / total : null,
        spark: {
          qph: arr((b) => (b.q * 3600) / bucketS), run: arr((b) => (b.run === null ? null : Number(b.run))),
          queue: arr((b) => (b.queue === null ? null : Number(b.queue))),
          aborted: arr((b) => (b.q ? b.aborted / b.q : null)), disk: arr((b) => (b.q ? b.disk / b.q : null)),
        },
      };
      const h = healthOf(row);
      row.health = h.level;
      row.health_reasons = h.reasons;
      return row;
    }),
  };
}

function matches(row, s) {
  const q = s.q.trim().toLowerCase();
  if (q && !q.split(/\s+/).every((w) => row.name.includes(w) || row.tags.some((t) => t.toLowerCase().includes(w)))) return false;
  if (s.kind && row.kind !== s.kind) return false;
  if (s.tag && !row.tags.includes(s.tag)) return false;
  return true;
}

export async function renderFleet(ctx) {
  const { state: s, range, tables, alive, main, navigate, hrefOf } = ctx;
  const section = panel('fleet', 'Fleet health', {
    wide: true,
    note: 'One row per cluster over the range. Health: export failures and lag, anomaly grade, firing alerts. ' +
          'Sparklines share the range; gaps are buckets without queries.',
  });
  // Sorting, filtering and paging redraw the loaded rows; a new range, source or refresh loads.
  const key = [s.range, s.from, s.to, s.src].join('|');
  const cache = ctx.app.fleetCache;
  const reuse = !ctx.auto && cache && cache.key === key && Date.now() - cache.at < 60000;
  const refocus = document.activeElement?.id === 'fleet-filter';
  if (!document.getElementById('fleet')) main.replaceChildren(section);
  const target = document.getElementById('fleet');
  if (!reuse && !ctx.auto) target.dataset.state = 'loading';
  let data;
  try {
    data = reuse ? cache.data : await loadFleetRows({ range, tables, raw: s.src === 'raw' });
  } catch (e) {
    if (alive()) setPanelState(target, 'error', 0, e.message);
    return;
  }
  if (!alive()) return;
  if (!reuse) ctx.app.fleetCache = { key, data, at: Date.now() };
  ctx.app.fleetRows = data.rows;
  document.getElementById('firing-alerts')?.remove();
  const firing = firingPanel(data.alertsDoc, hrefOf);
  if (firing) target.before(firing);
  const kinds = [...new Set(data.rows.map((r) => r.kind).filter(Boolean))].sort();
  const tags = [...new Set(data.rows.flatMap((r) => r.tags))].sort();
  const [sortKey, sortDir] = s.sort.split(':');
  const filtered = sortRows(data.rows.filter((r) => matches(r, s)), sortKey || 'health', sortDir || 'desc');
  const pages = Math.max(1, Math.ceil(filtered.length / PAGE_ROWS));
  const pg = Math.min(Number(s.pg) || 0, pages - 1);
  const visible = filtered.slice(pg * PAGE_ROWS, (pg + 1) * PAGE_ROWS);

  const filter = el('input', { type: 'search', id: 'fleet-filter', placeholder: 'filter by name or tag  ( / )', value: s.q,
                               'data-filter': true, 'aria-label': 'filter clusters by name or tag' });
  let typing;
  filter.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => navigate({ q: filter.value, pg: '0' }), 250);
  });
  const kindSelect = el('select', { id: 'fleet-kind', 'aria-label': 'kind' }, el('option', { value: '' }, 'every kind'),
                        kinds.map((k) => el('option', { value: k }, k)));
  kindSelect.value = s.kind;
  kindSelect.addEventListener('change', () => navigate({ kind: kindSelect.value, pg: '0' }));
  const tagSelect = el('select', { id: 'fleet-tag', 'aria-label': 'tag' }, el('option', { value: '' }, 'every tag'),
                       tags.map((t) => el('option', { value: t }, t)));
  tagSelect.value = s.tag;
  tagSelect.addEventListener('change', () => navigate({ tag: tagSelect.value, pg: '0' }));
  const counts = [0, 0, 0];
  for (const r of filtered) counts[r.health]++;
  const summary = el('span', { class: 'muted', id: 'fleet-summary' },
                     `${filtered.length} of ${data.rows.length} clusters · `,
                     el('span', { class: 'h2' }, `${counts[2]} bad`), ' · ', el('span', { class: 'h1' }, `${counts[1]} warning`),
                     ' · ', el('span', { class: 'h0' }, `${counts[0]} ok`));
  const pager = el('span', { class: 'pager' },
                   el('button', { type: 'button', id: 'fleet-prev', disabled: pg === 0, onclick: () => navigate({ pg: String(pg - 1) }) }, '◀'),
                   ` ${filtered.length ? pg * PAGE_ROWS + 1 : 0}–${pg * PAGE_ROWS + visible.length} of ${filtered.length} `,
                   el('button', { type: 'button', id: 'fleet-next', disabled: pg >= pages - 1, onclick: () => navigate({ pg: String(pg + 1) }) }, '▶'));

  const spark = (key, fmt, v) => (r) => el('span', { class: 'metric' }, sparkline(r.spark[key], { cls: key, width: 80 }), el('span', { class: 'value' }, fmt(r[v])));
  const columns = [
    { key: 'health', label: 'health', num: true, render: (r) => el('span', { class: 'health h' + r.health, title: r.health_reasons.join('\n') || 'ok' }, HEALTH_TEXT[r.health]) },
    { key: 'name', label: 'cluster', render: (r) => el('a', { href: hrefOf({ p: 'cluster', cluster: r.name }) }, r.name) },
    { key: 'kind', label: 'kind' },
    { key: 'tags', label: 'tags', render: (r) => r.tags.map((t) => el('span', { class: 'tag' }, t)) },
    { key: 'max_lag_s', label: 'export lag', num: true, render: (r) => el('span', {}, fmtSeconds(r.max_lag_s), ' ',
      el('button', { type: 'button', class: 'detail', title: 'per-table export detail (o)', 'aria-expanded': String(s.open === r.name),
                     onclick: () => navigate({ open: s.open === r.name ? '' : r.name }) }, s.open === r.name ? '▾' : '▸')) },
    { key: 'errors', label: 'failures', num: true, render: (r) => (r.errors ? el('span', { class: 'bad-text' }, String(r.errors)) : '0') },
    { key: 'grade', label: 'anomaly', num: true, title: 'the worst anomaly grade in the range (0-1); health counts the last hour',
      render: (r) => (r.grade === null ? '—' : el('span', {
        title: `worst in the range: ${r.attribution || 'nothing stands out'} (${r.anomalous_buckets} anomalous buckets)` +
               (r.recent_grade === null ? '' : `\nlast hour: ${r.recent_grade.toFixed(2)}`),
        class: r.recent_grade >= GRADE_WARN ? 'warn-text' : '' }, r.grade.toFixed(2))) },
    { key: 'firing', label: 'alerts', num: true, title: 'firing alerts (GET /v1/alerts)', render: (r) => (r.firing === null ? '—' : String(r.firing)) },
    { key: 'qph', label: 'queries/h', num: true, render: spark('qph', fmtCount, 'qph') },
    { key: 'p95_run', label: 'p95 run', num: true, render: spark('run', fmtSeconds, 'p95_run') },
    { key: 'p95_queue', label: 'p95 queue', num: true, render: spark('queue', fmtSeconds, 'p95_queue') },
    { key: 'aborted_share', label: 'aborted', num: true, render: spark('aborted', fmtShare, 'aborted_share') },
    { key: 'disk_share', label: 'disk-based', num: true, render: spark('disk', fmtShare, 'disk_share') },
  ];
  const table = dataTable(columns, visible, {
    sort: `${sortKey}:${sortDir}`,
    onSort: (key, dir) => navigate({ sort: `${key}:${dir}`, pg: '0' }),
    rowAttrs: (r) => ({ 'data-cluster': r.name, 'data-nav-row': true, class: 'health-row h' + r.health }),
    cls: 'grid fleet',
  });
  if (s.open) {
    const tr = table.querySelector(`tr[data-cluster="${CSS.escape(s.open)}"]`);
    const r = visible.find((x) => x.name === s.open);
    if (tr && r) tr.after(el('tr', { class: 'detail-row' }, el('td', { colspan: String(columns.length) }, exportDetail(r))));
  }
  target.$body.replaceChildren(el('div', { class: 'toolbar' }, filter, kindSelect, tagSelect, summary, pager),
                               el('div', { class: 'scroll-x' }, table));
  if (refocus) {
    filter.focus();
    filter.setSelectionRange(filter.value.length, filter.value.length);
  }
  setPanelState(target, filtered.length ? 'ready' : 'empty', visible.length, 'no cluster matches the filters');
  target.dataset.total = String(filtered.length);
}

function exportDetail(r) {
  const rows = r.tables.map((t) => ({ ...t, ...(t.last_run || {}), table: t.table }));
  return el('div', { class: 'export-detail', id: 'export-detail' },
    dataTable([
      { key: 'table', label: 'table' },
      { key: 'cursor', label: 'cursor', render: (t) => fmtTime(t.cursor, true) },
      { key: 'lag_s', label: 'lag', num: true, render: (t) => fmtSeconds(t.lag_s) },
      { key: 'status', label: 'last run', render: (t) => (t.status ? el('span', { class: t.status === 'failed' ? 'bad-text' : '' }, `${t.status} ${fmtTime(t.finished_at, true)}`) : '—') },
      { key: 'seconds', label: 'took', num: true, render: (t) => fmtSeconds(t.seconds) },
      { key: 'rows_written', label: 'rows', num: true, render: (t) => fmtCount(t.rows_written) },
      { key: 'bytes_written', label: 'bytes', num: true, render: (t) => fmtBytes(t.bytes_written) },
      { key: 'error', label: 'error', cls: 'error-text' },
    ], rows),
    el('p', { class: 'note' }, r.rolled_up_to ? `hourly roll-ups up to ${r.rolled_up_to}` : 'no hourly roll-ups yet'));
}
