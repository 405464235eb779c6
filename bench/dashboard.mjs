// Dashboard load times in Chromium: the fleet page of a many-cluster demo lake and a 30-day
// cluster page, each beside the same page with its workload panels computed from raw tables
// only (?src=raw: no hourly roll-ups). A load is timed from navigation until every panel has
// drawn (body[data-settled], set when the last panel's data has arrived and been rendered).
//
//   FLEETLOG=build/fleetlog node bench/dashboard.mjs
//
// Sizes (environment; defaults are the full benchmark, DASH_QUICK=1 a smoke run):
//   DASH_FLEET_CLUSTERS=200 DASH_FLEET_DAYS=2      the fleet page's lake (range: last 24 hours)
//   DASH_CLUSTER_CLUSTERS=20 DASH_CLUSTER_DAYS=30  the cluster page's lake (range: last 30 days)
//   DASH_REPS=5                                    loads of each page (median; one warm-up first)
//   BENCH_DIR=folder (default a new /tmp/fleetlog-dash-*), BENCH_KEEP=1 keeps it; a lake already
//   in BENCH_DIR from an earlier run of the same size is reused, caught up to now by one cycle
// Prints one line per measurement and the load average beside it; asserts nothing.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const quick = process.env.DASH_QUICK === '1';
const env = (name, full, small) => Number(process.env[name] || (quick ? small : full));
const sizes = {
  fleetClusters: env('DASH_FLEET_CLUSTERS', 200, 20), fleetDays: env('DASH_FLEET_DAYS', 2, 2),
  clusterClusters: env('DASH_CLUSTER_CLUSTERS', 20, 3), clusterDays: env('DASH_CLUSTER_DAYS', 30, 7),
  reps: env('DASH_REPS', 5, 3),
};
const binary = process.env.FLEETLOG || [join(root, 'build-bench/fleetlog'), join(root, 'build/fleetlog')].find(existsSync);
const dir = process.env.BENCH_DIR || mkdtempSync(join(tmpdir(), 'fleetlog-dash-'));
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const seconds = (ms) => (ms / 1000).toFixed(2) + ' s';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function makeLake(name, clusters, days) {
  const demo = join(dir, `${name}-${clusters}x${days}`);
  const config = join(demo, 'fleetlog.toml');
  const started = Date.now();
  const reused = existsSync(config);
  if (!reused) {
    execFileSync(binary, ['demo', '--dir', demo, '--clusters', String(clusters), '--days', String(days)], { stdio: ['ignore', 'ignore', 'ignore'] });
  }
  // One `fleetlog run` cycle: the export up to now, the hourly roll-ups of closed days and
  // the anomaly scores.
  execFileSync(binary, ['--config', config, 'run', '--cycles', '1'], { stdio: ['ignore', 'ignore', 'ignore'] });
  console.log(`lake ${name}: ${clusters} clusters x ${days} days, ${reused ? 'reused and caught up' : 'made'} in ` +
              `${seconds(Date.now() - started)} (load ${load()})`);
  return config;
}

function serve(config) {
  const server = spawn(binary, ['--config', config, 'serve', '--listen', '127.0.0.1:0', '--no-access-log'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /serving the API and dashboard on (\S+):(\d+)/.exec(log);
      if (m) resolve({ server, base: `http://127.0.0.1:${m[2]}` });
    });
    server.on('exit', (code) => reject(new Error(`the server exited with ${code}: ${log}`)));
  });
}

async function timeLoads(browser, url, panels) {
  const times = [];
  for (let i = 0; i <= sizes.reps; i++) {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    const started = Date.now();
    await page.goto(url, { timeout: 600000 });
    await page.waitForFunction(() => window.fleetlog && document.body.dataset.settled === String(window.fleetlog.generation),
                               null, { timeout: 600000, polling: 20 });
    const elapsed = Date.now() - started;
    for (const p of panels) {
      const state = await page.getAttribute('#' + p, 'data-state');
      if (state !== 'ready') throw new Error(`${url}: panel ${p} is ${state}: ${await page.textContent('#' + p)}`);
    }
    await page.close();
    if (i > 0) times.push(elapsed);  // the first load warms the server's caches
  }
  return median(times);
}

async function measure(config, label, path, panels) {
  const { server, base } = await serve(config);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
                                          args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const rollup = await timeLoads(browser, base + path, panels);
    const raw = await timeLoads(browser, base + path + '&src=raw', panels);
    console.log(`${label}: roll-ups ${seconds(rollup)} | raw tables ${seconds(raw)} | ratio ${(rollup / raw).toFixed(2)} | ` +
                `target < 2 s: ${rollup < 2000 ? 'met' : 'NOT met'} | median of ${sizes.reps} | load ${load()}`);
  } finally {
    await browser.close();
    // The next page's server may start only once this one has let go of the lake's folders.
    const exited = server.exitCode !== null || server.signalCode !== null
      ? Promise.resolve() : new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
}

try {
  if (!binary) throw new Error('no fleetlog binary: build it or set FLEETLOG');
  console.log(`dashboard benchmark (${JSON.stringify(sizes)}), load ${load()}`);
  const fleet = makeLake('fleet', sizes.fleetClusters, sizes.fleetDays);
  await measure(fleet, `fleet page, ${sizes.fleetClusters} clusters, last 24 hours`, '/?range=24h', ['fleet']);
  await measure(fleet, `fleet page, ${sizes.fleetClusters} clusters, last 7 days`, '/?range=7d', ['fleet']);
  const cluster = makeLake('cluster', sizes.clusterClusters, sizes.clusterDays);
  await measure(cluster, `cluster page, ${sizes.clusterDays} days of history, last 30 days`, '/?p=cluster&cluster=sim-1&range=30d',
                ['workload', 'runtime', 'aborted-disk', 'export-runs', 'slowest']);
} finally {
  if (!process.env.BENCH_KEEP && !process.env.BENCH_DIR) rmSync(dir, { recursive: true, force: true });
}
