// The SQL page: CodeMirror 6 with SQL highlighting and completion from the lake's schema, a
// schema browser (GET /v1/tables), results paged through the statements API with sortable
// columns, CSV download, cancel, and saved queries (localStorage). The text lives in the URL.
// CodeMirror comes from /editor.js (editor.js), loaded the first time the page opens.
import {api, resultPage, session, statementPath, submit, waitDone} from './api.js';
import {el} from './format.js';
import {plainTs} from './state.js';
import {dataTable, sortRows} from './ui.js';

const SAVED_KEY = 'fleetlog-saved-queries';
const DEFAULT_SQL = `SELECT cluster, count(*) AS queries, max(endtime - starttime) AS longest
FROM stl_query
WHERE starttime >= CAST(:from AS TIMESTAMP) AND starttime < CAST(:to AS TIMESTAMP)
GROUP BY cluster ORDER BY cluster`;

const editor = { view: null, id: null, tokens: [null], page: 0, total: -1, pageRows: 0, result: null, sort: '' };
const dark = window.matchMedia('(prefers-color-scheme: dark)');
let loaded = null;  // a promise of editor.js's parts and the theme's compartment

// Loads editor.js once; later calls share it. A failed load is tried again next time.
function loadEditor() {
  loaded ??= new Promise((resolve, reject) => {
    const script = el('script', { src: '/editor.js' });
    script.onload = () => {
      const cm = window.fleetlogEditor;
      const theme = new cm.Compartment();
      dark.addEventListener('change', () => editor.view?.dispatch({ effects: theme.reconfigure(dark.matches ? cm.oneDark : []) }));
      resolve({ cm, theme });
    };
    script.onerror = () => { loaded = null; script.remove(); reject(new Error('the SQL editor (/editor.js) did not load')); };
    document.head.append(script);
  });
  return loaded;
}

const saved = () => { try { return JSON.parse(localStorage.getItem(SAVED_KEY) || '[]'); } catch { return []; } };

export async function renderSql(ctx) {
  const { state: s, range, main, navigate, app } = ctx;
  const { cm, theme } = await loadEditor();
  const { EditorView } = cm;
  const schema = {};
  for (const t of app.tables.tables) schema[t.name] = [];
  const status = el('span', { id: 'sql-status', class: 'muted' });
  const buttons = {
    run: el('button', { type: 'button', id: 'run', class: 'primary', title: 'Ctrl+Enter' }, 'Run'),
    cancel: el('button', { type: 'button', id: 'cancel', disabled: true }, 'Cancel'),
    prev: el('button', { type: 'button', id: 'prev', disabled: true }, '◀ Prev'),
    next: el('button', { type: 'button', id: 'next', disabled: true }, 'Next ▶'),
    csv: el('button', { type: 'button', id: 'csv', disabled: true }, 'Download CSV'),
    save: el('button', { type: 'button', id: 'save' }, 'Save…'),
  };
  const host = el('div', { id: 'sql-editor', class: 'editor' });
  const results = el('div', { class: 'scroll', id: 'results' });
  const savedList = el('ul', { id: 'saved', class: 'saved' });
  const schemaTree = el('ul', { id: 'schema', class: 'schema' }, app.tables.tables.map((t) => {
    const item = el('li', {}, el('button', { type: 'button', class: 'link', 'data-table': t.name }, t.name),
                    el('span', { class: 'muted' }, ` ${t.rows ?? ''} rows`));
    item.querySelector('button').addEventListener('click', async () => {
      if (item.querySelector('ul')) { item.querySelector('ul').remove(); return; }
      const d = await api('GET', '/v1/tables/' + encodeURIComponent(t.name));
      schema[t.name] = d.columns.map((c) => c.name);
      item.append(el('ul', { class: 'columns' }, d.columns.map((c) => el('li', {},
        el('button', { type: 'button', class: 'link', onclick: () => insert(c.name) }, c.name), el('span', { class: 'muted' }, ' ' + c.type)))));
    });
    return item;
  }));
  const section = el('section', { id: 'editor', class: 'panel wide', dataset: { state: 'idle' } },
    el('h2', {}, 'SQL'),
    el('p', { class: 'note' }, el('code', {}, ':from'), ' and ', el('code', {}, ':to'), ' take the range above. Ctrl+Enter runs.'),
    el('div', { class: 'sql-layout' },
      el('aside', {}, el('h3', {}, 'Tables'), schemaTree, el('h3', {}, 'Saved'), savedList),
      el('div', { class: 'sql-main' }, host, el('div', { class: 'toolbar' }, Object.values(buttons), status), results)));
  main.replaceChildren(section);
  editor.view?.destroy();
  let urlTimer;
  editor.view = new EditorView({
    doc: s.sql || DEFAULT_SQL,
    parent: host,
    extensions: [
      cm.keymap.of([{ key: 'Mod-Enter', run: () => { run(); return true; } }]),
      cm.basicSetup,
      cm.sql({ dialect: cm.PostgreSQL, schema, upperCaseKeywords: true }),
      theme.of(dark.matches ? cm.oneDark : []),
      EditorView.updateListener.of((u) => {
        if (!u.docChanged) return;
        clearTimeout(urlTimer);
        urlTimer = setTimeout(() => navigate({ sql: text() === DEFAULT_SQL ? '' : text() }, { quiet: true }), 300);
      }),
    ],
  });
  window.fleetlog.editor = editor;
  const text = () => editor.view.state.doc.toString();
  const insert = (word) => editor.view.dispatch(editor.view.state.replaceSelection(word));
  const setButtons = (running) => {
    buttons.run.disabled = running;
    buttons.cancel.disabled = !running;
    const finished = !running && editor.id && editor.total >= 0;
    buttons.prev.disabled = !finished || editor.page === 0;
    buttons.next.disabled = !finished || editor.tokens[editor.page + 1] === undefined;
    buttons.csv.disabled = !finished;
  };
  const drawSaved = () => savedList.replaceChildren(...saved().map((q, i) => el('li', {},
    el('button', { type: 'button', class: 'link', title: q.sql, onclick: () => {
      editor.view.dispatch({ changes: { from: 0, to: editor.view.state.doc.length, insert: q.sql } });
      navigate({ sql: q.sql }, { quiet: true });
    } }, q.name),
    el('button', { type: 'button', class: 'link muted', title: 'forget', onclick: () => {
      localStorage.setItem(SAVED_KEY, JSON.stringify(saved().filter((_, j) => j !== i)));
      drawSaved();
    } }, ' ✕'))));
  drawSaved();
  buttons.save.addEventListener('click', () => {
    const name = prompt('Name this query', text().split('\n')[0].slice(0, 40));
    if (!name) return;
    localStorage.setItem(SAVED_KEY, JSON.stringify([...saved().filter((q) => q.name !== name), { name, sql: text() }]));
    drawSaved();
  });

  function drawResult() {
    const r = editor.result;
    const [key, dir] = editor.sort.split(':');
    const names = r.columns.map((c) => c.name);
    let rows = r.records.map((row) => Object.fromEntries(row.map((v, i) => [i, v])));
    if (key !== '') rows = sortRows(rows.map((x) => ({ ...x, [key]: numeric(x[key]) })), key, dir);
    results.replaceChildren(dataTable(names.map((n, i) => ({ key: String(i), label: n, title: r.columns[i].type,
      num: /INT|DOUBLE|DECIMAL|FLOAT|REAL|NUMERIC/i.test(r.columns[i].type || ''),
      render: (x) => (x[i] === null ? el('span', { class: 'muted' }, 'NULL') : String(x[i])) })), rows, {
      sort: editor.sort, onSort: (k, d) => { editor.sort = `${k}:${d}`; drawResult(); },
    }));
  }
  const numeric = (v) => (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v);

  async function showPage(page) {
    const r = await resultPage(editor.id, editor.tokens[page]);
    editor.page = page;
    editor.total = r.total_rows;
    if (page === 0) editor.pageRows = r.records.length;
    if (r.next_token) editor.tokens[page + 1] = r.next_token;
    editor.result = r;
    editor.sort = '';
    drawResult();
    const first = page * editor.pageRows;
    section.dataset.page = String(page);
    status.textContent = r.total_rows ? `rows ${first + 1}–${first + r.records.length} of ${r.total_rows}` : 'no rows';
    setButtons(false);
  }

  async function run() {
    Object.assign(editor, { id: null, tokens: [null], page: 0, total: -1 });
    results.replaceChildren();
    section.dataset.state = 'running';
    setButtons(true);
    try {
      editor.id = await submit(text(), { from: plainTs(range.from), to: plainTs(range.to) });
      section.dataset.statement = editor.id;
      const d = await waitDone(editor.id, (x) => { status.textContent = `${x.status} · ${(x.duration_ns / 1e9).toFixed(2)} s`; });
      if (d.status !== 'FINISHED') {
        section.dataset.state = d.status.toLowerCase();
        status.textContent = `${d.status}${d.error ? ': ' + d.error : ''}`;
        editor.total = -1;
        return setButtons(false);
      }
      await showPage(0);
      section.dataset.state = 'finished';
    } catch (e) {
      section.dataset.state = 'error';
      status.textContent = e.message;
      editor.total = -1;
      setButtons(false);
    }
  }
  buttons.run.addEventListener('click', run);
  buttons.cancel.addEventListener('click', async () => {
    if (editor.id) try {
        await api('POST', statementPath(editor.id, 'cancel'));
      } catch (e) {
        status.textContent = e.message;
      }
  });
  buttons.prev.addEventListener('click', () => showPage(editor.page - 1));
  buttons.next.addEventListener('click', () => showPage(editor.page + 1));
  buttons.csv.addEventListener('click', async () => {
    const headers = session.token ? { Authorization: 'Bearer ' + session.token } : {};
    const res = await fetch(`${statementPath(editor.id, 'result')}?format=csv`, {headers});
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: `${editor.id}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });
}
