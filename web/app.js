// The fleetlog dashboard: plain JavaScript over the HTTP API (DESIGN.md). Every number on the
// page comes from SQL run through POST /v1/statements, except the fleet table (/v1/fleet).
// Panels carry data-state (loading | ready | empty | error) and data-rows for tests.
// Dashboard queries run in the token's (or the default) workgroup.
'use strict';

const state = {
  token: sessionStorage.getItem('fleetlog-token') || '',
  tables: new Set(),
  anchor: null,      // the newest exported time; ranges end here
  generation: 0,     // bumps on every filter change; stale answers are dropped
  charts: {},
};
window.fleetlog = state;

// ---- the API -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) document.getElementById('token-box').hidden = false;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error || res.statusText);
  return data;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TERMINAL = new Set(['FINISHED', 'FAILED', 'ABORTED']);

// Submits SQL with those of `params` it names; retries on 429 (the workgroup's queue is full).
async function submit(sql, params) {
  const parameters = Object.entries(params)
    .filter(([name]) => new RegExp(':' + name + '\\b').test(sql))
    .map(([name, value]) => ({ name, value }));
  for (let attempt = 0; ; attempt++) {
    try {
      return (await api('POST', '/v1/statements', { sql, parameters })).id;
    } catch (e) {
      if (e.status !== 429 || attempt > 40) throw e;
      await sleep(250);
    }
  }
}

async function waitDone(id, onStatus) {
  for (let delay = 30; ; delay = Math.min(delay * 1.5, 400)) {
    const d = await api('GET', '/v1/statements/' + encodeURIComponent(id));
    if (onStatus) onStatus(d);
    if (TERMINAL.has(d.status)) return d;
    await sleep(delay);
  }
}

// Runs SQL to the end and returns every row (dashboard queries are small, bounded by LIMIT or GROUP BY).
async function query(sql, params) {
  const id = await submit(sql, params);
  const d = await waitDone(id);
  if (d.status !== 'FINISHED') throw new Error(d.error || d.status);
  let rows = [], columns = [], token = null;
  do {
    const page = await api('GET', `/v1/statements/${id}/result` + (token ? '?next_token=' + encodeURIComponent(token) : ''));
    columns = page.columns;
    rows = rows.concat(page.records);
    token = page.next_token;
  } while (token);
  return { columns, rows };
}

// ---- filters -------------------------------------------------------------------------------

const HOURS = { '1h': 1, '6h': 6, '24h': 24, '7d': 168, '30d': 720 };
const sqlTime = (d) => d.toISOString().slice(0, 19).replace('T', ' ');

function filters() {
  const range = document.getElementById('range').value;
  let from, to;
  if (range === 'custom') {
    from = new Date(document.getElementById('from').value + 'Z');
    to = new Date(document.getElementById('to').value + 'Z');
  } else {
    to = new Date((state.anchor || new Date()).getTime() + 1000);
    from = new Date(to.getTime() - HOURS[range] * 3600e3);
  }
  if (isNaN(from) || isNaN(to)) { to = new Date(); from = new Date(to.getTime() - 86400e3); }
  const hours = (to - from) / 3600e3;
  return {
    from: sqlTime(from),
    to: sqlTime(to),
    cluster: document.getElementById('cluster').value,
    bucket: hours > 24 * 7 ? 'day' : hours > 6 ? 'hour' : 'minute',
  };
}

// The WHERE clause every panel shares: the time range on `col`, its `dt` partitions, the cluster.
const where = (col, alias = '') => `${alias}${col} >= CAST(:from AS TIMESTAMP) AND ${alias}${col} < CAST(:to AS TIMESTAMP)
  AND ${alias}dt BETWEEN CAST(CAST(:from AS TIMESTAMP) AS DATE) AND CAST(CAST(:to AS TIMESTAMP) AS DATE)
  AND (:cluster = '' OR ${alias}cluster = :cluster)`;
const bucketed = (col) => `strftime(date_trunc(:bucket, ${col}), '%Y-%m-%d %H:%M')`;

// ---- panels --------------------------------------------------------------------------------

function setState(panel, s, rows = 0, message = '') {
  const el = document.getElementById(panel);
  el.dataset.state = s;
  el.dataset.rows = rows;
  let note = el.querySelector('.panel-message');
  if (!note) {
    note = document.createElement('p');
    note.className = 'panel-message muted';
    el.appendChild(note);
  }
  note.textContent = s === 'empty' ? message || 'no data in this range' : s === 'error' ? message : '';
}

const PALETTE = ['#2f6fdf', '#e8590c', '#2b8a3e', '#ae3ec9', '#c92a2a', '#1098ad', '#f08c00', '#5c7cfa', '#868e96'];

function drawChart(name, canvasId, type, labels, datasets, stacked = false) {
  datasets.forEach((d, i) => Object.assign(d, { borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 1, tension: 0.2 }));
  if (state.charts[name]) state.charts[name].destroy();
  state.charts[name] = new Chart(document.getElementById(canvasId), {
    type,
    data: { labels, datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: { x: { stacked, ticks: { maxTicksLimit: 8 } }, y: { stacked, beginAtZero: true } },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    },
  });
}

// At most this many series per chart; the rest are summed into "other". Charts stay readable
// and fast however many distinct values a column holds.
const MAX_SERIES = 10;

// Rows of [series, label, value] into chart datasets over the sorted labels: the MAX_SERIES - 1
// largest series by total, then one "other" series for the rest.
function pivot(rows) {
  const labels = [...new Set(rows.map((r) => r[1]))].sort();
  const index = new Map(labels.map((l, i) => [l, i]));
  const totals = new Map();
  for (const [s, , v] of rows) totals.set(s, (totals.get(s) || 0) + Number(v));
  const kept = [...totals].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
  const named = new Set((kept.length > MAX_SERIES ? kept.slice(0, MAX_SERIES - 1) : kept).map(([s]) => s));
  const series = new Map([...named].sort((a, b) => String(a).localeCompare(String(b))).map((s) => [String(s), null]));
  for (const [s, l, v] of rows) {
    const name = named.has(s) ? String(s) : 'other';
    if (!series.get(name)) series.set(name, new Array(labels.length).fill(0));
    series.get(name)[index.get(l)] += Number(v);
  }
  return { labels, datasets: [...series].map(([label, data]) => ({ label, data })) };
}

async function panel(name, needs, work) {
  if (!needs.every((t) => state.tables.has(t))) return setState(name, 'empty', 0, `no ${needs.join(', ')} in the lake yet`);
  const generation = state.generation;
  setState(name, 'loading');
  try {
    const rows = await work(() => generation !== state.generation);
    if (generation !== state.generation) return;
    setState(name, rows > 0 ? 'ready' : 'empty', rows);
  } catch (e) {
    if (generation === state.generation) setState(name, 'error', 0, e.message);
  }
}

async function loadFleet() {
  const fleet = await api('GET', '/v1/fleet');
  const select = document.getElementById('cluster');
  const chosen = select.value;
  select.replaceChildren(new Option('all clusters', ''), ...fleet.clusters.map((c) => new Option(c.name, c.name)));
  select.value = chosen;
  let newest = null;
  for (const c of fleet.clusters) for (const t of c.tables) if (t.cursor && (!newest || t.cursor > newest)) newest = t.cursor;
  state.anchor = newest ? new Date(newest) : null;
  return fleet;
}

function renderFleet(fleet, cluster) {
  const body = document.querySelector('#fleet tbody');
  body.replaceChildren();
  let rows = 0;
  for (const c of fleet.clusters) {
    if (cluster && c.name !== cluster) continue;
    for (const t of c.tables.length ? c.tables : [{ table: '(no exports yet)' }]) {
      const run = t.last_run || {};
      const tr = body.insertRow();
      tr.className = run.status === 'failed' ? 'bad' : '';
      for (const v of [c.name, t.table, t.cursor ? t.cursor.slice(0, 19).replace('T', ' ') : '—', lag(t.lag_s),
                       run.status ? `${run.status} ${(run.finished_at || '').slice(0, 19).replace('T', ' ')}` : '—',
                       run.rows_written ?? '', run.error || '']) tr.insertCell().textContent = v;
      rows++;
    }
  }
  setState('fleet', rows ? 'ready' : 'empty', rows, 'no clusters configured');
}

function lag(s) {
  if (s === null || s === undefined) return '—';
  if (s < 120) return Math.round(s) + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  if (s < 172800) return (s / 3600).toFixed(1) + ' h';
  return (s / 86400).toFixed(1) + ' d';
}

// Redraws everything for the current filters. When done, body[data-settled] holds the
// generation drawn (tests wait for it to equal fleetlog.generation).
async function refresh() {
  const generation = ++state.generation;
  await draw(generation);
  if (generation === state.generation) document.body.dataset.settled = String(generation);
}

async function draw(generation) {
  let fleet;
  try {
    fleet = await loadFleet();
    state.tables = new Set((await api('GET', '/v1/tables')).tables.map((t) => t.name));
  } catch (e) {
    for (const p of ['fleet', 'workload', 'latency', 'alerts', 'alerts-by-cluster', 'slowest']) setState(p, 'error', 0, e.message);
    return;
  }
  if (generation !== state.generation) return;
  const f = filters();
  filters.last = f;
  renderFleet(fleet, f.cluster);
  document.getElementById('range-label').textContent = `${f.from} – ${f.to} UTC`;
  document.querySelectorAll('.bucket').forEach((el) => { el.textContent = f.bucket; });

  await Promise.all([
    panel('workload', ['stl_query'], async () => {
      const r = await query(`SELECT cluster, ${bucketed('starttime')} AS t, count(*) AS n FROM stl_query
        WHERE ${where('starttime')} GROUP BY ALL ORDER BY t`, f);
      const p = pivot(r.rows);
      drawChart('queries', 'chart-queries', 'line', p.labels, p.datasets);
      return r.rows.length;
    }),
    panel('latency', ['stl_query'], async () => {
      const r = state.tables.has('stl_wlm_query')
        ? await query(`SELECT ${bucketed('exec_start_time')} AS t,
              quantile_cont(total_exec_time, 0.95) / 1e6 AS run_s, quantile_cont(total_queue_time, 0.95) / 1e6 AS queue_s
            FROM stl_wlm_query WHERE ${where('exec_start_time')} GROUP BY ALL ORDER BY t`, f)
        : await query(`SELECT ${bucketed('starttime')} AS t, quantile_cont(epoch(endtime - starttime), 0.95) AS run_s,
              NULL AS queue_s FROM stl_query WHERE ${where('starttime')} GROUP BY ALL ORDER BY t`, f);
      drawChart('latency', 'chart-latency', 'line', r.rows.map((x) => x[0]), [
        { label: 'p95 run time', data: r.rows.map((x) => x[1]) },
        { label: 'p95 queue wait', data: r.rows.map((x) => x[2]) },
      ]);
      return r.rows.length;
    }),
    panel('alerts', ['stl_alert_event_log'], async () => {
      const r = await query(`SELECT split_part(trim(event), ':', 1) AS type, ${bucketed('event_time')} AS t, count(*) AS n
        FROM stl_alert_event_log WHERE ${where('event_time')} GROUP BY ALL ORDER BY t`, f);
      const p = pivot(r.rows);
      drawChart('alerts', 'chart-alerts', 'bar', p.labels, p.datasets, true);
      return r.rows.length;
    }),
    panel('alerts-by-cluster', ['stl_alert_event_log'], async () => {
      const r = await query(`SELECT cluster, split_part(trim(event), ':', 1) AS type, count(*) AS n FROM stl_alert_event_log
        WHERE ${where('event_time')} GROUP BY ALL ORDER BY n DESC, cluster LIMIT 50`, f);
      fillTable('#alerts-by-cluster tbody', r.rows);
      return r.rows.length;
    }),
    panel('slowest', ['stl_query'], async () => {
      const text = state.tables.has('stl_querytext')
        ? `coalesce((SELECT t.text FROM stl_querytext_full t WHERE t.cluster = q.cluster AND t.query = q.query LIMIT 1), q.querytxt)`
        : 'q.querytxt';
      const r = await query(`SELECT q.cluster, q.query, q.userid, strftime(q.starttime, '%Y-%m-%d %H:%M:%S') AS start,
          round(epoch(q.endtime - q.starttime), 3) AS seconds, ${text} AS text
        FROM (SELECT * FROM stl_query WHERE ${where('starttime')} ORDER BY endtime - starttime DESC LIMIT 20) q
        ORDER BY seconds DESC, q.cluster, q.query`, f);
      fillTable('#slowest tbody', r.rows, 5);
      return r.rows.length;
    }),
  ]);
}

function fillTable(selector, rows, preColumn = -1) {
  const body = document.querySelector(selector);
  body.replaceChildren();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((v, i) => {
      const td = tr.insertCell();
      if (i === preColumn) {
        const pre = document.createElement('pre');
        pre.textContent = v ?? '';
        td.appendChild(pre);
      } else {
        td.textContent = v ?? '';
      }
    });
  }
}

// ---- the SQL editor ------------------------------------------------------------------------

const editor = { id: null, tokens: [null], page: 0, total: 0, pageRows: 0 };

function editorButtons(running) {
  document.getElementById('run').disabled = running;
  document.getElementById('cancel').disabled = !running;
  const finished = !running && editor.id && editor.total >= 0;
  document.getElementById('prev').disabled = !finished || editor.page === 0;
  document.getElementById('next').disabled = !finished || editor.tokens[editor.page + 1] === undefined;
  document.getElementById('csv').disabled = !finished;
}

function editorStatus(text) {
  document.getElementById('sql-status').textContent = text;
}

async function runEditor() {
  const el = document.getElementById('editor');
  Object.assign(editor, { id: null, tokens: [null], page: 0, total: -1 });
  document.querySelector('#results thead').replaceChildren();
  document.querySelector('#results tbody').replaceChildren();
  el.dataset.state = 'running';
  editorButtons(true);
  try {
    editor.id = await submit(document.getElementById('sql').value, filters());
    el.dataset.statement = editor.id;
    const d = await waitDone(editor.id, (s) => editorStatus(`${s.status} · ${(s.duration_ns / 1e9).toFixed(2)} s`));
    if (d.status !== 'FINISHED') {
      el.dataset.state = d.status.toLowerCase();
      editorStatus(`${d.status}${d.error ? ': ' + d.error : ''}`);
      editor.total = -1;
      return editorButtons(false);
    }
    await showPage(0);
    el.dataset.state = 'finished';
  } catch (e) {
    el.dataset.state = 'error';
    editorStatus(e.message);
    editor.total = -1;
    editorButtons(false);
  }
}

async function showPage(page) {
  const token = editor.tokens[page];
  const r = await api('GET', `/v1/statements/${editor.id}/result` + (token ? '?next_token=' + encodeURIComponent(token) : ''));
  editor.page = page;
  editor.total = r.total_rows;
  if (page === 0) editor.pageRows = r.records.length;
  if (r.next_token) editor.tokens[page + 1] = r.next_token;
  const head = document.querySelector('#results thead');
  head.replaceChildren();
  const hr = head.insertRow();
  for (const c of r.columns) {
    const th = document.createElement('th');
    th.textContent = c.name;
    th.title = c.type;
    hr.appendChild(th);
  }
  const body = document.querySelector('#results tbody');
  body.replaceChildren();
  for (const row of r.records) {
    const tr = body.insertRow();
    for (const v of row) {
      const td = tr.insertCell();
      if (v === null) { td.textContent = 'NULL'; td.className = 'muted'; } else td.textContent = v;
    }
  }
  const first = page * editor.pageRows;
  document.getElementById('editor').dataset.page = page;
  editorStatus(r.total_rows ? `rows ${first + 1}–${first + r.records.length} of ${r.total_rows}` : 'no rows');
  editorButtons(false);
}

async function cancelEditor() {
  if (!editor.id) return;
  try { await api('POST', `/v1/statements/${editor.id}/cancel`); } catch (e) { editorStatus(e.message); }
}

async function downloadCsv() {
  const headers = state.token ? { Authorization: 'Bearer ' + state.token } : {};
  const res = await fetch(`/v1/statements/${editor.id}/result?format=csv`, { headers });
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: `${editor.id}.csv` });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---- wiring --------------------------------------------------------------------------------

document.getElementById('range').addEventListener('change', (e) => {
  const custom = e.target.value === 'custom';
  document.getElementById('custom-range').hidden = !custom;
  if (custom) {
    const f = filters.last || { from: sqlTime(new Date(Date.now() - 86400e3)), to: sqlTime(new Date()) };
    document.getElementById('from').value = f.from.replace(' ', 'T').slice(0, 16);
    document.getElementById('to').value = f.to.replace(' ', 'T').slice(0, 16);
  }
  refresh();
});
for (const id of ['cluster', 'from', 'to']) document.getElementById(id).addEventListener('change', refresh);
document.getElementById('token-save').addEventListener('click', () => {
  state.token = document.getElementById('token').value;
  sessionStorage.setItem('fleetlog-token', state.token);
  document.getElementById('token-box').hidden = true;
  refresh();
});
document.getElementById('run').addEventListener('click', runEditor);
document.getElementById('cancel').addEventListener('click', cancelEditor);
document.getElementById('prev').addEventListener('click', () => showPage(editor.page - 1));
document.getElementById('next').addEventListener('click', () => showPage(editor.page + 1));
document.getElementById('csv').addEventListener('click', downloadCsv);
document.getElementById('sql').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) runEditor();
});
refresh();
