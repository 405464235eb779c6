// The dashboard's whole state, kept in the URL so that any view can be shared as a link and
// reopened as it was: page, range, time zone, refresh, filters, sort, cluster, query id, SQL.

export const DEFAULTS = {
  p: 'fleet',        // fleet | cluster | query | sql
  range: '24h',      // a preset ending now, or 'custom' with from/to (ISO 8601 UTC)
  from: '', to: '',
  tz: 'local',       // local | utc
  refresh: '0',      // seconds between refreshes while the range ends now; 0 = off
  q: '', kind: '', tag: '',           // fleet filters
  sort: 'health:desc', pg: '0',       // fleet sort and page
  open: '',          // the fleet row whose export detail is open
  cluster: '', query: '',             // cluster and query pages
  sql: '',
  src: '',           // '' roll-ups where they exist; 'raw': raw tables only (the benchmark's baseline)
};

export const PRESETS = { '15m': 0.25, '1h': 1, '6h': 6, '24h': 24, '7d': 168, '30d': 720 };

export function readUrl(search = location.search) {
  const params = new URLSearchParams(search);
  const s = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS)) if (params.has(k)) s[k] = params.get(k);
  if (!(s.range in PRESETS) && s.range !== 'custom') s.range = DEFAULTS.range;
  if (s.range === 'custom' && (isNaN(Date.parse(s.from)) || isNaN(Date.parse(s.to)))) s.range = DEFAULTS.range;
  return s;
}

// The URL of a state: only the values that differ from the defaults, in a fixed order.
export function urlOf(s) {
  const params = new URLSearchParams();
  for (const k of Object.keys(DEFAULTS)) if (s[k] !== undefined && String(s[k]) !== DEFAULTS[k]) params.set(k, s[k]);
  const text = params.toString();
  return location.pathname + (text ? '?' + text : '');
}

// The range in force: [from, to) as Dates, and whether it ends now (then it may auto-refresh).
export function rangeOf(s, now = new Date()) {
  if (s.range === 'custom') return { from: new Date(s.from), to: new Date(s.to), live: false };
  const to = new Date(Math.ceil(now.getTime() / 60000) * 60000);
  return { from: new Date(to.getTime() - PRESETS[s.range] * 3600e3), to, live: true };
}

// The bucket for charts over a range: the smallest of these with at most `points` per range.
const BUCKETS = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400];
export function bucketFor(range, points = 120) {
  const seconds = (range.to - range.from) / 1000;
  return BUCKETS.find((b) => seconds / b <= points) || BUCKETS[BUCKETS.length - 1];
}

// SQL literals for the engine (UTC, second precision).
export const plainTs = (d) => d.toISOString().slice(0, 19).replace('T', ' ');
export const sqlTs = (d) => `TIMESTAMP '${plainTs(d)}'`;
export const sqlDate = (d) => `DATE '${d.toISOString().slice(0, 10)}'`;
export const isoDay = (d) => d.toISOString().slice(0, 10);
