// Charts on a real time axis (chart.js with the luxon adapter): buckets without rows are null,
// so an outage shows as a gap instead of a line joining across it. Dragging across a chart
// selects a range to zoom into. Sparklines and the heatmap are drawn without chart.js.
import {
  Chart, LineController, BarController, LineElement, BarElement, PointElement, LinearScale, TimeScale,
  Legend, Tooltip, Filler,
} from 'chart.js';
import 'chartjs-adapter-luxon';
import { zone, el, fmtTime } from './format.js';

Chart.register(LineController, BarController, LineElement, BarElement, PointElement, LinearScale, TimeScale, Legend,
               Tooltip, Filler);

export const charts = {};  // by name, for tests and redraws
const PALETTE = ['#3b7ddd', '#e8590c', '#2b8a3e', '#ae3ec9', '#c92a2a', '#1098ad', '#f08c00', '#5c7cfa', '#868e96', '#d6336c'];
export const color = (i) => PALETTE[i % PALETTE.length];

const dark = () => window.matchMedia('(prefers-color-scheme: dark)').matches;
function themeColors() {
  return dark() ? { text: '#c9d1d9', grid: 'rgba(240,246,252,0.10)' } : { text: '#4b5563', grid: 'rgba(0,0,0,0.07)' };
}

// The points of a series over every bucket of [from, to): values from `byTime` (ms -> value),
// null where there is none, so the chart shows a gap. Buckets after `until` (what has been
// exported) are left out rather than shown as gaps.
export function fillBuckets(byTime, from, to, bucketS, until = to) {
  const step = bucketS * 1000;
  const start = Math.floor(from.getTime() / step) * step;
  const end = Math.min(to.getTime(), until.getTime());
  const points = [];
  for (let t = start; t < end; t += step) points.push({ x: t, y: byTime.has(t) ? byTime.get(t) : null });
  return points;
}

// Zooming: a drag across the plot area calls onZoom(fromDate, toDate).
const dragZoom = {
  id: 'dragZoom',
  afterEvent(chart, args) {
    const e = args.event;
    const z = chart.$zoom || (chart.$zoom = {});
    const area = chart.chartArea;
    if (e.type === 'mousedown' && e.x >= area.left && e.x <= area.right) z.start = e.x;
    else if (e.type === 'mousemove' && z.start !== undefined) { z.end = e.x; args.changed = true; }
    else if (e.type === 'mouseup' || e.type === 'mouseout') {
      if (z.start !== undefined && z.end !== undefined && Math.abs(z.end - z.start) > 8 && e.type === 'mouseup') {
        const a = chart.scales.x.getValueForPixel(Math.min(z.start, z.end));
        const b = chart.scales.x.getValueForPixel(Math.max(z.start, z.end));
        chart.$onZoom?.(new Date(a), new Date(b));
      }
      z.start = z.end = undefined;
      args.changed = true;
    }
  },
  afterDraw(chart) {
    const z = chart.$zoom;
    if (!z || z.start === undefined || z.end === undefined) return;
    const { ctx, chartArea: a } = chart;
    ctx.save();
    ctx.fillStyle = 'rgba(59,125,221,0.18)';
    ctx.fillRect(Math.min(z.start, z.end), a.top, Math.abs(z.end - z.start), a.bottom - a.top);
    ctx.restore();
  },
};
Chart.register(dragZoom);

// A chart over time. datasets: [{label, data: [{x: ms, y}], type?, stack?}].
export function timeChart(name, canvas, { datasets, range, bucketS, stacked = false, type = 'line', yTitle = '', onZoom }) {
  charts[name]?.destroy();
  const t = themeColors();
  datasets.forEach((d, i) => Object.assign(d, {
    borderColor: d.borderColor || color(i), backgroundColor: d.backgroundColor || color(i),
    pointRadius: 0, pointHitRadius: 6, borderWidth: 1.6, spanGaps: false, tension: 0,
  }));
  const unit = bucketS >= 86400 * 2 ? 'day' : bucketS >= 3600 ? 'hour' : 'minute';
  const chart = new Chart(canvas, {
    type,
    data: { datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, parsing: true, normalized: true,
      events: ['mousedown', 'mouseup', 'mousemove', 'mouseout', 'click', 'touchstart', 'touchmove'],
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: {
          type: 'time', min: range.from.getTime(), max: range.to.getTime(), stacked, offset: false,
          adapters: { date: { zone: zone.name === 'utc' ? 'utc' : 'local' } },
          // Hours read as HH:mm; the first tick of each day (a major tick) as the date, in bold.
          time: { tooltipFormat: 'yyyy-LL-dd HH:mm', displayFormats: { minute: 'HH:mm', hour: 'HH:mm', day: 'LLL d' } },
          ticks: { color: t.text, maxRotation: 0, autoSkip: true, maxTicksLimit: 8, major: { enabled: true },
                   font: (c) => (c.tick && c.tick.major ? { weight: 'bold' } : undefined) },
          grid: { color: t.grid },
        },
        y: { stacked, beginAtZero: true, ticks: { color: t.text, maxTicksLimit: 6 }, grid: { color: t.grid },
             title: { display: !!yTitle, text: yTitle, color: t.text } },
      },
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 10, color: t.text } },
        tooltip: { enabled: true },
      },
      datasets: { bar: { barPercentage: 1, categoryPercentage: 1 } },
    },
  });
  chart.$onZoom = onZoom;  // not in options: chart.js would call a function there as a scriptable option
  chart.$unit = unit;
  charts[name] = chart;
  return chart;
}

// A sparkline as inline SVG: values (nulls are gaps) scaled to their own maximum.
export function sparkline(values, { width = 96, height = 22, cls = '' } = {}) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('class', 'spark ' + cls);
  const max = Math.max(0, ...values.filter((v) => v !== null && Number.isFinite(v)));
  const n = values.length;
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) { pen = false; return; }
    const x = n <= 1 ? width / 2 : (i / (n - 1)) * (width - 2) + 1;
    const y = height - 2 - (max > 0 ? (v / max) * (height - 4) : 0);
    d += (pen ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
    pen = true;
  });
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', d);
  svg.appendChild(path);
  svg.dataset.points = String(values.filter((v) => v !== null).length);
  svg.dataset.gaps = String(values.filter((v) => v === null).length);
  return svg;
}

// A heatmap: rows (labels) by time buckets of bucketMs, cell colour by value, on the range's
// time scale. Draws on a canvas with a legend below; buckets without rows stay blank.
export function heatmap(container, { rows, columns, bucketMs, value, range, formatValue }) {
  const max = Math.max(0, ...rows.flatMap((r) => columns.map((c) => value(r, c) ?? 0)));
  const labelW = 130, cellH = 22, top = 4;
  const width = Math.max(container.clientWidth || 600, 300);
  const canvas = el('canvas', { width, height: top + cellH * rows.length + 24, class: 'heatmap' });
  const ctx = canvas.getContext('2d');
  const t = themeColors();
  const span = range.to - range.from;
  const x = (ms) => labelW + ((ms - range.from) / span) * (width - labelW - 8);
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  let cells = 0;
  rows.forEach((r, i) => {
    ctx.fillStyle = t.text;
    ctx.fillText(String(r).slice(0, 18), 4, top + i * cellH + cellH / 2);
    columns.forEach((c) => {
      const v = value(r, c);
      if (v === null || v === undefined) return;
      const x0 = x(Math.max(c, range.from.getTime())), x1 = x(Math.min(c + bucketMs, range.to.getTime()));
      const k = max > 0 ? v / max : 0;
      ctx.fillStyle = `hsl(${(1 - k) * 120 * 0.9}, 75%, ${dark() ? 45 - 15 * k : 55 - 10 * k}%)`;
      ctx.fillRect(x0, top + i * cellH + 1, Math.max(1, x1 - x0 - 0.5), cellH - 2);
      cells++;
    });
  });
  ctx.fillStyle = t.text;
  ctx.textAlign = 'center';
  const ticks = Math.max(2, Math.min(6, Math.floor((width - labelW) / 120)));
  for (let k = 0; k <= ticks; k++) {
    const ms = range.from.getTime() + (span * k) / ticks;
    const px = Math.max(labelW + 40, Math.min(x(ms), width - 45));
    ctx.fillText(fmtTime(ms).slice(5), px, top + cellH * rows.length + 12);
  }
  canvas.dataset.cells = String(cells);
  container.replaceChildren(canvas, el('div', { class: 'legend muted', text: `green 0 → red ${formatValue(max)} (p95 queue wait); blank: no queries` }));
  return canvas;
}
