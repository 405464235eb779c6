// Browser tests of the dashboard: Debian's Chromium driven by playwright-core against
// `fleetlog serve` over a demo fleet with an outage (an hour range purged from one cluster),
// hourly roll-ups and anomaly scores (one `fleetlog run` cycle after the backfill).
//
//   FLEETLOG_BINARY=build/fleetlog node --test tests/browser/
//
// Environment:
//   FLEETLOG_BINARY    the fleetlog executable (required)
//   FLEETLOG_WEB_DIR   serve web/ from disk (with web/dist/app.js from `node web/bundle.mjs --watch`)
//   FLEETLOG_DEMO_DIR  where to make the demo fleet, kept afterwards and reused when it is there
//   CHROMIUM           default /usr/bin/chromium
//   ARTIFACTS_DIR      where screenshots go; default a temporary folder
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const binary = process.env.FLEETLOG_BINARY;
let server, context, page, base, scratch, artifacts, config;
const OUTAGE_CLUSTER = 'sim-2';
const SERVERLESS = 'sim-serverless-4';  // the demo's Serverless workgroup: SYS views only
let outage;  // { from: Date, to: Date }

async function startServer(configPath) {
  const args = ['--config', configPath, 'serve', '--listen', '127.0.0.1:0', '--no-access-log'];
  if (process.env.FLEETLOG_WEB_DIR) args.push('--web-dir', process.env.FLEETLOG_WEB_DIR);
  server = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start: ' + log)), 30000);
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /serving the API and dashboard on (\S+):(\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(`http://127.0.0.1:${m[2]}`); }
    });
    server.on('exit', (code) => reject(new Error(`the server exited with ${code}: ${log}`)));
  });
}

const fleetlog = (...args) => execFileSync(binary, ['--config', config, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }).toString();
const sqlTime = (d) => d.toISOString().slice(0, 19).replace('T', ' ');

before(async () => {
  assert.ok(binary, 'set FLEETLOG_BINARY to the fleetlog executable');
  scratch = mkdtempSync(join(tmpdir(), 'fleetlog-browser-'));
  artifacts = process.env.ARTIFACTS_DIR || join(scratch, 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  // FLEETLOG_DEMO_DIR keeps the prepared demo between runs (for working on the page).
  const demo = process.env.FLEETLOG_DEMO_DIR || join(scratch, 'demo');
  config = join(demo, 'fleetlog.toml');
  const prepared = join(demo, 'browser-test-outage.json');
  if (existsSync(prepared)) {
    const o = JSON.parse(readFileSync(prepared, 'utf8'));
    outage = { from: new Date(o.from), to: new Date(o.to) };
  } else {
    execFileSync(binary, ['demo', '--dir', demo, '--clusters', '4', '--days', '3'], { stdio: ['ignore', 'ignore', 'inherit'] });
    // The outage: six hours (on 6-hour bucket boundaries), a day and a half ago, in which one
    // cluster ran nothing: every row that started or ended in it is purged.
    const six = Math.floor(Date.now() / 21600e3) * 21600e3;
    outage = { from: new Date(six - 36 * 3600e3), to: new Date(six - 30 * 3600e3) };
    const within = (col) => `${col} >= TIMESTAMP '${sqlTime(outage.from)}' AND ${col} < TIMESTAMP '${sqlTime(outage.to)}'`;
    for (const [table, start, end] of [['stl_query', 'starttime', 'endtime'], ['stl_scan', 'starttime', 'endtime'],
                                       ['stl_wlm_query', 'service_class_start_time', 'service_class_end_time']]) {
      fleetlog('purge', '--table', table, '--where', `cluster = '${OUTAGE_CLUSTER}' AND ((${within(start)}) OR (${within(end)}))`);
    }
    // One cycle of `fleetlog run`: a live export, the hourly roll-ups of closed days, anomaly scores.
    fleetlog('run', '--cycles', '1');
    writeFileSync(prepared, JSON.stringify(outage));
  }
  base = await startServer(config);
  context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1500, height: 1200 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
  });
  page = context.pages()[0] || (await context.newPage());
  // The page must work offline: refuse every request that is not to our server.
  await context.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  context.on('page', (p) => p.on('pageerror', (e) => console.error('page error:', e)));
  page.on('pageerror', (e) => console.error('page error:', e));
});

after(async () => {
  await context?.close();
  server?.kill('SIGTERM');
  if (!process.env.ARTIFACTS_DIR) rmSync(scratch, { recursive: true, force: true });
});

// Waits until the page has drawn its newest render completely.
async function settled(p = page) {
  await p.waitForFunction(() => window.fleetlog && document.body.dataset.settled === String(window.fleetlog.generation),
                          null, { timeout: 120000 });
}

async function panelState(id, p = page) {
  return { state: await p.getAttribute('#' + id, 'data-state'), rows: Number(await p.getAttribute('#' + id, 'data-rows')),
           message: await p.textContent(`#${id} .panel-message`).catch(() => '') };
}

async function assertReady(ids, p = page) {
  for (const id of ids) {
    const s = await panelState(id, p);
    assert.equal(s.state, 'ready', `panel ${id} is ${s.state}: ${s.message}`);
    assert.ok(s.rows > 0, `panel ${id} has rows`);
  }
}

// Share of a canvas's pixels that carry ink (not transparent).
const inkOnCanvas = (id, p = page) => p.evaluate((canvasId) => {
  const c = document.getElementById(canvasId);
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0) ink++;
  return ink / (data.length / 4);
}, id);

const shot = (name, p = page) => p.screenshot({ fullPage: true, path: join(artifacts, name + '.png') });

test('the fleet page shows one row per cluster with every column', async () => {
  await page.goto(base + '/?range=7d');
  await settled();
  await assertReady(['fleet']);
  const rows = page.locator('#fleet tbody tr[data-cluster]');
  assert.equal(await rows.count(), 4, 'one row per cluster');
  const headers = await page.locator('#fleet thead th').allTextContents();
  for (const h of ['health', 'cluster', 'kind', 'tags', 'export lag', 'failures', 'anomaly', 'alerts', 'queries/h', 'p95 run',
                   'p95 queue', 'aborted', 'disk-based']) assert.ok(headers.some((x) => x.startsWith(h)), `column ${h} in ${headers}`);
  const fleetRows = await page.evaluate(() => window.fleetlog.fleetRows);
  for (const r of fleetRows) {
    assert.ok(r.qph > 0, `${r.name} has queries per hour`);
    assert.ok(r.p95_run > 0 && r.p95_queue !== null, `${r.name} has p95 run and queue times`);
    assert.ok(r.aborted_share !== null && r.disk_share !== null, `${r.name} has aborted and disk-based shares`);
    assert.equal(r.kind, 'sim');
    assert.ok(r.tags.length === 2, 'tags from the config');
    // The demo's Serverless workgroup (SYS views only) is measured, graded and rolled up from
    // sys_query_history and sys_query_detail like the provisioned clusters from their STL tables.
    assert.ok(r.grade !== null, `${r.name} has an anomaly grade (the detector ran)`);
    assert.ok(r.rolled_up_to, `${r.name} has hourly roll-ups`);
  }
  assert.ok(fleetRows.find((r) => r.name === SERVERLESS).disk_share > 0, 'spilled steps of sys_query_detail are disk-based queries');
  assert.ok(fleetRows.some((r) => r.name === SERVERLESS && r.tables.every((t) => t.table.startsWith('sys_'))),
            'the fleet holds a Serverless workgroup exporting the SYS views');
  // Five sparklines per row, each with points; the outage cluster's query sparkline has a gap.
  assert.equal(await page.locator('#fleet tbody tr[data-cluster="sim-1"] svg.spark').count(), 5);
  const gaps = Number(await page.getAttribute(`#fleet tbody tr[data-cluster="${OUTAGE_CLUSTER}"] svg.spark.qph`, 'data-gaps'));
  assert.ok(gaps >= 1, `the outage shows as a gap in ${OUTAGE_CLUSTER}'s sparkline (${gaps})`);
  const other = Number(await page.getAttribute('#fleet tbody tr[data-cluster="sim-1"] svg.spark.qph', 'data-gaps'));
  assert.ok(other < gaps, 'a cluster without the outage has fewer gaps');
  await shot('fleet');

  // Sorting by queries per hour, then filtering by name and by tag, all kept in the URL.
  await page.click('#fleet th[data-key="qph"]');
  await settled();
  assert.match(page.url(), /sort=qph%3Adesc/);
  const qph = await page.evaluate(() => [...document.querySelectorAll('#fleet tbody tr[data-cluster]')].map((tr) => tr.dataset.cluster));
  const expected = [...fleetRows].sort((a, b) => b.qph - a.qph).map((r) => r.name);
  assert.deepEqual(qph, expected, 'sorted by queries per hour, highest first');
  await page.fill('#fleet-filter', 'sim-3');
  await page.waitForFunction(() => /q=sim-3/.test(location.search));
  await settled();
  assert.deepEqual(await page.locator('#fleet tbody tr[data-cluster]').evaluateAll((x) => x.map((tr) => tr.dataset.cluster)), ['sim-3']);
  await page.fill('#fleet-filter', '');
  await page.waitForFunction(() => !/q=/.test(location.search));
  await settled();
  await page.selectOption('#fleet-tag', 'staging');
  await settled();
  assert.deepEqual(await page.locator('#fleet tbody tr[data-cluster]').evaluateAll((x) => x.map((tr) => tr.dataset.cluster)), [SERVERLESS]);
  await page.selectOption('#fleet-tag', '');
  await settled();

  // The per-table export detail opens from a row.
  await page.click('#fleet tr[data-cluster="sim-1"] button.detail');
  await settled();
  const detail = await page.locator('#export-detail tbody tr').allTextContents();
  assert.ok(detail.length >= 8, 'one line per exported table');
  assert.ok(detail.some((t) => t.startsWith('stl_query') && /ok/.test(t)));
  await shot('fleet-detail');
});

test('keyboard: / filters, j moves, Enter opens a cluster', async () => {
  await page.goto(base + '/?range=24h');
  await settled();
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  const selected = await page.getAttribute('#fleet tr.selected', 'data-cluster');
  assert.ok(selected, 'j selects a row');
  await page.keyboard.press('Enter');
  await page.waitForFunction((c) => new URLSearchParams(location.search).get('cluster') === c, selected);
  await settled();
  assert.equal(await page.textContent('.cluster-head h2'), selected);
  await page.goBack();
  await settled();
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'fleet-filter');
});

test('the cluster page draws every panel, and the outage is a gap on its charts', async () => {
  await page.goto(`${base}/?p=cluster&cluster=${OUTAGE_CLUSTER}&range=7d&tz=utc`);
  await settled();
  await assertReady(['workload', 'queue-heatmap', 'runtime', 'aborted-disk', 'anomalies', 'alert-events', 'top-tables', 'ddl',
                     'export-runs', 'slowest']);
  for (const id of ['chart-workload', 'chart-runtime', 'chart-failures', 'chart-exports']) assert.ok((await inkOnCanvas(id)) > 0.005, `${id} is drawn`);
  assert.ok(Number(await page.getAttribute('canvas.heatmap', 'data-cells')) > 10, 'the heatmap has cells');
  // Redshift's solution text beside each alert event.
  const solutions = await page.locator('#alert-events td.solution').allTextContents();
  assert.ok(solutions.length > 0 && solutions.every((s) => s.length > 10), 'alert events carry their solution');
  // The gap: the runtime chart has null points inside the outage and values on either side,
  // and chart.js leaves them unjoined (spanGaps false) on a time axis.
  const gap = await page.evaluate(([from, to]) => {
    const c = window.fleetlog.charts.runtime;
    const d = c.data.datasets[1].data;
    const inside = d.filter((p) => p.x >= from && p.x < to);
    const before = d.filter((p) => p.x < from && p.y !== null).length, after = d.filter((p) => p.x >= to && p.y !== null).length;
    return { type: c.options.scales.x.type, spanGaps: c.data.datasets[1].spanGaps, inside: inside.length,
             nulls: inside.filter((p) => p.y === null).length, before, after };
  }, [outage.from.getTime(), outage.to.getTime()]);
  assert.equal(gap.type, 'time', 'a real time axis');
  assert.equal(gap.spanGaps, false);
  assert.ok(gap.inside > 0 && gap.nulls === gap.inside, `every bucket in the outage is empty: ${JSON.stringify(gap)}`);
  assert.ok(gap.before > 0 && gap.after > 0, 'data on both sides of the gap');
  await shot('cluster');
  // Zoom into the gap on the workload chart by dragging: a custom range around it.
  const box = await page.locator('#chart-workload').boundingBox();
  const xOf = (ms) => page.evaluate((t) => window.fleetlog.charts.workload.scales.x.getPixelForValue(t), ms);
  const x0 = await xOf(outage.from.getTime() - 6 * 3600e3), x1 = await xOf(outage.to.getTime() + 6 * 3600e3);
  await page.mouse.move(box.x + x0, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + (x0 + x1) / 2, box.y + box.height / 2, { steps: 4 });
  await page.mouse.move(box.x + x1, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => /range=custom/.test(location.search));
  await settled();
  const range = await page.evaluate(() => ({ from: Date.parse(new URLSearchParams(location.search).get('from')),
                                             to: Date.parse(new URLSearchParams(location.search).get('to')) }));
  assert.ok(range.from <= outage.from.getTime() && range.to >= outage.to.getTime() && range.to - range.from < 24 * 3600e3,
            'the zoomed range spans the outage');
  const zoomed = await page.evaluate(() => window.fleetlog.charts.workload.data.datasets.flatMap((d) => d.data).filter((p) => p.y === null).length);
  assert.ok(zoomed > 0, 'the zoomed chart shows the gap');
  await shot('cluster-zoomed-gap');
});

// The dashboard's workload numbers through its own SQL (web/src/panels.js), run by the API:
// from workload_hourly (roll-ups for closed hours, raw rows for the rest) and with src=raw
// from the raw tables alone, over a range of rolled-up days, the purged outage and today.
test('the workload panels read workload_hourly and give the numbers src=raw computes from raw rows', async () => {
  globalThis.location ??= { pathname: '/', search: '' };
  const { metricsSql, bothFamilies } = await import('../../web/src/panels.js');
  const api = async (method, path, body) => {
    const res = await fetch(base + path, { method, headers: body ? { 'Content-Type': 'application/json' } : {},
                                           body: body && JSON.stringify(body) });
    const data = await res.json();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
    return data;
  };
  const rows = async (sql) => {
    const { id } = await api('POST', '/v1/statements', { sql });
    let s;
    while (!['FINISHED', 'FAILED', 'ABORTED'].includes((s = await api('GET', `/v1/statements/${id}`)).status)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(s.status, 'FINISHED', s.error);
    let out = [], token = null;
    do {
      const page = await api('GET', `/v1/statements/${id}/result` + (token ? `?next_token=${encodeURIComponent(token)}` : ''));
      out = out.concat(page.records);
      token = page.next_token;
    } while (token);
    return out.map((r) => r.map((v) => (typeof v === 'number' || /^-?\d+\.\d+(e-?\d+)?$/.test(v) ? Number(v) : v)));
  };
  // Wide buckets average hourly percentiles: sums of the same doubles in another order, equal
  // to 1e-9 of their size. (Both rounded to 9 digits and compared exactly failed when a value
  // sat on a rounding boundary: 3.37121563 against 3.37121562.)
  const sameRows = (a, b) => a.length === b.length && a.every((r, i) => r.length === b[i].length && r.every((v, j) => {
    const w = b[i][j];
    return typeof v === 'number' && typeof w === 'number' ? Math.abs(v - w) <= 1e-9 * Math.max(Math.abs(v), Math.abs(w)) : v === w;
  }));
  const [[rolledUp, raw]] = await rows(`SELECT count(*) FILTER (WHERE source = 'rollup'), count(*) FILTER (WHERE source = 'raw')
                                         FROM workload_hourly`);
  assert.ok(Number(rolledUp) > 0 && Number(raw) > 0, `hours from roll-ups (${rolledUp}) and from raw rows (${raw})`);
  // `fleetlog run` rolled up the closed hours of the open day (hours close about six hours
  // late: the demo's stl_alert_event_log lookback), so a day is answered part from its roll-up
  // and part from raw rows; the ranges below cut through that mark. Not so when the closed
  // hours end at midnight (06:00-07:00 UTC, give or take the cycle's minutes).
  const [[partWay]] = await rows(`SELECT count(*) FROM (SELECT cluster, dt FROM workload_hourly GROUP BY ALL
                                                        HAVING count(DISTINCT source) = 2)`);
  if (![6, 7].includes(new Date().getUTCHours())) assert.ok(Number(partWay) > 0, `cluster-days rolled up part-way (${partWay})`);
  const tables = new Set((await api('GET', '/v1/tables')).tables.map((t) => t.name));
  const bothClusters = bothFamilies(await api('GET', '/v1/fleet'));
  const to = new Date(Math.ceil(Date.now() / 3600e3) * 3600e3);
  const range = { from: new Date(to.getTime() - 4 * 86400e3 + 1800e3), to };  // from the middle of an hour
  for (const bucketS of [3600, 6 * 3600, 86400]) {
    for (const cluster of [null, OUTAGE_CLUSTER, SERVERLESS]) {
      const options = { range, bucketS, tables, cluster, bothClusters };
      const routed = metricsSql(options);
      assert.match(routed, /FROM workload_hourly/);
      const viaView = await rows(routed);
      assert.ok(viaView.length > 0, `rows for ${cluster ?? 'the fleet'} in ${bucketS} s buckets`);
      const fromRaw = await rows(metricsSql({ ...options, raw: true }));
      if (!sameRows(viaView, fromRaw)) assert.deepEqual(viaView, fromRaw, `${cluster ?? 'the fleet'}, ${bucketS} s buckets`);
    }
  }
});

test('alerts: the demo\'s injected queue spike fires its anomaly rule and is marked on sim-1\'s charts', async () => {
  // `fleetlog demo` picks sim-1's seed so that a queue spike is under way as the backfill ends,
  // and its config has an anomaly rule: the cycle of `fleetlog run` graded the spike and fired.
  await page.goto(base + '/?range=24h');
  await settled();
  await assertReady(['firing-alerts', 'fleet']);
  const firing = await page.locator('#firing-alerts tr.alert-row.firing')
    .evaluateAll((rows) => rows.map((r) => ({ rule: r.dataset.rule, cluster: r.dataset.cluster, text: r.textContent })));
  const spike = firing.find((a) => a.rule === 'workload-anomaly' && a.cluster === 'sim-1');
  assert.ok(spike, `the anomaly rule fires for sim-1: ${JSON.stringify(firing)}`);
  assert.match(spike.text, /queue_wait_s high/, 'the firing alert names the metric that drove it');
  const row = await page.evaluate(() => window.fleetlog.fleetRows.find((r) => r.name === 'sim-1'));
  assert.ok(row.firing >= 1 && row.health === 2, `sim-1 counts the firing alert and is bad: ${row.firing}, ${row.health}`);
  await shot('fleet-firing-alert');

  // The alerts page: firing alerts, their history from alert_events, anomalies with attribution.
  await page.click('#all-alerts');
  await settled();
  assert.match(page.url(), /p=alerts/);
  await assertReady(['alerts', 'alert-history', 'anomaly-list']);
  const history = await page.locator('#alert-history tr.event-row').evaluateAll((rows) => rows.map((r) => r.textContent));
  assert.ok(history.some((t) => /workload-anomaly/.test(t) && /firing/.test(t) && /sim-1/.test(t)), 'the firing transition is in the history');
  const listed = await page.locator('#anomaly-list tr.anomaly-row[data-cluster="sim-1"] td.attribution').allTextContents();
  assert.ok(listed.some((t) => /queue_wait_s high/.test(t)), `sim-1's anomalies carry their attribution: ${listed.slice(0, 5)}`);
  await shot('alerts');
  // The notification's link: one rule and cluster.
  await page.goto(base + '/?p=alerts&rule=workload-anomaly&cluster=sim-1');
  await settled();
  const only = await page.locator('#alerts tr.alert-row').evaluateAll((rows) => rows.map((r) => r.dataset.cluster));
  assert.deepEqual(only, ['sim-1']);

  // sim-1's cluster page: markers on the charts of the metrics that drove the grade (queue wait
  // is on the runtime chart) and on the grade chart, inside the spike (the last 75 minutes).
  await page.goto(`${base}/?p=cluster&cluster=sim-1&range=6h&tz=utc`);
  await settled();
  await assertReady(['runtime', 'anomalies']);
  const markers = await page.evaluate(() => Object.fromEntries(['workload', 'runtime', 'failures', 'anomalies'].map((n) => [n,
    (window.fleetlog.charts[n]?.data.datasets.find((d) => d.label === 'anomaly')?.data || []).map((p) => p.x)])));
  const recent = Date.now() - 90 * 60e3;
  assert.ok(markers.runtime.some((t) => t >= recent), `queue-wait anomalies are marked on the runtime chart: ${markers.runtime.length}`);
  assert.ok(markers.anomalies.some((t) => t >= recent), 'and on the grade chart');
  const worst = await page.locator('#anomalies tbody tr').allTextContents();
  assert.ok(worst.some((t) => /queue_wait_s high/.test(t)), 'the anomalies panel lists them with attribution');
  await shot('cluster-anomaly-markers');
});

test('a slow query opens its query page with text, timing, plan, scans and same-shape runs', async () => {
  await page.goto(`${base}/?p=cluster&cluster=sim-1&range=7d`);
  await settled();
  // The slowest query that has a plan and scans: some statements have neither in the
  // simulated history (as utility statements have none in Redshift), which the page shows empty.
  const ids = await page.locator('#slowest a.query-link').allTextContents();
  const planned = new Set(fleetlog('query', '--format', 'csv',
    `SELECT DISTINCT e.query FROM stl_explain e JOIN stl_scan s USING (cluster, query) WHERE e.cluster = 'sim-1' AND e.query IN (${ids.join(', ')})`)
    .trim().split('\n').slice(1));
  const id = ids.find((q) => planned.has(q));
  assert.ok(id, `one of sim-1's slowest queries has a plan and scans: ${ids}`);
  const first = page.locator('#slowest a.query-link', { hasText: new RegExp(`^${id}$`) }).first();
  await first.click();
  await page.waitForFunction((q) => new URLSearchParams(location.search).get('query') === q, id);
  await settled();
  await assertReady(['query-text', 'query-timing', 'query-plan', 'query-scans', 'query-shape']);
  assert.match((await page.textContent('#sql-text')).toLowerCase(), /select|insert|copy|create|update|delete|unload|with/);
  assert.ok(await page.isVisible('#copy-sql'));
  assert.match(await page.textContent('#timing-run'), /\d/);
  assert.ok((await page.textContent('#plan')).length > 10, 'the plan from stl_explain');
  assert.match(await page.textContent('#shape-summary'), /runs on \d+ cluster/);
  const runs = Number(await page.getAttribute('#query-shape', 'data-rows'));
  assert.ok(runs >= 1, 'the query itself is one run of its shape');
  await shot('query');
});

test('a Serverless workgroup\'s cluster and query pages come from its SYS views', async () => {
  await page.goto(`${base}/?p=cluster&cluster=${SERVERLESS}&range=7d&tz=utc`);
  await settled();
  await assertReady(['workload', 'queue-heatmap', 'runtime', 'aborted-disk', 'anomalies', 'alert-events', 'top-tables',
                     'export-runs', 'slowest']);
  for (const id of ['chart-workload', 'chart-runtime', 'chart-failures']) assert.ok((await inkOnCanvas(id)) > 0.005, `${id} is drawn`);
  // A week reads the hourly roll-ups of the closed days, and the raw rows after them.
  const runtime = await page.evaluate(() => window.fleetlog.charts.runtime.data.datasets[1].data.filter((p) => p.y !== null).length);
  assert.ok(runtime >= 16, `p95 run time over two days of 3-hour buckets and more (${runtime})`);
  const classes = await page.evaluate(() => window.fleetlog.charts.workload.data.datasets.map((d) => d.label));
  assert.ok(classes.length >= 2, `queries per service class from sys_query_history (${classes})`);
  await shot('cluster-serverless');
  // The slowest query: a SYS query_id, with its text from 4000-character pieces, its plan and steps.
  const first = page.locator('#slowest a.query-link').first();
  const id = await first.textContent();
  assert.ok(Number(id) >= 1e10, `a SYS query id (${id})`);
  await first.click();
  await page.waitForFunction((q) => new URLSearchParams(location.search).get('query') === q, id);
  await settled();
  await assertReady(['query-text', 'query-timing', 'query-plan', 'query-scans', 'query-shape']);
  assert.match((await page.textContent('#sql-text')).toLowerCase(), /select|insert|copy|create|update|delete|unload|with/);
  assert.match(await page.textContent('#query-text .muted'), /SUCCESS|FAILED|CANCELED/);
  assert.match(await page.textContent('#timing-run'), /\d/);
  assert.ok((await page.textContent('#plan')).length > 10, 'the plan from sys_query_explain');
  assert.match(await page.textContent('#query-plan h2'), /sys_query_explain/);
  // Runs of the same shape come from the provisioned clusters too: one fleet.
  const shapeClusters = await page.locator('#query-shape tbody tr td:first-child').allTextContents();
  assert.ok(shapeClusters.includes(SERVERLESS), 'the query itself is one run of its shape');
  await shot('query-serverless');
});

test('a URL reopened in a new page gives the same view', async () => {
  await page.goto(`${base}/?range=7d`);
  await settled();
  await page.selectOption('#tz', 'utc');
  await settled();
  await page.click('#fleet th[data-key="p95_queue"]');
  await settled();
  await page.click('#fleet tr[data-cluster="sim-3"] button.detail');
  await settled();
  const url = page.url();
  const view = async (p) => ({
    rows: await p.locator('#fleet tbody tr[data-cluster]').evaluateAll((x) => x.map((tr) => tr.dataset.cluster)),
    detail: await p.locator('#export-detail tbody tr').count(),
    tz: await p.inputValue('#tz'),
    range: await p.inputValue('#range'),
    label: await p.textContent('#range-label'),
  });
  const here = await view(page);
  const other = await context.newPage();
  await other.goto(url);
  await settled(other);
  const there = await view(other);
  assert.deepEqual({ ...there, label: there.label.slice(-4) }, { ...here, label: here.label.slice(-4) });
  assert.equal(there.tz, 'utc');
  // The SQL text is part of the URL too.
  await other.goto(`${base}/?p=sql&sql=${encodeURIComponent('SELECT 42 AS answer')}`);
  await settled(other);
  assert.equal(await other.evaluate(() => window.fleetlog.editor.view.state.doc.toString()), 'SELECT 42 AS answer');
  await other.close();
});

test('dark mode follows the system setting', async () => {
  const dark = await context.newPage();
  await dark.emulateMedia({ colorScheme: 'dark' });
  await dark.goto(`${base}/?p=cluster&cluster=sim-1&range=24h`);
  await settled(dark);
  const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = bg.match(/\d+/g).map(Number);
  assert.ok(r + g + b < 120, `a dark background (${bg})`);
  await shot('cluster-dark', dark);
  await dark.goto(`${base}/?range=7d`);
  await settled(dark);
  await shot('fleet-dark', dark);
  await dark.close();
});

test('auto-refresh picks up a new export without reloading', async () => {
  await page.goto(`${base}/?range=24h&refresh=10&open=sim-1`);
  await settled();
  const before = await page.evaluate(() => window.fleetlog.fleetRows.find((r) => r.name === 'sim-1').last_run_at);
  await page.evaluate(() => { window.notReloaded = true; });
  fleetlog('run', '--cycles', '1');
  await page.waitForFunction((b) => window.fleetlog.fleetRows.find((r) => r.name === 'sim-1').last_run_at !== b, before,
                             { timeout: 120000, polling: 500 });
  assert.ok(await page.evaluate(() => window.notReloaded === true && window.fleetlog.refreshes > 0), 'refreshed in place');
  await settled();
  await shot('fleet-refreshed');
});

test('the SQL page highlights, browses the schema, sorts results, saves queries, pages, downloads CSV and cancels', async () => {
  await page.goto(`${base}/?p=sql&range=7d`);
  await settled();
  assert.ok((await page.locator('#sql-editor .cm-editor').count()) === 1, 'CodeMirror');
  const setSql = (text) => page.evaluate((t) => {
    const v = window.fleetlog.editor.view;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: t } });
  }, text);
  await setSql('SELECT cluster, count(*) AS n FROM stl_query GROUP BY cluster');
  assert.ok((await page.locator('#sql-editor .cm-line span').count()) > 2, 'the text is highlighted');
  await page.waitForFunction(() => /sql=SELECT/.test(location.search));
  // The schema browser lists tables and opens their columns.
  await page.click('#schema button[data-table="stl_query"]');
  await page.waitForSelector('#schema .columns li');
  assert.ok((await page.locator('#schema .columns li').allTextContents()).some((t) => t.startsWith('querytxt')));
  await page.click('#run');
  await page.waitForSelector('#editor[data-state="finished"]', { timeout: 60000 });
  await page.click('#results th:nth-child(2)');
  const counts = (await page.locator('#results tbody td:nth-child(2)').allTextContents()).map(Number);
  assert.deepEqual(counts, [...counts].sort((a, b) => b - a), 'sorted by n, highest first');
  await page.click('#results th:nth-child(2)');
  const asc = (await page.locator('#results tbody td:nth-child(2)').allTextContents()).map(Number);
  assert.deepEqual(asc, [...counts].sort((a, b) => a - b), 'then lowest first');
  page.once('dialog', (d) => d.accept('per cluster'));
  await page.click('#save');
  await page.waitForSelector('#saved li');
  assert.match(await page.textContent('#saved'), /per cluster/);
  await page.reload();
  await settled();
  assert.match(await page.textContent('#saved'), /per cluster/, 'saved queries survive a reload');

  await setSql('SELECT cluster, query, starttime FROM stl_query ORDER BY cluster, query');
  await page.keyboard.press('Escape');
  await page.click('#run');
  await page.waitForSelector('#editor[data-state="finished"]', { timeout: 60000 });
  const total = Number(/of (\d+)/.exec(await page.textContent('#sql-status'))[1]);
  assert.ok(total > 1000, `the result spans pages (${total} rows)`);
  const firstRow = await page.textContent('#results tbody tr:first-child');
  await page.click('#next');
  await page.waitForSelector('#editor[data-page="1"]');
  assert.match(await page.textContent('#sql-status'), /rows 1001–/);
  assert.notEqual(await page.textContent('#results tbody tr:first-child'), firstRow);
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 300000 }), page.click('#csv')]);
  const file = join(scratch, 'result.csv');
  await download.saveAs(file);
  const csv = readFileSync(file, 'utf8').split('\r\n');
  assert.equal(csv[0], 'cluster,query,starttime');
  assert.equal(csv.filter((l) => l).length, total + 1);
  await shot('sql');

  await setSql('SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3');
  await page.click('#run');
  await page.waitForFunction(() => /STARTED/.test(document.getElementById('sql-status').textContent), null, { timeout: 30000 });
  await page.click('#cancel');
  await page.waitForSelector('#editor[data-state="aborted"]', { timeout: 30000 });
  writeFileSync(join(artifacts, 'editor.txt'), await page.textContent('#editor'));
});
