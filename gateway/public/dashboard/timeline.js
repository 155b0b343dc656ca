// The go-live timeline: per cluster, each trust's go-live on each release, planned (hollow)
// against actual (filled), with the dates earlier reports planned and that slipped (grey),
// drawn as a small hand-rolled SVG. Shapes differ as well as colours.
import { day, el, svg, patchChildren } from './dom.js';

const ROW = 22;
const LABEL = 250;
const WIDTH = 1100;
const AXIS = 28;

const ms = (iso) => Date.parse(`${iso}T00:00:00Z`);

/**
 * The chart's rows: go-lives with a date, each with the earlier planned dates that differ
 * from its final one. `plans` maps `cluster|release|odsCode` to the planned dates of
 * earlier reports (empty when history has not loaded).
 */
export function timelineRows(rows, plans) {
  return rows
    .filter((row) => row.plannedGoLive || row.actualGoLive)
    .map((row) => {
      const final = row.actualGoLive ?? row.plannedGoLive;
      const slipped = [...new Set(plans.get(`${row.cluster}|${row.release}|${row.odsCode}`) ?? [])].filter((d) => d !== final).sort();
      return { ...row, slipped };
    });
}

function describe(row) {
  const parts = [`${row.trust} (${row.odsCode}), ${row.release}`];
  if (row.actualGoLive) parts.push(`live ${day(row.actualGoLive)}`);
  else parts.push(`planned ${day(row.plannedGoLive)}`);
  if (row.slipped.length) parts.push(`earlier planned ${row.slipped.map((d) => day(d)).join(', ')}`);
  return parts.join('; ');
}

/** Draws the chart into `figure`'s svg; `asOf` (ISO day or null) draws a marker line. */
export function renderTimeline(figure, rows, asOf) {
  const chart = figure.querySelector('svg.timeline-chart');
  const dates = rows.flatMap((r) => [r.plannedGoLive, r.actualGoLive, ...r.slipped]).filter(Boolean);
  if (asOf) dates.push(asOf);
  if (!rows.length || !dates.length) {
    patchChildren(chart, svg('text', { x: 10, y: 20 }, 'No go-live dates to draw.'));
    chart.setAttribute('viewBox', `0 0 ${WIDTH} 30`);
    return;
  }
  const first = new Date(Math.min(...dates.map(ms))).getUTCFullYear();
  const last = new Date(Math.max(...dates.map(ms))).getUTCFullYear() + 1;
  const from = Date.UTC(first, 0, 1);
  const to = Date.UTC(last, 0, 1);
  const x = (iso) => LABEL + ((ms(iso) - from) / (to - from)) * (WIDTH - LABEL - 30);
  const clusters = [...new Set(rows.map((r) => r.cluster))];
  const parts = [];
  let y = AXIS;
  for (const cluster of clusters) {
    const mine = rows.filter((r) => r.cluster === cluster);
    parts.push(svg('text', { x: 4, y: y + 15, class: 'tl-cluster' }, mine[0].clusterName));
    y += ROW;
    for (const row of mine) {
      const mid = y + ROW / 2;
      const final = row.actualGoLive ?? row.plannedGoLive;
      const marks = [svg('title', {}, describe(row)), svg('text', { x: 12, y: mid + 4, class: 'tl-label' }, `${row.release} ${row.trust}`)];
      if (row.slipped.length) {
        const xs = [...row.slipped, final].map(x);
        marks.push(svg('line', { x1: Math.min(...xs), x2: Math.max(...xs), y1: mid, y2: mid, class: 'tl-slip' }));
        for (const d of row.slipped) marks.push(svg('path', { d: cross(x(d), mid), class: 'tl-slipped' }));
      }
      marks.push(
        row.actualGoLive
          ? svg('circle', { cx: x(row.actualGoLive), cy: mid, r: 6, class: 'tl-actual' })
          : svg('circle', { cx: x(row.plannedGoLive), cy: mid, r: 6, class: 'tl-planned' }),
      );
      if (row.actualGoLive && row.plannedGoLive && row.plannedGoLive !== row.actualGoLive)
        marks.push(svg('circle', { cx: x(row.plannedGoLive), cy: mid, r: 6, class: 'tl-planned' }));
      parts.push(svg('g', { class: `tl-row status-${row.status.toLowerCase()}`, 'data-ods': row.odsCode }, marks));
      y += ROW;
    }
  }
  const height = y + 6;
  const axis = [];
  for (let year = first; year <= last; year++) {
    const at = x(`${year}-01-01`);
    axis.push(svg('line', { x1: at, x2: at, y1: AXIS - 6, y2: height, class: 'tl-grid' }));
    axis.push(svg('text', { x: at, y: AXIS - 10, class: 'tl-year', 'text-anchor': 'middle' }, String(year)));
  }
  if (asOf) {
    axis.push(svg('line', { x1: x(asOf), x2: x(asOf), y1: AXIS - 6, y2: height, class: 'tl-asof' }));
  }
  chart.setAttribute('viewBox', `0 0 ${WIDTH} ${height}`);
  patchChildren(chart, svg('title', { id: 'timeline-title' }, 'Go-lives per cluster: planned against actual'), ...axis, ...parts);
}

function cross(cx, cy) {
  const r = 4;
  return `M${cx - r},${cy - r}L${cx + r},${cy + r}M${cx - r},${cy + r}L${cx + r},${cy - r}`;
}

/** The legend under the chart, as a list (what each mark means, in words). */
export function legend() {
  const key = (cls, shape, text) => el('li', {}, el('span', { class: 'tl-key', 'aria-hidden': 'true' }, shape(cls)), text);
  const icon = (child) => {
    const s = svg('svg', { width: 16, height: 16, viewBox: '0 0 16 16' }, child);
    return s;
  };
  return el(
    'ul',
    { class: 'tl-legend' },
    key('tl-actual', (c) => icon(svg('circle', { cx: 8, cy: 8, r: 6, class: c })), 'actual go-live'),
    key('tl-planned', (c) => icon(svg('circle', { cx: 8, cy: 8, r: 6, class: c })), 'planned go-live'),
    key('tl-slipped', (c) => icon(svg('path', { d: cross(8, 8), class: c })), 'a date an earlier report planned (slipped)'),
    key('tl-asof', (c) => icon(svg('line', { x1: 8, x2: 8, y1: 0, y2: 16, class: c })), 'the day shown'),
  );
}
