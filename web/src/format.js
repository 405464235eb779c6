// How values read on the page: times in the chosen zone, durations, counts, SQL text.
import { DateTime } from 'luxon';

export const zone = { name: 'local' };  // 'local' | 'utc'; set from the URL state

// Engine timestamps are UTC without a zone ("2026-12-01 10:00:00"); Dates are instants.
export function toDate(v) {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v);
  const s = String(v);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : s.replace(' ', 'T') + 'Z');
}

export function fmtTime(v, withSeconds = false) {
  if (v === null || v === undefined || v === '') return '—';
  const d = DateTime.fromJSDate(toDate(v), { zone: zone.name === 'utc' ? 'utc' : 'local' });
  return d.toFormat(withSeconds ? 'yyyy-LL-dd HH:mm:ss' : 'yyyy-LL-dd HH:mm');
}

export const zoneLabel = () => (zone.name === 'utc' ? 'UTC' : DateTime.local().toFormat('ZZZZ'));

export function fmtSeconds(s) {
  if (s === null || s === undefined || Number.isNaN(Number(s))) return '—';
  s = Number(s);
  if (s < 1) return (s * 1000).toFixed(0) + ' ms';
  if (s < 120) return s.toFixed(s < 10 ? 2 : 1) + ' s';
  if (s < 7200) return (s / 60).toFixed(1) + ' min';
  if (s < 172800) return (s / 3600).toFixed(1) + ' h';
  return (s / 86400).toFixed(1) + ' d';
}

export function fmtCount(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  n = Number(n);
  if (Math.abs(n) >= 1e9) return (n / 1e9).toFixed(1) + 'G';
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + 'M';
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(0) + 'k';
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  n = Number(n);
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + units[i];
}

export const fmtShare = (x) => (x === null || x === undefined || Number.isNaN(x) ? '—' : (100 * x).toFixed(x < 0.1 ? 1 : 0) + '%');

// Redshift keeps a statement's line breaks in its text as the two characters \n.
export const unescapeText = (t) => String(t ?? '').replace(/\\n/g, '\n');

// Statement text for reading: a line break before each major clause, outside quotes.
const CLAUSES = /\b(select|from|where|group by|order by|having|limit|union all|union|with|inner join|left join|right join|full join|join|on|and|insert into|values|update|set|delete from)\b/gi;
export function formatSql(text) {
  const parts = String(text ?? '').replace(/\s+/g, ' ').trim().split(/('(?:[^']|'')*')/);
  let depth = 0;
  return parts.map((p, i) => {
    if (i % 2) return p;
    return p.replace(CLAUSES, (m, _k, offset, whole) => {
      const before = whole.slice(0, offset);
      depth = (before.match(/\(/g) || []).length - (before.match(/\)/g) || []).length;
      const k = m.toUpperCase();
      const indent = k === 'AND' || k === 'ON' ? '  ' : '';
      return (offset === 0 && i === 0 ? '' : '\n') + '  '.repeat(Math.max(depth, 0)) + indent + k;
    });
  }).join('').replace(/[ \t]+\n/g, '\n').replace(/\n\s*\n/g, '\n');
}

// A statement's shape: its text with literal values (strings, numbers) replaced by "?", blanks
// collapsed and case folded, so runs with different literals compare equal. The SQL engine
// applies the same rules (see shapeSql in panels.js).
export function shapeOf(text) {
  return String(text ?? '').replace(/'(?:[^']|'')*'/g, '?').replace(/\b\d+(\.\d+)?\b/g, '?')
    .replace(/\s+/g, ' ').trim().toLowerCase();
}

// The text of a statement up to its first literal: every run of the same shape starts so.
export function literalFreePrefix(text) {
  const s = String(text ?? '');
  const m = /'|\b\d/.exec(s);
  return m ? s.slice(0, m.index) : s;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}
