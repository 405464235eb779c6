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

export async function waitDone(id, onStatus) {
  // Polls every 15 ms at first, then at most every 100 ms: a page waits for its slowest
  // statement, and a coarser step added up to 300 ms to each load.
  for (let delay = 15; ; delay = Math.min(delay * 1.5, 100)) {
    const d = await api('GET', '/v1/statements/' + encodeURIComponent(id));
    if (onStatus) onStatus(d);
    if (TERMINAL.has(d.status)) return d;
    await sleep(delay);
  }
}

export async function resultPage(id, token) {
  return api('GET', `/v1/statements/${id}/result` + (token ? '?next_token=' + encodeURIComponent(token) : ''));
}

// Runs SQL to the end and returns { columns, rows } with every row. Rows are arrays; numbers
// arrive as JSON numbers or strings (BIGINT), so callers use Number() where they need one.
export async function query(sql, params) {
  const id = await submit(sql, params);
  const d = await waitDone(id);
  if (d.status !== 'FINISHED') throw new Error(d.error || d.status);
  let rows = [], columns = [], token = null;
  do {
    const page = await resultPage(id, token);
    columns = page.columns;
    rows = rows.concat(page.records);
    token = page.next_token;
  } while (token);
  return { columns, rows };
}

// Rows as objects keyed by column name.
export async function queryObjects(sql, params) {
  const r = await query(sql, params);
  const names = r.columns.map((c) => c.name);
  return r.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
}
