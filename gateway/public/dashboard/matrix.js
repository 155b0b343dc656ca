// The release × cluster matrix: each cluster's view of each release side by side, with the
// aspects that differ between clusters marked, all from the gateway's comparison (one
// generic field for every cluster).
import { columnTitle, listed } from './clusters.js';
import { badge, day, el, hidden, time, patchChildren } from './dom.js';

/** The aspects each line of a cell shows, as the comparison names them. */
const LINES = [
  { label: 'Local name', aspects: ['localName'], value: (v) => v.localName },
  { label: 'Design', aspects: ['designStatus', 'designSuspendedOn'], value: design },
  { label: 'Planned', aspects: ['plannedDate', 'plannedYear'], value: planned },
  { label: 'Go-lives', aspects: ['trustsLive', 'trustsPlanned'], value: goLives },
  { label: 'Spine', aspects: ['spineCompliant'], value: (v) => (v.spineCompliant ? 'Spine compliant' : 'Not Spine compliant') },
];

function design(view) {
  if (view.designStatus === 'SUSPENDED' && view.designSuspendedOn) {
    return [badge('SUSPENDED'), ' since ', time(view.designSuspendedOn)];
  }
  return badge(view.designStatus);
}

function plannedText(entry) {
  return entry.plannedDate ? day(entry.plannedDate) : entry.plannedYear ? String(entry.plannedYear) : 'not set';
}

/** The planned date, and what earlier reports planned when it moved. */
function planned(view) {
  const now = plannedText(view);
  const earlier = [...new Set((view.history ?? []).map(plannedText))].filter((p) => p !== now);
  return [
    view.plannedDate ? time(view.plannedDate) : now,
    earlier.length ? el('span', { class: 'slipped' }, ` (earlier reports: ${earlier.join(', ')})`) : null,
  ];
}

/** Trusts live against planned, and the first actual go-live. */
function goLives(view) {
  return [`${view.trustsLive} of ${view.trustsPlanned} live`, view.firstLive ? [', first ', time(view.firstLive)] : null];
}

/**
 * The aspects on which this cluster's value differs from another compared cluster's, or null
 * when fewer than two clusters are compared. With three or more clusters, a cluster is
 * marked on an aspect when any other cluster gives another value.
 */
function differing(comparison, clusterId) {
  if (!comparison || comparison.snapshots.length < 2) return null;
  const marked = new Set();
  for (const aspect of comparison.aspects) {
    if (!aspect.differs) continue;
    const mine = aspect.values.find((v) => v.cluster.id === clusterId);
    if (mine && aspect.values.some((v) => v.value !== mine.value)) marked.add(aspect.aspect);
  }
  return marked;
}

/** One cluster's view of a release, from the comparison's snapshot of that cluster. */
function viewOf(release, clusterId, firstLive) {
  const snapshot = release.comparison?.snapshots.find((s) => s.cluster.id === clusterId);
  if (!snapshot) return null;
  return { ...snapshot.view, history: snapshot.history, firstLive: firstLive.get(`${clusterId}|${release.code}`) ?? null };
}

function cell(view, differs, unavailable) {
  if (!view) {
    return unavailable
      ? el('td', { class: 'missing unavailable' }, 'Unavailable: this cluster’s subgraph did not answer')
      : el('td', { class: 'missing' }, 'No report yet');
  }
  return el(
    'td',
    {},
    el(
      'dl',
      { class: 'view' },
      LINES.map((line) => {
        const marked = differs !== null && line.aspects.some((a) => differs.has(a));
        return el(
          'div',
          { class: marked ? 'differs' : null },
          el('dt', {}, line.label),
          el(
            'dd',
            {},
            line.value(view),
            marked ? [el('span', { class: 'differs-mark', 'aria-hidden': 'true' }, ' ≠'), hidden(' (differs between clusters)')] : null,
          ),
        );
      }),
    ),
  );
}

/** The first actual go-live of each cluster and release (`cluster|release`), from the go-lives. */
function firstLives(rows) {
  const first = new Map();
  for (const row of rows) {
    if (!row.actualGoLive) continue;
    const key = `${row.cluster}|${row.release}`;
    if (!first.has(key) || row.actualGoLive < first.get(key)) first.set(key, row.actualGoLive);
  }
  return first;
}

/** What a release's heading says about its comparison, or null. */
function comparisonNote(comparison, columns) {
  const compared = comparison?.snapshots.length ?? 0;
  const down = columns.filter((c) => c.unavailable);
  if (compared < 2) {
    if (compared === 0 && !down.length) return null;
    return down.length ? 'Comparison unavailable' : 'Nothing to compare yet';
  }
  return down.length
    ? `Compared without ${listed(down.map(columnTitle))}: ${down.length === 1 ? 'its subgraph' : 'their subgraphs'} did not answer`
    : null;
}

/**
 * Renders the matrix into `table`: a row per release, a column per cluster (`columns`, from
 * clusters.js), each cell from the comparison's snapshot of that cluster. `rows` are the
 * go-lives (rollout.js), for each cell's first actual go-live.
 */
export function renderMatrix(table, releases, columns, rows) {
  const firstLive = firstLives(rows);
  const heads = columns.map((column) => el('th', { scope: 'col', 'data-cluster': column.id }, columnTitle(column)));
  const body = releases.map((release) => {
    const comparison = release.comparison;
    const divergent = comparison !== null && comparison.snapshots.length >= 2 && comparison.divergent;
    const note = comparisonNote(comparison, columns);
    return el(
      'tr',
      { 'data-release': release.code },
      el(
        'th',
        { scope: 'row' },
        el('span', { class: 'release-code' }, release.code),
        el('span', { class: 'release-name' }, release.name),
        release.dueYear ? el('span', { class: 'release-due' }, `due ${release.dueYear}`) : null,
        divergent ? el('span', { class: 'divergent' }, 'Clusters differ') : null,
        note ? el('span', { class: 'note' }, note) : null,
      ),
      columns.map((column) => {
        const td = cell(viewOf(release, column.id, firstLive), differing(comparison, column.id), column.unavailable);
        td.dataset.cluster = column.id;
        return td;
      }),
    );
  });
  patchChildren(
    table,
    el('caption', {}, 'Each cluster’s view of each release. Marked ≠: this cluster’s value differs from another cluster’s.'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Release'), heads)),
    el('tbody', {}, body),
  );
}
