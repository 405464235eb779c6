// Panels and tables shared by the pages. A panel carries data-state (loading | ready | empty |
// error) and data-rows, which the browser tests wait on.
import { el } from './format.js';

export function panel(id, title, { wide = false, note = '', empty = '' } = {}) {
  const body = el('div', { class: 'panel-body' });
  const message = el('p', { class: 'panel-message muted' });
  const section = el('section', { id, class: 'panel' + (wide ? ' wide' : ''), dataset: { state: 'loading' } },
                     el('h2', { text: title }), note ? el('p', { class: 'note', text: note }) : null, body, message);
  section.$body = body;
  section.$empty = empty;  // what an empty answer means here
  return section;
}

export function setPanelState(section, state, rows = 0, text = '') {
  section.dataset.state = state;
  section.dataset.rows = String(rows);
  section.querySelector('.panel-message').textContent =
    state === 'empty' ? text || 'nothing in this range' : state === 'error' ? text : '';
}

// Runs a panel's work: loading, then ready/empty by the row count it returns, or error.
// `alive()` says whether the page still wants the answer (a newer refresh drops old ones).
export async function fill(section, alive, work) {
  try {
    const rows = await work(section.$body);
    if (!alive()) return;
    setPanelState(section, rows > 0 ? 'ready' : 'empty', rows, section.$empty);
  } catch (e) {
    if (alive()) setPanelState(section, 'error', 0, e.message);
  }
}

// A table: columns [{key, label, render?(row) -> Node|string, num?, cls?}], rows of objects.
// Clicking a header sorts by it (numbers descending first); sort state is returned so callers
// can keep it in the URL.
export function dataTable(columns, rows, { sort = null, onSort = null, rowAttrs = null, cls = 'grid' } = {}) {
  const [sortKey, sortDir] = (sort || '').split(':');
  const head = el('tr', {}, columns.map((c) => el('th', {
    class: (c.num ? 'num ' : '') + (c.key === sortKey ? 'sorted ' + sortDir : ''),
    tabindex: onSort ? '0' : null, 'data-key': c.key, title: c.title || null,
    'aria-sort': c.key === sortKey ? (sortDir === 'asc' ? 'ascending' : 'descending') : null,
    onclick: onSort ? () => onSort(c.key, c.key === sortKey && sortDir === 'desc' ? 'asc' : c.key === sortKey ? 'desc' : c.num ? 'desc' : 'asc') : null,
    onkeydown: onSort ? (e) => { if (e.key === 'Enter') e.target.click(); } : null,
  }, c.label)));
  const body = el('tbody');
  for (const r of rows) {
    const tr = el('tr', rowAttrs ? rowAttrs(r) : {});
    for (const c of columns) {
      const v = c.render ? c.render(r) : r[c.key];
      tr.append(el('td', { class: (c.num ? 'num ' : '') + (c.cls || '') }, v ?? ''));
    }
    body.append(tr);
  }
  return el('table', { class: cls }, el('thead', {}, head), body);
}

// Sorts objects by key and direction; nulls last; strings by locale.
export function sortRows(rows, key, dir) {
  const m = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key], y = b[key];
    if (x === y) return 0;
    if (x === null || x === undefined || Number.isNaN(x)) return 1;
    if (y === null || y === undefined || Number.isNaN(y)) return -1;
    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * m;
  });
}

export const link = (href, text, attrs = {}) => el('a', { href, ...attrs }, text);
