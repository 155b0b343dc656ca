// The rollout table: one row per trust and release in each cluster, filterable by cluster,
// release and status (the filters live in the URL, so a view can be shared).
import { STATUS_WORDS, badge, el, time, columnHeads } from './dom.js';

/** Every go-live of every cluster view, in feed order. */
export function rolloutRows(releases, clusterFields) {
  return releases.flatMap((release) =>
    clusterFields.flatMap((field) => {
      const view = release[field];
      if (!view) return [];
      return view.rollout.map((entry) => ({
        field,
        cluster: view.cluster.id,
        clusterName: view.cluster.name,
        release: release.code,
        odsCode: entry.trust.odsCode,
        trust: entry.trust.name,
        status: entry.status,
        localStatus: entry.localStatus,
        plannedGoLive: entry.plannedGoLive,
        actualGoLive: entry.actualGoLive,
        note: entry.note,
      }));
    }),
  );
}

const FILTERS = ['cluster', 'release', 'status'];

/** The filters' current values, from the form. */
function chosen(form) {
  return Object.fromEntries(FILTERS.map((name) => [name, form.elements[name].value]));
}

/** Fills a filter's options from the rows, keeping the current choice when it still exists. */
function fillOptions(select, values) {
  const current = select.value || new URLSearchParams(location.search).get(select.name) || '';
  select.replaceChildren(el('option', { value: '' }, 'All'), ...values.map(([value, text]) => el('option', { value }, text ?? value)));
  select.value = values.some(([value]) => value === current) ? current : '';
}

function unique(rows, key, text) {
  const seen = new Map();
  for (const row of rows) if (!seen.has(row[key])) seen.set(row[key], text ? text(row) : row[key]);
  return [...seen.entries()];
}

/**
 * Renders the table for `rows` under the form's filters, and wires the form once: changing
 * a filter re-renders at once and records it in the URL.
 */
export function renderRollout(form, table, rows, asOfLabel) {
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
    table.replaceChildren(
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
  };
  form.onchange = draw;
  form.onsubmit = (event) => {
    event.preventDefault();
    draw();
  };
  form.onreset = () => setTimeout(draw);
  draw();
}
