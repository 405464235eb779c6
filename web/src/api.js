// The HTTP API (DESIGN.md): JSON calls with the session's bearer token, and SQL run to the end
// through the statements API. Every number on the dashboard comes from here.

export const session = { token: sessionStorage.getItem('fleetlog-token') || '', onUnauthorized: () => {} };

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session.token) headers.Authorization = 'Bearer ' + session.token;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) session.onUnauthorized();
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error || res.statusText);
  return data;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TERMINAL = new Set(['FINISHED', 'FAILED', 'ABORTED']);

// Submits SQL with those of `params` it names (:name); retries while the workgroup's queue is full.
export async function submit(sql, params = {}) {
  const parameters = Object.entries(params)
    .filter(([name]) => new RegExp(':' + name + '\\b').test(sql))
    .map(([name, value]) => ({ name, value }));
  for (let attempt = 0; ; attempt++) {
    try {
      return (await api('POST', '/v1/statements', { sql, parameters })).id;
    } catch (e) {
      if (e.status !== 429 || attempt > 80) throw e;
      await sleep(100 + 50 * Math.min(attempt, 8));
    }
  }
}

// Waits for the statement to end through the server's long poll (GET ...?wait=D): each
// answer comes as soon as the statement ends, or, while it runs, after a second when there
// is an onStatus to tell (the SQL editor's status line), else after 30 s.
// The path of statement `id`, or of its `part` ('result', 'cancel').
export function statementPath(id, part) {
  return `/v1/statements/${encodeURIComponent(id)}` + (part ? '/' + part : '');
}

export async function waitDone(id, onStatus) {
  const step = onStatus ? '1s' : '30s';
  for (;;) {
    const d = await api('GET', `${statementPath(id)}?wait=${step}`);
    if (onStatus) onStatus(d);
    if (TERMINAL.has(d.status)) return d;
  }
}

export async function resultPage(id, token) {
  return api('GET', statementPath(id, 'result') + (token ? '?next_token=' + encodeURIComponent(token) : ''));
}

// Runs SQL to the end and returns { columns, rows } with every row. Rows are arrays; numbers
// arrive as JSON numbers or strings (BIGINT), so callers use Number() where they need one.
// The first page is asked for with a wait, so it arrives in the round trip that learns of
// the end; a statement still running after that wait, or one that failed, goes the long way.
export async function query(sql, params) {
  const id = await submit(sql, params);
  let page;
  try {
    page = await api('GET', `${statementPath(id, 'result')}?wait=30s`);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 400) throw e;
    const d = await waitDone(id);
    if (d.status !== 'FINISHED') throw new Error(d.error || d.status);
    page = await resultPage(id);
  }
  const columns = page.columns;
  let rows = page.records;
  while (page.next_token) {
    page = await resultPage(id, page.next_token);
    rows = rows.concat(page.records);
  }
  return { columns, rows };
}

// Rows as objects keyed by column name.
export async function queryObjects(sql, params) {
  const r = await query(sql, params);
  const names = r.columns.map((c) => c.name);
  return r.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
}
