// The query page: one query of one cluster — its full text (formatted, copyable), timing, WLM
// attempts, the plan from stl_explain, scans per table, alert events with their solutions, and
// the other runs of the same statement shape across the fleet in the range, with their times.
import { queryObjects } from './api.js';
import { sqlTs, sqlDate } from './state.js';
import { shapeSql } from './panels.js';
import { fmtSeconds, fmtCount, fmtTime, fmtBytes, formatSql, literalFreePrefix, unescapeText, el } from './format.js';
import { panel, fill, dataTable } from './ui.js';

export async function renderQuery(ctx) {
  const { state: s, range, tables, alive, main, hrefOf } = ctx;
  const id = Number.parseInt(s.query, 10);
  if (!Number.isFinite(id)) {
    main.replaceChildren(el('p', { class: 'error' }, `"${s.query}" is not a query id`));
    return;
  }
  const params = { cluster: s.cluster, query: id };
  const P = {
    text: panel('query-text', `Query ${id} on ${s.cluster}`, { wide: true }),
    timing: panel('query-timing', 'Timing and WLM attempts'),
    alerts: panel('query-alerts', 'Alert events and solutions', { empty: 'Redshift raised no alert for this query' }),
    plan: panel('query-plan', 'Plan (stl_explain)', { wide: true }),
    scans: panel('query-scans', 'Scans per table'),
    shape: panel('query-shape', 'Other runs of the same statement shape across the fleet', {
      wide: true, note: 'Same text once literal values (strings, numbers) are replaced, in the range chosen above.',
    }),
  };
  main.replaceChildren(...Object.values(P));
  const has = (t) => tables.has(t);
  // The query's own row; its day bounds the other tables' partitions.
  const [q] = await queryObjects(`SELECT query, userid, database, trim(label) AS label, starttime, endtime, aborted, xid, pid,
      epoch(endtime) - epoch(starttime) AS seconds, querytxt, dt FROM stl_query WHERE cluster = :cluster AND query = :query LIMIT 1`, params);
  if (!alive()) return;
  if (!q) {
    for (const p of Object.values(P)) { p.dataset.state = 'empty'; p.querySelector('.panel-message').textContent = 'no such query in the lake'; }
    return;
  }
  const near = `cluster = :cluster AND query = :query AND dt BETWEEN ${sqlDate(new Date(new Date(q.dt).getTime() - 86400e3))} AND ${sqlDate(new Date(new Date(q.dt).getTime() + 86400e3))}`;
  let fullText = q.querytxt;
  const work = [];
  work.push(fill(P.text, alive, async (body) => {
    if (has('stl_querytext')) {
      const [t] = await queryObjects(`SELECT text FROM stl_querytext_full WHERE cluster = :cluster AND query = :query LIMIT 1`, params);
      if (t && t.text) fullText = t.text;
    }
    fullText = unescapeText(fullText);
    const pre = el('pre', { class: 'sql-text', id: 'sql-text' }, formatSql(fullText));
    const copy = el('button', { type: 'button', id: 'copy-sql', onclick: async () => {
      try { await navigator.clipboard.writeText(fullText); copy.textContent = 'copied'; } catch { copy.textContent = 'copy failed: select the text'; }
    } }, 'Copy');
    const meta = el('p', { class: 'muted' }, `user ${q.userid} · database ${String(q.database).trim()} · xid ${q.xid} · pid ${q.pid}`,
                    q.label && q.label !== 'default' ? ` · label ${q.label}` : '', Number(q.aborted) ? ' · ABORTED' : '');
    body.replaceChildren(meta, el('div', { class: 'toolbar' }, copy,
      el('a', { href: hrefOf({ p: 'sql', sql: `SELECT * FROM stl_query WHERE cluster = '${s.cluster}' AND query = ${id}` }) }, 'open in SQL')), pre);
    return 1;
  }));
  work.push(fill(P.timing, alive, async (body) => {
    const attempts = has('stl_wlm_query') ? await queryObjects(`SELECT service_class, trim(service_class_name) AS class, slot_count,
        queue_start_time, total_queue_time / 1e6 AS queue_s, exec_start_time, total_exec_time / 1e6 AS exec_s, trim(final_state) AS final_state,
        est_peak_mem, trim(query_priority) AS priority
      FROM stl_wlm_query WHERE ${near} ORDER BY service_class_start_time`, params) : [];
    const queue = attempts.reduce((x, a) => x + Number(a.queue_s), 0);
    body.replaceChildren(
      el('dl', { class: 'timing' },
        el('dt', {}, 'start'), el('dd', {}, fmtTime(q.starttime, true)),
        el('dt', {}, 'end'), el('dd', {}, fmtTime(q.endtime, true)),
        el('dt', {}, 'queue'), el('dd', { id: 'timing-queue' }, fmtSeconds(queue)),
        el('dt', {}, 'run'), el('dd', { id: 'timing-run' }, fmtSeconds(q.seconds))),
      attempts.length ? dataTable([
        { key: 'class', label: 'service class', render: (a) => a.class || String(a.service_class) },
        { key: 'slot_count', label: 'slots', num: true },
        { key: 'queue_s', label: 'queue', num: true, render: (a) => fmtSeconds(a.queue_s) },
        { key: 'exec_s', label: 'exec', num: true, render: (a) => fmtSeconds(a.exec_s) },
        { key: 'final_state', label: 'final state' },
        { key: 'est_peak_mem', label: 'est. peak memory', num: true, render: (a) => fmtBytes(a.est_peak_mem) },
      ], attempts) : el('p', { class: 'muted' }, 'no WLM attempts recorded'));
    return 1 + attempts.length;
  }));
  work.push(fill(P.alerts, alive, async (body) => {
    if (!has('stl_alert_event_log')) return 0;
    const rows = await queryObjects(`SELECT trim(event) AS event, trim(solution) AS solution, count(*) AS events, min(event_time) AS at
      FROM stl_alert_event_log WHERE ${near} GROUP BY 1, 2 ORDER BY events DESC`, params);
    body.replaceChildren(dataTable([{ key: 'event', label: 'event' }, { key: 'solution', label: 'solution', cls: 'solution' },
                                    { key: 'events', label: 'slices', num: true }], rows));
    return rows.length;
  }));
  work.push(fill(P.plan, alive, async (body) => {
    if (!has('stl_explain')) return 0;
    const nodes = await queryObjects(`SELECT nodeid, parentid, trim(plannode) AS plannode, trim(info) AS info FROM stl_explain
      WHERE ${near} ORDER BY nodeid`, params);
    const depth = new Map();
    const lines = nodes.map((n) => {
      const d = n.parentid === null || Number(n.parentid) === 0 || !depth.has(Number(n.parentid)) ? 0 : depth.get(Number(n.parentid)) + 1;
      depth.set(Number(n.nodeid), d);
      return '  '.repeat(d) + (d ? '-> ' : '') + n.plannode + (n.info ? '\n' + '  '.repeat(d + 2) + n.info : '');
    });
    body.replaceChildren(el('pre', { class: 'plan', id: 'plan' }, lines.join('\n')));
    return nodes.length;
  }));
  work.push(fill(P.scans, alive, async (body) => {
    if (!has('stl_scan')) return 0;
    const rows = await queryObjects(`SELECT coalesce(nullif(trim(perm_table_name), ''), 'tbl ' || tbl) AS tbl,
        CASE type WHEN 2 THEN 'table' WHEN 3 THEN 'temp (spill)' WHEN 1 THEN 'network' ELSE 'type ' || type END AS kind,
        count(DISTINCT slice) AS slices, sum(rows) AS rows, sum(bytes) AS bytes, epoch(max(endtime)) - epoch(min(starttime)) AS seconds
      FROM stl_scan WHERE ${near} GROUP BY ALL ORDER BY bytes DESC`, params);
    body.replaceChildren(dataTable([{ key: 'tbl', label: 'table' }, { key: 'kind', label: 'scan' }, { key: 'slices', label: 'slices', num: true },
      { key: 'rows', label: 'rows', num: true, render: (r) => fmtCount(r.rows) }, { key: 'bytes', label: 'bytes', num: true, render: (r) => fmtBytes(r.bytes) },
      { key: 'seconds', label: 'time', num: true, render: (r) => fmtSeconds(r.seconds) }], rows));
    return rows.length;
  }));
  work.push(fill(P.shape, alive, async (body) => {
    // stl_query.querytxt is the first 4,000 characters; runs of one shape share the text up to
    // the first literal, which lets the engine skip most rows before the regular expressions.
    const prefix = literalFreePrefix(q.querytxt);
    const rows = await queryObjects(`WITH me AS (SELECT ${shapeSql(':text')} AS shape)
      SELECT cluster, query, starttime, epoch(endtime) - epoch(starttime) AS seconds, aborted
      FROM stl_query, me WHERE starttime >= ${sqlTs(range.from)} AND starttime < ${sqlTs(range.to)}
        AND dt BETWEEN ${sqlDate(range.from)} AND ${sqlDate(range.to)} AND starts_with(querytxt, :prefix)
        AND ${shapeSql('querytxt')} = me.shape
      ORDER BY starttime DESC LIMIT 500`, { text: q.querytxt, prefix });
    const byCluster = new Map();
    for (const r of rows) {
      if (!byCluster.has(r.cluster)) byCluster.set(r.cluster, []);
      byCluster.get(r.cluster).push(Number(r.seconds));
    }
    const pct = (a, p) => { const x = [...a].sort((m, n) => m - n); return x[Math.min(x.length - 1, Math.floor(p * x.length))]; };
    const summary = [...byCluster].map(([cluster, secs]) => ({ cluster, runs: secs.length, median: pct(secs, 0.5), p95: pct(secs, 0.95), max: Math.max(...secs) }))
      .sort((a, b) => b.median - a.median);
    body.replaceChildren(
      el('p', { class: 'muted', id: 'shape-summary' }, `${rows.length}${rows.length === 500 ? '+' : ''} runs on ${byCluster.size} cluster(s); this run took ${fmtSeconds(q.seconds)}`),
      dataTable([{ key: 'cluster', label: 'cluster', render: (r) => el('a', { href: hrefOf({ p: 'cluster', cluster: r.cluster }) }, r.cluster) },
                 { key: 'runs', label: 'runs', num: true }, { key: 'median', label: 'median', num: true, render: (r) => fmtSeconds(r.median) },
                 { key: 'p95', label: 'p95', num: true, render: (r) => fmtSeconds(r.p95) }, { key: 'max', label: 'max', num: true, render: (r) => fmtSeconds(r.max) }], summary),
      el('div', { class: 'scroll' }, dataTable([
        { key: 'cluster', label: 'cluster' },
        { key: 'query', label: 'query', render: (r) => el('a', { href: hrefOf({ p: 'query', cluster: r.cluster, query: String(r.query) }) }, String(r.query)) },
        { key: 'starttime', label: 'start', render: (r) => fmtTime(r.starttime, true) },
        { key: 'seconds', label: 'run', num: true, render: (r) => fmtSeconds(r.seconds) },
        { key: 'aborted', label: 'aborted', render: (r) => (Number(r.aborted) ? 'yes' : '') },
      ], rows.slice(0, 100), { rowAttrs: (r) => ({ class: r.cluster === s.cluster && Number(r.query) === id ? 'current' : '' }) })));
    return rows.length;
  }));
  await Promise.all(work);
}
