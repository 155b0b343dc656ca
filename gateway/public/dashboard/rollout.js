// The rollout table: one row per trust and release in each cluster, filterable by cluster,
// release and status (the filters live in the URL, so a view can be shared; the timeline
// follows them).
import { STATUS_WORDS, badge, el, time, columnHeads, patchChildren } from './dom.js';

/**
 * Every go-live of every trust in every cluster that reports it (the generic
 * `rolloutAcrossClusters`), by release, then in the columns' order of clusters, then in the
 * programme's order of trusts.
 */
export function rolloutRows(trusts, columns) {
  const order = new Map(columns.map((column, index) => [column.id, index]));
  const rows = trusts.flatMap((trust) =>
    trust.rolloutAcrossClusters.map((entry) => ({
      cluster: entry.cluster.id,
      clusterName: entry.cluster.name,
      release: entry.release.code,
      odsCode: trust.odsCode,
      trust: trust.name,
      status: entry.status,
      localStatus: entry.localStatus,
      plannedGoLive: entry.plannedGoLive,
      actualGoLive: entry.actualGoLive,
      note: entry.note,
    })),
  );
  const rank = (row) => order.get(row.cluster) ?? order.size;
  return rows.sort((a, b) => a.release.localeCompare(b.release) || rank(a) - rank(b));
}

const FILTERS = ['cluster', 'release', 'status'];

/** The filters' current values, from the form. */
function chosen(form) {
  return Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value]));
}

/** Fills a filter's options from the rows, keeping the current choice when it still exists. */
function fillOptions(select, values) {
  const current = select.value || new URLSearchParams(location.search).get(select.name) || '';
  patchChildren(select, el('option', { value: '' }, 'All'), ...values.map(([value, text]) => el('option', { value }, text ?? value)));
  select.value = values.some(([value]) => value === current) ? current : '';
}

function unique(rows, key, text) {
  const seen = new Map();
  for (const row of rows) if (!seen.has(row[key])) seen.set(row[key], text ? text(row) : row[key]);
  return [...seen.entries()];
}

/**
 * Renders the table for `rows` under the form's filters, and wires the form once: changing
 * a filter re-renders at once and records it in the URL. `onShown` gets the rows the
 * filters keep, each time (the timeline draws the same ones).
 */
export function renderRollout(form, table, rows, asOfLabel, onShown) {
  fillOptions(
    form.elements.cluster,
    unique(rows, 'cluster', (r) => r.clusterName),
  );
  fillOptions(form.elements.release, unique(rows, 'release'));
  fillOptions(
    form.elements.status,
    unique(rows, 'status').map(([s]) => [s, STATUS_WORDS[s] ?? s]),
  );
  const draw = () => {
    const filter = chosen(form);
    const shown = rows.filter((row) => FILTERS.every((name) => !filter[name] || row[name] === filter[name]));
    patchChildren(
      table,
      el('caption', {}, `Go-lives ${asOfLabel}: ${shown.length} of ${rows.length} shown`),
      columnHeads(['Trust', 'ODS code', 'Cluster', 'Release', 'Status', 'Supplier’s word', 'Planned go-live', 'Actual go-live', 'Note']),
      el(
        'tbody',
        {},
        shown.map((row) =>
          el(
            'tr',
            { 'data-cluster': row.cluster, 'data-release': row.release, 'data-status': row.status, 'data-ods': row.odsCode },
            el('th', { scope: 'row' }, row.trust),
            el('td', {}, row.odsCode),
            el('td', {}, row.clusterName),
            el('td', {}, row.release),
            el('td', {}, badge(row.status)),
            el('td', {}, row.localStatus),
            el('td', {}, time(row.plannedGoLive, true)),
            el('td', {}, time(row.actualGoLive, true)),
            el('td', { class: 'note' }, row.note ?? ''),
          ),
        ),
      ),
    );
    const url = new URL(location.href);
    for (const name of FILTERS) filter[name] ? url.searchParams.set(name, filter[name]) : url.searchParams.delete(name);
    history.replaceState(null, '', url);
    onShown(shown);
  };
  form.onchange = draw;
  form.onsubmit = (event) => {
    event.preventDefault();
    draw();
  };
  form.onreset = () => setTimeout(draw);
  draw();
}
