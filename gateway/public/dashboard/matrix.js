// The release × cluster matrix: each cluster's view of each release side by side, with the
// aspects that differ between clusters marked (from the gateway's comparison).
import { badge, day, el, hidden, time } from './dom.js';

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
  const actual = view.rollout
    .map((e) => e.actualGoLive)
    .filter(Boolean)
    .sort();
  return [`${view.trustsLive} of ${view.trustsPlanned} live`, actual.length ? [', first ', time(actual[0])] : null];
}

/** The aspects that differ, when the comparison covers every cluster shown; else null. */
function differing(release, shown) {
  const comparison = release.comparison;
  if (!comparison || comparison.snapshots.length < 2 || comparison.snapshots.length !== shown) return null;
  return new Set(comparison.aspects.filter((a) => a.differs).map((a) => a.aspect));
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

/**
 * Renders the matrix into `table`: a row per release, a column per cluster field.
 * `unavailable` holds the cluster fields whose subgraph reported an error.
 */
export function renderMatrix(table, releases, clusterFields, unavailable) {
  const heads = clusterFields.map((field) => {
    const named = releases.map((r) => r[field]).find(Boolean);
    const title = named ? `${named.cluster.name} (${named.supplier.name})` : field[0].toUpperCase() + field.slice(1);
    return el('th', { scope: 'col', 'data-cluster': field }, title);
  });
  const rows = releases.map((release) => {
    const shown = clusterFields.filter((f) => release[f]).length;
    const differs = differing(release, shown);
    const divergent = differs !== null && differs.size > 0;
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
        differs === null && shown > 0
          ? el('span', { class: 'note' }, unavailable.size ? 'Comparison unavailable' : 'Nothing to compare yet')
          : null,
      ),
      clusterFields.map((field) => withCluster(cell(release[field], differs, unavailable.has(field)), field)),
    );
  });
  table.replaceChildren(
    el('caption', {}, 'Each cluster’s view of each release. Marked ≠: the clusters differ on that aspect.'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Release'), heads)),
    el('tbody', {}, rows),
  );
}

function withCluster(td, field) {
  td.dataset.cluster = field;
  return td;
}
