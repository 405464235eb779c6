// Browser tests of the dashboard: Debian's Chromium driven by playwright-core against
// `fleetlog serve` over a demo fleet.
//
//   FLEETLOG_BINARY=build/fleetlog node --test tests/browser/
//
// Environment:
//   FLEETLOG_BINARY    the fleetlog executable (required)
//   FLEETLOG_DEMO_DIR  a folder with fleetlog.toml and its lake; default: a fresh
//                      `fleetlog demo --dir` in a temporary folder
//   FLEETLOG_WEB_DIR   serve web/ from disk (for builds without embedded assets)
//   CHROMIUM           default /usr/bin/chromium
//   ARTIFACTS_DIR      where screenshots go; default a temporary folder
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const binary = process.env.FLEETLOG_BINARY;
let server, context, page, base, scratch, artifacts;

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

before(async () => {
  assert.ok(binary, 'set FLEETLOG_BINARY to the fleetlog executable');
  scratch = mkdtempSync(join(tmpdir(), 'fleetlog-browser-'));
  artifacts = process.env.ARTIFACTS_DIR || join(scratch, 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  let demo = process.env.FLEETLOG_DEMO_DIR;
  if (!demo) {
    demo = join(scratch, 'demo');
    execFileSync(binary, ['demo', '--dir', demo], { stdio: 'inherit' });
  }
  base = await startServer(join(demo, 'fleetlog.toml'));
  context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1400, height: 1800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
  });
  page = context.pages()[0] || (await context.newPage());
  // The page must work offline: refuse every request that is not to our server.
  await context.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  page.on('pageerror', (e) => console.error('page error:', e));
});

after(async () => {
  await context?.close();
  server?.kill('SIGTERM');
  if (!process.env.ARTIFACTS_DIR) rmSync(scratch, { recursive: true, force: true });
});

const PANELS = ['fleet', 'workload', 'latency', 'alerts', 'alerts-by-cluster', 'slowest'];

// Waits until the page has drawn the newest filter change completely.
async function waitPanelsSettled() {
  await page.waitForFunction(() => document.body.dataset.settled === String(window.fleetlog.generation), null,
                             { timeout: 60000 });
}

// Sum of every dataset of a chart, and its number of datasets.
const chartSummary = (name) => page.evaluate((n) => {
  const c = window.fleetlog.charts[n];
  return { datasets: c.data.datasets.length, labels: c.data.labels.length,
           sum: c.data.datasets.reduce((s, d) => s + d.data.reduce((a, v) => a + (Number(v) || 0), 0), 0) };
}, name);

// Share of a canvas's pixels that are not transparent or white: a drawn chart has some.
const inkOnCanvas = (id) => page.evaluate((canvasId) => {
  const c = document.getElementById(canvasId);
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) ink++;
  return ink / (data.length / 4);
}, id);

test('the dashboard renders every panel with data', async () => {
  await page.goto(base + '/');
  await page.selectOption('#range', '7d');
  await waitPanelsSettled();
  for (const p of PANELS) {
    const s = await page.getAttribute('#' + p, 'data-state');
    assert.equal(s, 'ready', `panel ${p} is ${s}: ${await page.textContent('#' + p + ' .panel-message').catch(() => '')}`);
    assert.ok(Number(await page.getAttribute('#' + p, 'data-rows')) > 0, `panel ${p} has rows`);
  }
  assert.ok((await page.locator('#fleet tbody tr').count()) >= 3);
  assert.ok((await page.locator('#slowest tbody tr').count()) > 0);
  const text = await page.textContent('#slowest tbody tr:first-child pre');
  assert.match(text.toLowerCase(), /select/);
  for (const name of ['queries', 'latency', 'alerts']) assert.ok((await chartSummary(name)).sum > 0, `chart ${name} has data`);
  assert.ok((await chartSummary('alerts')).datasets <= 10, 'alert types beyond the top nine are summed into "other"');
  for (const id of ['chart-queries', 'chart-latency', 'chart-alerts']) assert.ok((await inkOnCanvas(id)) > 0.01, `${id} is drawn`);
  const shot = await page.screenshot({ fullPage: true, path: join(artifacts, 'dashboard.png') });
  assert.equal(shot.subarray(1, 4).toString(), 'PNG');
  const chartShot = await page.locator('#chart-queries').screenshot({ path: join(artifacts, 'queries.png') });
  assert.ok(chartShot.length > 5000, 'the chart screenshot has content');
});

test('the filters change what the charts show', async () => {
  await page.goto(base + '/');
  await page.selectOption('#range', '7d');
  await waitPanelsSettled();
  const all = await chartSummary('queries');
  assert.ok(all.datasets >= 2, 'one line per cluster');
  const cluster = await page.locator('#cluster option').nth(1).getAttribute('value');
  await page.selectOption('#cluster', cluster);
  await waitPanelsSettled();
  assert.equal(await page.getAttribute('#workload', 'data-state'), 'ready');
  const one = await chartSummary('queries');
  assert.ok(one.sum > 0 && one.sum < all.sum, `one cluster (${one.sum}) shows fewer queries than all (${all.sum})`);
  const fleetRows = await page.locator('#fleet tbody tr td:first-child').allTextContents();
  assert.ok(fleetRows.every((c) => c === cluster), 'the fleet table shows the chosen cluster only');

  await page.selectOption('#cluster', '');
  await page.selectOption('#range', '1h');
  await waitPanelsSettled();
  assert.equal(await page.getAttribute('#workload', 'data-state'), 'ready');
  const hour = await chartSummary('queries');
  assert.equal(hour.datasets, all.datasets, 'every cluster is back');
  assert.ok(hour.sum < all.sum, `the last hour (${hour.sum}) shows fewer queries than a week (${all.sum})`);
});

test('the SQL editor runs a query, pages through it, downloads CSV and cancels', async () => {
  await page.goto(base + '/');
  await page.fill('#sql', 'SELECT cluster, query, starttime FROM stl_query ORDER BY cluster, query');
  await page.click('#run');
  await page.waitForSelector('#editor[data-state="finished"]', { timeout: 60000 });
  const total = Number(/of (\d+)/.exec(await page.textContent('#sql-status'))[1]);
  assert.ok(total > 1000, `the result spans pages (${total} rows)`);
  assert.match(await page.textContent('#sql-status'), /rows 1–1000 of/);
  const firstRow = await page.textContent('#results tbody tr:first-child');
  await page.click('#next');
  await page.waitForSelector('#editor[data-page="1"]');
  assert.match(await page.textContent('#sql-status'), /rows 1001–/);
  assert.notEqual(await page.textContent('#results tbody tr:first-child'), firstRow);
  await page.click('#prev');
  await page.waitForSelector('#editor[data-page="0"]');
  assert.equal(await page.textContent('#results tbody tr:first-child'), firstRow);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const file = join(scratch, 'result.csv');
  await download.saveAs(file);
  const csv = readFileSync(file, 'utf8').split('\r\n');
  assert.equal(csv[0], 'cluster,query,starttime');
  assert.equal(csv.filter((l) => l).length, total + 1);

  await page.fill('#sql', 'SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3');
  await page.click('#run');
  await page.waitForFunction(() => /STARTED/.test(document.getElementById('sql-status').textContent), null, { timeout: 30000 });
  await page.click('#cancel');
  await page.waitForSelector('#editor[data-state="aborted"]', { timeout: 30000 });
  assert.match(await page.textContent('#sql-status'), /ABORTED/);
  writeFileSync(join(artifacts, 'editor.txt'), await page.textContent('#editor'));
});
