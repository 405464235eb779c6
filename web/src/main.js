// The fleetlog dashboard: a single page over the HTTP API (DESIGN.md). The URL holds the whole
// state (state.js); each page (fleet, cluster, query, sql) renders into <main> from it. When
// the range ends now and a refresh interval is set, the page redraws itself every N seconds.
// body[data-settled] holds the number of the newest render once all its panels are drawn
// (tests wait for it to equal window.fleetlog.generation).
import { readUrl, urlOf, rangeOf, PRESETS } from './state.js';
import { zone, zoneLabel, fmtTime, el } from './format.js';
import { api, session } from './api.js';
import { charts } from './charts.js';
import { renderFleet } from './fleet.js';
import { renderCluster } from './cluster.js';
import { renderQuery } from './query.js';
import { renderSql } from './sql.js';

const app = {
  state: readUrl(),
  generation: 0,
  refreshes: 0,
  charts,
  tables: null,   // GET /v1/tables, fetched once per render
  timer: null,
};
window.fleetlog = app;

const PAGES = { fleet: renderFleet, cluster: renderCluster, query: renderQuery, sql: renderSql };

// Changes the state and the URL; `push` makes a new history entry (page changes), otherwise
// the current one is replaced (filters). Redraws unless `quiet`.
export function navigate(patch, { push = false, quiet = false } = {}) {
  app.state = { ...app.state, ...patch };
  const url = urlOf(app.state);
  if (url !== location.pathname + location.search) history[push ? 'pushState' : 'replaceState'](null, '', url);
  if (!quiet) render();
}

export const hrefOf = (patch) => urlOf({ ...app.state, pg: '0', open: '', ...patch });

// Links inside the page navigate without reloading.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href^="/"]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0 || a.target) return;
  e.preventDefault();
  app.state = readUrl(new URL(a.href).search);
  history.pushState(null, '', a.getAttribute('href'));
  render();
});
window.addEventListener('popstate', () => { app.state = readUrl(); render(); });

async function render({ auto = false } = {}) {
  const generation = ++app.generation;
  const s = app.state;
  zone.name = s.tz === 'utc' ? 'utc' : 'local';
  syncHeader(s);
  const range = rangeOf(s);
  document.getElementById('range-label').textContent = `${fmtTime(range.from)} – ${fmtTime(range.to)} ${zoneLabel()}`;
  const main = document.getElementById('main');
  const alive = () => generation === app.generation;
  try {
    app.tables = await api('GET', '/v1/tables');
  } catch (e) {
    main.replaceChildren(el('p', { class: 'error' }, 'The API did not answer: ' + e.message));
    return;
  }
  const tables = new Set(app.tables.tables.map((t) => t.name));
  const page = PAGES[s.p] || renderFleet;
  const ctx = { state: s, range, tables, alive, auto, navigate, hrefOf, zoomTo, main, app };
  try {
    await page(ctx);
  } catch (e) {
    if (alive()) main.append(el('p', { class: 'error' }, e.message));
  }
  if (!alive()) return;
  if (auto) app.refreshes++;
  document.body.dataset.settled = String(generation);
  document.getElementById('updated').textContent = 'updated ' + fmtTime(new Date(), true);
  schedule(range.live);
}

function schedule(live) {
  clearTimeout(app.timer);
  const seconds = Number(app.state.refresh);
  document.getElementById('refresh').classList.toggle('inactive', !live);
  if (!live || !(seconds > 0) || app.state.p === 'sql') return;
  app.timer = setTimeout(() => {
    if (document.hidden) return schedule(live);
    render({ auto: true });
  }, seconds * 1000);
}

// ---- the header ---------------------------------------------------------------------------

function syncHeader(s) {
  const range = document.getElementById('range');
  range.value = s.range;
  document.getElementById('custom-range').hidden = s.range !== 'custom';
  if (s.range === 'custom') {
    document.getElementById('from').value = localInput(new Date(s.from));
    document.getElementById('to').value = localInput(new Date(s.to));
  }
  document.getElementById('tz').value = s.tz;
  document.getElementById('refresh').value = s.refresh;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === (s.p === 'sql' ? 'sql' : 'fleet'));
  const crumbs = document.getElementById('crumbs');
  crumbs.replaceChildren();
  if (s.p === 'cluster' || s.p === 'query') {
    crumbs.append(el('a', { href: hrefOf({ p: 'cluster', cluster: s.cluster, query: '' }) }, s.cluster));
    if (s.p === 'query') crumbs.append(' › ', el('span', {}, 'query ' + s.query));
  }
}

// datetime-local inputs speak the chosen zone.
function localInput(d) {
  const shifted = zone.name === 'utc' ? d : new Date(d.getTime() - d.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}
function fromInput(v) {
  if (!v) return null;
  const d = zone.name === 'utc' ? new Date(v + ':00Z') : new Date(v);
  return isNaN(d) ? null : d;
}

document.getElementById('range').addEventListener('change', (e) => {
  if (e.target.value === 'custom') {
    const r = rangeOf(app.state);
    navigate({ range: 'custom', from: r.from.toISOString(), to: r.to.toISOString(), pg: '0' });
  } else {
    navigate({ range: e.target.value, from: '', to: '', pg: '0' });
  }
});
for (const id of ['from', 'to']) {
  document.getElementById(id).addEventListener('change', () => {
    const from = fromInput(document.getElementById('from').value), to = fromInput(document.getElementById('to').value);
    if (from && to && from < to) navigate({ range: 'custom', from: from.toISOString(), to: to.toISOString() });
  });
}
document.getElementById('tz').addEventListener('change', (e) => navigate({ tz: e.target.value }));
document.getElementById('refresh').addEventListener('change', (e) => navigate({ refresh: e.target.value }));
document.getElementById('token-save').addEventListener('click', () => {
  session.token = document.getElementById('token').value;
  sessionStorage.setItem('fleetlog-token', session.token);
  document.getElementById('token-box').hidden = true;
  render();
});
session.onUnauthorized = () => { document.getElementById('token-box').hidden = false; };

// Zooming on a chart: the dragged span becomes a custom range (a new history entry, so Back
// returns to the range before).
export function zoomTo(from, to) {
  if (!(to - from > 60000)) return;
  navigate({ range: 'custom', from: new Date(Math.floor(from / 60000) * 60000).toISOString(),
             to: new Date(Math.ceil(to / 60000) * 60000).toISOString() }, { push: true });
}

// ---- keyboard -----------------------------------------------------------------------------
//   /  filter   j k  move in a list   Enter  open   o  export detail   f  fleet   s  SQL
//   u  local time / UTC   r  refresh now   [ ]  earlier / later preset range   ?  help
const PRESET_ORDER = Object.keys(PRESETS);
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t.closest && t.closest('input, textarea, select, .cm-editor')) {
    if (e.key === 'Escape') t.blur();
    return;
  }
  if (e.key === 'Enter' && t.closest && t.closest('a, button, th')) return;  // their own Enter
  const rows = [...document.querySelectorAll('[data-nav-row]')];
  const current = rows.findIndex((r) => r.classList.contains('selected'));
  const select = (i) => {
    rows.forEach((r) => r.classList.remove('selected'));
    const r = rows[Math.max(0, Math.min(rows.length - 1, i))];
    if (r) { r.classList.add('selected'); r.scrollIntoView({ block: 'nearest' }); }
  };
  switch (e.key) {
    case '/': { const f = document.querySelector('[data-filter]'); if (f) { e.preventDefault(); f.focus(); } break; }
    case 'j': case 'ArrowDown': if (rows.length) { e.preventDefault(); select(current + 1); } break;
    case 'k': case 'ArrowUp': if (rows.length) { e.preventDefault(); select(current - 1); } break;
    case 'Enter': if (current >= 0) rows[current].querySelector('a')?.click(); break;
    case 'o': if (current >= 0) rows[current].querySelector('button.detail')?.click(); break;
    case 'f': navigate({ p: 'fleet' }, { push: true }); break;
    case 's': navigate({ p: 'sql' }, { push: true }); break;
    case 'u': navigate({ tz: app.state.tz === 'utc' ? 'local' : 'utc' }); break;
    case 'r': render(); break;
    case '[': case ']': {
      const i = PRESET_ORDER.indexOf(app.state.range);
      const next = PRESET_ORDER[Math.max(0, Math.min(PRESET_ORDER.length - 1, (i < 0 ? 3 : i) + (e.key === ']' ? 1 : -1)))];
      navigate({ range: next, from: '', to: '' });
      break;
    }
    case '?': document.getElementById('help').toggleAttribute('hidden'); break;
    default:
  }
});

render();
