// Unit tests of the dashboard's pure logic (no browser): URL state, ranges and buckets,
// statement shapes and the panels' SQL run against nothing but its text.
//   node --test tests/web/
import { test } from 'node:test';
import assert from 'node:assert/strict';

globalThis.location = { pathname: '/', search: '' };
const { readUrl, urlOf, rangeOf, bucketFor, DEFAULTS } = await import('../../web/src/state.js');
const { shapeOf, literalFreePrefix, formatSql, fmtSeconds, fmtShare } = await import('../../web/src/format.js');
const { metricsSql } = await import('../../web/src/panels.js');

test('the URL holds the state and gives it back', () => {
  const s = { ...DEFAULTS, p: 'query', cluster: 'sim-2', query: '123', range: '7d', tz: 'utc', sql: "SELECT 'a&b' -- x" };
  const url = urlOf(s);
  assert.equal(url.startsWith('/?'), true);
  assert.deepEqual(readUrl(url.slice(1)), s);
  assert.equal(urlOf(DEFAULTS), '/', 'defaults leave the URL bare');
  assert.equal(readUrl('?range=bogus').range, DEFAULTS.range, 'an unknown range falls back');
  assert.equal(readUrl('?range=custom&from=x&to=y').range, DEFAULTS.range, 'a custom range needs valid times');
});

test('ranges end now unless custom, and buckets keep charts to a bounded number of points', () => {
  const now = new Date('2026-12-01T10:00:30Z');
  const r = rangeOf({ ...DEFAULTS, range: '24h' }, now);
  assert.equal(r.live, true);
  assert.equal(r.to.toISOString(), '2026-12-01T10:01:00.000Z');
  assert.equal(r.to - r.from, 24 * 3600e3);
  const c = rangeOf({ ...DEFAULTS, range: 'custom', from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }, now);
  assert.equal(c.live, false);
  assert.equal(bucketFor(r, 48), 1800);
  assert.equal(bucketFor({ from: new Date(0), to: new Date(30 * 86400e3) }, 48), 86400);
  assert.equal(bucketFor({ from: new Date(0), to: new Date(30 * 86400e3) }, 120), 6 * 3600);
});

test('a statement shape ignores literals, blanks and case', () => {
  const a = "SELECT * FROM sales WHERE id = 42 AND region = 'eu-west'  AND x > 3.5";
  const b = "select *  from sales where id = 7 and region = 'us''east' and x > 10";
  assert.equal(shapeOf(a), shapeOf(b));
  assert.notEqual(shapeOf(a), shapeOf('SELECT * FROM sales WHERE id = 42'));
  assert.equal(literalFreePrefix(a), 'SELECT * FROM sales WHERE id = ');
  assert.ok(b.toLowerCase().startsWith(literalFreePrefix(b).toLowerCase()));
  assert.equal(shapeOf('SELECT col1 FROM t2'), 'select col1 from t2', 'digits inside names are not literals');
});

test('formatting', () => {
  assert.equal(formatSql("select a, b from t where x = 'from here' and y = 1 order by a"),
               "SELECT a, b\nFROM t\nWHERE x = 'from here'\n  AND y = 1\nORDER BY a");
  assert.equal(fmtSeconds(0.25), '250 ms');
  assert.equal(fmtSeconds(90), '90.0 s');
  assert.equal(fmtSeconds(3 * 3600), '3.0 h');
  assert.equal(fmtShare(0.05), '5.0%');
});

test('hourly buckets read workload_hourly (the engine picks roll-ups or raw rows); finer ones and src=raw the raw tables', () => {
  const tables = new Set(['stl_query', 'stl_wlm_query', 'stl_scan', 'rollup_hourly']);
  const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') };
  const sql = metricsSql({ range, bucketS: 86400, tables, cluster: 'c' });
  assert.match(sql, /FROM workload_hourly WHERE hour >= .* AND dt BETWEEN DATE '2026-11-01' AND DATE '2026-12-01' AND cluster = 'c'/s);
  assert.doesNotMatch(sql, /stl_query|rollup_hourly/, 'the view alone decides');
  const raw = metricsSql({ range, bucketS: 86400, tables, raw: true });
  assert.doesNotMatch(raw, /workload_hourly|rollup_hourly/, 'src=raw: raw tables only');
  assert.match(raw, /FROM stl_query WHERE/);
  const short = metricsSql({ range: { from: range.from, to: new Date('2026-11-01T06:00:00Z') }, bucketS: 300, tables });
  assert.doesNotMatch(short, /workload_hourly/, 'buckets under an hour come from raw tables');
});

test('from raw tables, a cluster exporting both families is measured from STL alone', async () => {
  const { bothFamilies } = await import('../../web/src/panels.js');
  const t = (...names) => names.map((table) => ({ table }));
  const fleet = { clusters: [{ name: 'p', tables: t('stl_query', 'stl_scan') }, { name: 's', tables: t('sys_query_history') },
                             { name: 'b', tables: t('stl_query', 'sys_query_history') }] };
  assert.deepEqual(bothFamilies(fleet), ['b']);
  const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') };
  const tables = new Set(['stl_query', 'sys_query_history', 'sys_query_detail']);
  const sql = metricsSql({ range, bucketS: 3600, tables, raw: true, bothClusters: ['b'] });
  assert.match(sql, /FROM sys_query_history WHERE [^)]*cluster NOT IN \('b'\)/s);
  assert.match(sql, /spilled_block_local_disk > 0/);
  assert.doesNotMatch(metricsSql({ range, bucketS: 3600, tables, raw: true }), /NOT IN/);
});

test('packed metrics: one row per cluster, NULLs kept', async () => {
  const { packedMetricsSql, unpackMetrics } = await import('../../web/src/panels.js');
  const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') };
  assert.match(packedMetricsSql({ range, bucketS: 3600, tables: new Set(["stl_query"]) }), /GROUP BY cluster/);
  assert.deepEqual(unpackMetrics('3600,10,1,2,0.5,;7200,3,0,0,,1.25'), [
    { t: 3600, q: 10, aborted: 1, disk: 2, run: 0.5, queue: null },
    { t: 7200, q: 3, aborted: 0, disk: 0, run: null, queue: 1.25 },
  ]);
  assert.deepEqual(unpackMetrics(null), []);
});

// query() against scripted answers (the server's own are covered by the browser tests): the
// first page comes with the wait; a statement still running after it, or failed, goes the
// long way; every page is followed.
test('query() takes the first page with a wait, falls back to the long poll, and follows pages', async () => {
  globalThis.sessionStorage = { getItem: () => null };
  const { query } = await import('../../web/src/api.js');
  const script = (answers) => {
    const asked = [];
    globalThis.fetch = async (path, init) => {
      asked.push(`${init.method} ${path}`);
      const [status, body] = answers.shift();
      return { status, ok: status === 200, statusText: '', json: async () => body };
    };
    return asked;
  };
  const page = (records, next_token) => ({ columns: [{ name: 'n', type: 'INTEGER' }], records, next_token });

  let asked = script([[200, { id: 's1' }], [200, page([[1], [2]], 't2')], [200, page([[3]])]]);
  assert.deepEqual(await query('SELECT n'), { columns: [{ name: 'n', type: 'INTEGER' }], rows: [[1], [2], [3]] });
  assert.deepEqual(asked, ['POST /v1/statements', 'GET /v1/statements/s1/result?wait=30s',
                           'GET /v1/statements/s1/result?next_token=t2']);

  asked = script([[200, { id: 's2' }], [400, { error: 'statement s2 is STARTED; a result exists once it is FINISHED' }],
                  [200, { status: 'FINISHED' }], [200, page([[7]])]]);
  assert.deepEqual((await query('SELECT n')).rows, [[7]]);
  assert.deepEqual(asked.slice(2), ['GET /v1/statements/s2?wait=30s', 'GET /v1/statements/s2/result']);

  script([[200, { id: 's3' }], [400, { error: 'statement s3 is FAILED: no such column' }],
          [200, { status: 'FAILED', error: 'no such column' }]]);
  await assert.rejects(query('SELECT x'), /no such column/);
});

test("a statement's paths carry its id encoded", async () => {
  globalThis.sessionStorage = globalThis.sessionStorage || { getItem: () => null };
  const { statementPath } = await import('../../web/src/api.js');
  assert.equal(statementPath('0b6c-1'), '/v1/statements/0b6c-1');
  assert.equal(statementPath('a/b c?', 'result'), '/v1/statements/a%2Fb%20c%3F/result');
  assert.equal(statementPath('x', 'cancel'), '/v1/statements/x/cancel');
});
