// The Redshift Data API protocol driven by the real AWS clients against one `fleetlog serve`
// over a demo lake:
//   - the AWS CLI from Debian (/usr/bin/aws, an older model: no GetStatementResultV2);
//   - boto3 from Debian (/usr/bin/python3, tests/aws/boto3_walk.py);
//   - the current AWS SDK for JavaScript (@aws-sdk/client-redshift-data, every operation).
// Each runs a statement, waits, pages through a multi-page result, cancels a long one, runs a
// batch, lists statements and tables, and meets errors (bad SQL, unknown id, bad signature,
// a full queue).
//
//   FLEETLOG_BINARY=build/fleetlog node --test tests/aws/
//
// The server's default workgroup runs one statement and queues none, so a second statement
// beside a running one is refused: that is the "queue full" case. Every walk waits for each
// of its statements to end before the next, so nothing else trips over it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, appendFileSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  RedshiftDataClient, ExecuteStatementCommand, BatchExecuteStatementCommand, DescribeStatementCommand,
  GetStatementResultCommand, GetStatementResultV2Command, CancelStatementCommand, ListStatementsCommand,
  ListDatabasesCommand, ListSchemasCommand, ListTablesCommand, DescribeTableCommand, paginateGetStatementResult,
} from '@aws-sdk/client-redshift-data';

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.env.FLEETLOG_BINARY;
const KEY_ID = 'AKIAFLEETLOGWALK0001';
const SECRET = randomBytes(20).toString('base64');
const CLUSTER = 'fleet-prod';  // mapped to the default workgroup in the config below
const LONG_SQL = 'SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3';
const ROWS = 2500;  // three pages of 1000
let server, base, scratch, clusters;

// The environment a client needs: credentials and region, and nothing from this machine's
// own AWS configuration.
function clientEnv(secret = SECRET) {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: join(scratch, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-aws-credentials'), AWS_PAGER: '' };
  for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_REDSHIFT_DATA']) delete env[k];
  return env;
}

function fleetlog(args, input) {
  return execFileSync(binary, ['--config', join(scratch, 'demo', 'fleetlog.toml'), ...args],
    { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] }).toString();
}

before(async () => {
  assert.ok(binary, 'set FLEETLOG_BINARY to the fleetlog executable');
  scratch = mkdtempSync(join(tmpdir(), 'fleetlog-aws-'));
  execFileSync(binary, ['demo', '--dir', join(scratch, 'demo'), '--clusters', '2', '--days', '1'], { stdio: 'ignore' });
  const config = join(scratch, 'demo', 'fleetlog.toml');
  assert.doesNotMatch(readFileSync(config, 'utf8'), /^\[server\]|^\[\[workgroup\]\]/m);
  appendFileSync(config, `
[server]
max_body = "256KB"

[server.data_api]
workgroups = { "${CLUSTER}" = "default" }

[[server.access_key]]
name = "walker"
access_key_id = "${KEY_ID}"
secret_access_key_secret = "walker-aws"

[[workgroup]]
name = "default"
max_concurrent = 1
max_queued = 0
`);
  fleetlog(['secrets', 'set', 'walker-aws'], SECRET);
  clusters = JSON.parse(fleetlog(['query', '--format', 'json', 'select count(distinct cluster) as n from stl_query']))[0].n;
  assert.ok(clusters >= 1);
  server = spawn(binary, ['--config', config, 'serve', '--listen', '127.0.0.1:0', '--no-access-log'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start: ' + log)), 60000);
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /serving the API and dashboard on (\S+):(\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(`http://127.0.0.1:${m[2]}`); }
    });
    server.on('exit', (code) => reject(new Error(`the server exited with ${code}: ${log}`)));
  });
});

after(() => {
  server?.kill('SIGTERM');
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// The JavaScript SDK: every operation, GetStatementResultV2 included.

function jsClient(secret = SECRET) {
  return new RedshiftDataClient({ endpoint: base, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: KEY_ID, secretAccessKey: secret } });
}

async function waitDone(client, id) {
  for (;;) {
    const d = await client.send(new DescribeStatementCommand({ Id: id }));
    if (['FINISHED', 'FAILED', 'ABORTED'].includes(d.Status)) return d;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rejectsWith(promise, name) {
  await assert.rejects(promise, (e) => { assert.equal(e.name, name, e.message); return true; });
}

test('JavaScript SDK: every operation', async () => {
  const client = jsClient();
  const conn = { ClusterIdentifier: CLUSTER, Database: 'fleetlog', DbUser: 'walker' };

  assert.deepEqual((await client.send(new ListDatabasesCommand(conn))).Databases, ['fleetlog']);
  assert.deepEqual((await client.send(new ListSchemasCommand(conn))).Schemas, ['public']);
  const tables = (await client.send(new ListTablesCommand({ ...conn, TablePattern: 'stl_query%' }))).Tables;
  assert.deepEqual(tables.find((t) => t.name === 'stl_query'), { name: 'stl_query', schema: 'public', type: 'TABLE' });
  assert.deepEqual(tables.find((t) => t.name === 'stl_querytext_full'),
    { name: 'stl_querytext_full', schema: 'public', type: 'VIEW' });
  const described = await client.send(new DescribeTableCommand({ ...conn, Table: 'stl_query' }));
  assert.equal(described.TableName, 'stl_query');
  assert.deepEqual(described.ColumnList.slice(-2).map((c) => [c.name, c.typeName]), [['cluster', 'varchar'], ['dt', 'date']]);

  // A query over the lake.
  const lake = await client.send(new ExecuteStatementCommand({ ...conn, StatementName: 'js-lake',
    Sql: 'SELECT cluster, count(*) AS n FROM stl_query GROUP BY 1 ORDER BY 1' }));
  assert.ok(lake.CreatedAt instanceof Date);
  assert.equal(lake.ClusterIdentifier, CLUSTER);
  const lakeDone = await waitDone(client, lake.Id);
  assert.equal(lakeDone.Status, 'FINISHED', lakeDone.Error);
  assert.equal(lakeDone.ResultRows, clusters);
  const lakeRows = await client.send(new GetStatementResultCommand({ Id: lake.Id }));
  assert.equal(lakeRows.Records.length, clusters);
  assert.equal(typeof lakeRows.Records[0][0].stringValue, 'string');
  assert.ok(lakeRows.Records[0][1].longValue > 0);

  // A multi-page result, by hand and with the SDK's paginator.
  const big = await client.send(new ExecuteStatementCommand({ ...conn,
    Sql: `SELECT i, i * 0.5 AS half, 'row ' || i AS label, i % 2 = 0 AS even, NULL AS nothing FROM range(${ROWS}) t(i) ORDER BY i` }));
  assert.equal((await waitDone(client, big.Id)).Status, 'FINISHED');
  const seen = [];
  const tokens = new Set();
  let NextToken;
  do {
    const page = await client.send(new GetStatementResultCommand({ Id: big.Id, NextToken }));
    assert.equal(page.TotalNumRows, ROWS);
    for (const row of page.Records) {
      for (const cell of row) assert.equal(Object.keys(cell).length, 1, JSON.stringify(cell));
      seen.push(row[0].longValue);
      assert.equal(row[2].stringValue, `row ${row[0].longValue}`);
      assert.equal(row[3].booleanValue, row[0].longValue % 2 === 0);
      assert.equal(row[4].isNull, true);
    }
    NextToken = page.NextToken;
    if (NextToken) { assert.ok(!tokens.has(NextToken)); tokens.add(NextToken); }
  } while (NextToken);
  assert.equal(tokens.size, 2);
  assert.deepEqual(seen, [...Array(ROWS).keys()]);
  let paged = 0;
  for await (const page of paginateGetStatementResult({ client }, { Id: big.Id })) paged += page.Records.length;
  assert.equal(paged, ROWS);

  // CSV through GetStatementResultV2.
  const csv = await client.send(new ExecuteStatementCommand({ ...conn, ResultFormat: 'CSV',
    Sql: `SELECT i, 'a,b' AS s FROM range(${ROWS}) t(i) ORDER BY i` }));
  assert.equal((await waitDone(client, csv.Id)).Status, 'FINISHED');
  let text = '';
  NextToken = undefined;
  do {
    const page = await client.send(new GetStatementResultV2Command({ Id: csv.Id, NextToken }));
    assert.equal(page.ResultFormat, 'CSV');
    text += page.Records.map((r) => r.CSVRecords).join('');
    NextToken = page.NextToken;
  } while (NextToken);
  const lines = text.split('\r\n').filter((l) => l !== '');
  assert.equal(lines.length, ROWS + 1);
  assert.equal(lines[0], 'i,s');
  assert.equal(lines[ROWS], `${ROWS - 1},"a,b"`);

  // Cancel a long statement; while it runs, the queue is full.
  const long = await client.send(new ExecuteStatementCommand({ ...conn, Sql: LONG_SQL }));
  for (let d; (d = await client.send(new DescribeStatementCommand({ Id: long.Id }))).Status !== 'STARTED';)
    assert.ok(['SUBMITTED', 'PICKED'].includes(d.Status), d.Status);
  await rejectsWith(client.send(new ExecuteStatementCommand({ ...conn, Sql: 'SELECT 1' })), 'ActiveStatementsExceededException');
  assert.equal((await client.send(new CancelStatementCommand({ Id: long.Id }))).Status, true);
  assert.equal((await waitDone(client, long.Id)).Status, 'ABORTED');
  await rejectsWith(client.send(new CancelStatementCommand({ Id: long.Id })), 'ValidationException');

  // A batch.
  const batch = await client.send(new BatchExecuteStatementCommand({ ...conn, StatementName: 'js-batch',
    Sqls: ['SELECT 1 AS one', 'SELECT 2 AS two, 3 AS three'], ClientToken: randomBytes(8).toString('hex') }));
  const batchDone = await waitDone(client, batch.Id);
  assert.equal(batchDone.Status, 'FINISHED');
  assert.deepEqual(batchDone.SubStatements.map((s) => [s.Id, s.Status]),
    [[`${batch.Id}:1`, 'FINISHED'], [`${batch.Id}:2`, 'FINISHED']]);
  assert.deepEqual((await client.send(new GetStatementResultCommand({ Id: `${batch.Id}:2` }))).Records,
    [[{ longValue: 2 }, { longValue: 3 }]]);

  // The list, newest first, filtered by name and status.
  const listed = await client.send(new ListStatementsCommand({ StatementName: 'js-', Status: 'ALL' }));
  assert.deepEqual(listed.Statements.map((s) => s.Id), [batch.Id, lake.Id]);
  assert.equal(listed.Statements[0].IsBatchStatement, true);
  assert.ok(listed.Statements[1].CreatedAt instanceof Date);
  const aborted = await client.send(new ListStatementsCommand({ Status: 'ABORTED' }));
  assert.ok(aborted.Statements.some((s) => s.Id === long.Id));

  // Errors.
  const bad = await client.send(new ExecuteStatementCommand({ ...conn, Sql: 'SELEC nonsense' }));
  const badDone = await waitDone(client, bad.Id);
  assert.equal(badDone.Status, 'FAILED');
  assert.match(badDone.Error, /syntax/i);
  await rejectsWith(client.send(new DescribeStatementCommand({ Id: '00000000-0000-0000-0000-000000000000' })),
    'ResourceNotFoundException');
  await rejectsWith(jsClient('not-the-secret').send(new ListDatabasesCommand(conn)), 'InvalidSignatureException');
});

// One service, two protocols: a statement submitted through /v1/ (no [[server.token]] here,
// so loopback /v1/ is open) is the same statement through the SDK, and the other way round.
async function v1(path, body) {
  const res = await fetch(base + path, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

async function v1Wait(id) {
  for (;;) {
    const d = await v1(`/v1/statements/${id}`);
    if (['FINISHED', 'FAILED', 'ABORTED'].includes(d.status)) return d;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('JavaScript SDK and /v1/: one service, two protocols', async () => {
  const client = jsClient();
  // /v1/ -> the Data API: the same status, row count and rows.
  const { id } = await v1('/v1/statements', { sql: 'SELECT cluster, count(*) AS n FROM stl_query GROUP BY 1 ORDER BY 1' });
  const viaV1 = await v1Wait(id);
  assert.equal(viaV1.status, 'FINISHED');
  const viaAws = await client.send(new DescribeStatementCommand({ Id: id }));
  assert.equal(viaAws.Status, viaV1.status);
  assert.equal(viaAws.ResultRows, viaV1.result_rows);
  const awsRows = (await client.send(new GetStatementResultCommand({ Id: id }))).Records;
  const v1Rows = (await v1(`/v1/statements/${id}/result`)).records;
  assert.equal(awsRows.length, clusters);
  assert.deepEqual(awsRows.map((r) => [r[0].stringValue, r[1].longValue]), v1Rows);
  // The Data API -> /v1/, a failure included.
  const sent = await client.send(new ExecuteStatementCommand({ Database: 'fleetlog', Sql: 'SELECT 6 * 7 AS answer' }));
  assert.equal((await waitDone(client, sent.Id)).Status, 'FINISHED');
  assert.equal((await v1Wait(sent.Id)).status, 'FINISHED');
  assert.deepEqual((await v1(`/v1/statements/${sent.Id}/result`)).records, [[42]]);
  const bad = await client.send(new ExecuteStatementCommand({ Database: 'fleetlog', Sql: 'SELECT nothing FROM nowhere' }));
  const badAws = await waitDone(client, bad.Id);
  const badV1 = await v1Wait(bad.Id);
  assert.equal(badAws.Status, 'FAILED');
  assert.equal(badV1.status, 'FAILED');
  assert.equal(badV1.error, badAws.Error);
  // Both lists hold both statements, newest first.
  const awsList = (await client.send(new ListStatementsCommand({ MaxResults: 3 }))).Statements.map((s) => s.Id);
  const v1List = (await v1('/v1/statements')).statements.slice(0, 3).map((s) => s.id);
  assert.deepEqual(awsList, [bad.Id, sent.Id, id]);
  assert.deepEqual(v1List, awsList);
});

// Bad input, signed correctly by the SDK: a middleware changes the request before signing.
test('JavaScript SDK: malformed JSON, unknown targets, wrong content types and oversized bodies', async () => {
  const tampered = (change) => {
    const client = jsClient();
    client.middlewareStack.add((next) => async (args) => { change(args.request); return next(args); },
      { step: 'build', name: 'tamper', priority: 'high' });
    return client;
  };
  const cases = [
    ['malformed JSON', (r) => { r.body = '{"Sql": '; }, 'SerializationException', 400],
    ['unknown target', (r) => { r.headers['x-amz-target'] = 'RedshiftData.DropDatabase'; }, 'UnknownOperationException', 400],
    ['wrong content type', (r) => { r.headers['content-type'] = 'text/plain'; }, 'UnsupportedMediaTypeException', 415],
    ['oversized body', (r) => { r.body = JSON.stringify({ Sql: 'x'.repeat(300 << 10) }); }, 'RequestEntityTooLargeException', 413],
  ];
  for (const [what, change, name, status] of cases) {
    await assert.rejects(tampered(change).send(new ListDatabasesCommand({ Database: 'fleetlog' })), (e) => {
      assert.equal(e.name, name, `${what}: ${e.message}`);
      assert.equal(e.$metadata.httpStatusCode, status, what);
      return true;
    });
  }
});

// ---------------------------------------------------------------------------------------
// The AWS CLI from Debian.

function aws(args, { secret, fail } = {}) {
  const r = spawnSync('/usr/bin/aws', ['--endpoint-url', base, '--region', 'us-east-1', '--output', 'json',
    '--no-cli-pager', 'redshift-data', ...args], { env: clientEnv(secret), encoding: 'utf8' });
  if (fail) {
    assert.notEqual(r.status, 0, `aws ${args.join(' ')} succeeded: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(`\\(${fail}\\)`), `aws ${args.join(' ')}: ${r.stderr}`);
    return r.stderr;
  }
  assert.equal(r.status, 0, `aws ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

function awsWait(id) {
  for (;;) {
    const d = aws(['describe-statement', '--id', id]);
    if (['FINISHED', 'FAILED', 'ABORTED'].includes(d.Status)) return d;
  }
}

test('AWS CLI from Debian', () => {
  const conn = ['--cluster-identifier', CLUSTER, '--database', 'fleetlog'];
  assert.ok(spawnSync('/usr/bin/aws', ['--version'], { encoding: 'utf8' }).stdout.startsWith('aws-cli/2.9'));

  const run = aws(['execute-statement', ...conn, '--statement-name', 'cli-pages',
    '--sql', `SELECT i, 'row ' || i AS label FROM range(${ROWS}) t(i) ORDER BY i`]);
  assert.match(run.Id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const done = awsWait(run.Id);
  assert.equal(done.Status, 'FINISHED');
  assert.equal(done.ResultRows, ROWS);
  // One page by hand, then the CLI's own pagination through all of them.
  const first = aws(['get-statement-result', '--id', run.Id, '--no-paginate']);
  assert.equal(first.Records.length, 1000);
  assert.ok(first.NextToken);
  const second = aws(['get-statement-result', '--id', run.Id, '--no-paginate', '--next-token', first.NextToken]);
  assert.equal(second.Records[0][0].longValue, 1000);
  const all = aws(['get-statement-result', '--id', run.Id]);
  assert.equal(all.Records.length, ROWS);
  assert.deepEqual(all.Records[ROWS - 1], [{ longValue: ROWS - 1 }, { stringValue: `row ${ROWS - 1}` }]);

  const long = aws(['execute-statement', ...conn, '--sql', LONG_SQL]);
  for (let status; (status = aws(['describe-statement', '--id', long.Id]).Status) !== 'STARTED';)
    assert.ok(['SUBMITTED', 'PICKED'].includes(status), status);
  aws(['execute-statement', ...conn, '--sql', 'SELECT 1'], { fail: 'ActiveStatementsExceededException' });
  assert.equal(aws(['cancel-statement', '--id', long.Id]).Status, true);
  assert.equal(awsWait(long.Id).Status, 'ABORTED');

  const batch = aws(['batch-execute-statement', ...conn, '--statement-name', 'cli-batch',
    '--sqls', 'SELECT 1 AS one', 'SELECT 2 AS two']);
  const batchDone = awsWait(batch.Id);
  assert.equal(batchDone.SubStatements.length, 2);
  assert.deepEqual(aws(['get-statement-result', '--id', `${batch.Id}:2`]).Records, [[{ longValue: 2 }]]);

  const listed = aws(['list-statements', '--statement-name', 'cli-']).Statements.map((s) => s.Id);
  assert.deepEqual(listed, [batch.Id, run.Id]);
  const tables = aws(['list-tables', ...conn, '--table-pattern', 'stl_%']).Tables.map((t) => t.name);
  assert.ok(tables.includes('stl_query') && tables.includes('stl_querytext_full'), tables.join(','));
  const columns = aws(['describe-table', ...conn, '--table', 'stl_query']).ColumnList.map((c) => c.name);
  assert.ok(columns.includes('cluster') && columns.includes('dt'));
  assert.deepEqual(aws(['list-databases', ...conn]).Databases, ['fleetlog']);

  const bad = aws(['execute-statement', ...conn, '--sql', 'SELEC nonsense']);
  const badDone = awsWait(bad.Id);
  assert.equal(badDone.Status, 'FAILED');
  assert.ok(badDone.Error);
  aws(['describe-statement', '--id', '00000000-0000-0000-0000-000000000000'], { fail: 'ResourceNotFoundException' });
  aws(['list-databases', ...conn], { secret: 'not-the-secret', fail: 'InvalidSignatureException' });
});

// ---------------------------------------------------------------------------------------
// boto3 from Debian.

test('boto3 from Debian', () => {
  const r = spawnSync('/usr/bin/python3', [join(here, 'boto3_walk.py')], {
    env: { ...clientEnv(), FLEETLOG_ENDPOINT: base, FLEETLOG_CLUSTER: CLUSTER, FLEETLOG_ROWS: String(ROWS),
      FLEETLOG_LONG_SQL: LONG_SQL, FLEETLOG_CLUSTERS: String(clusters) },
    encoding: 'utf8' });
  assert.equal(r.status, 0, `boto3 walk failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^boto3 1\.26\.\d+: ok/m);
});
