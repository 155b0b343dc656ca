// The feed-freshness panel: per supplier, the report served, when it was loaded, and the
// last file refused with its first problem.
import { el, instant, time, columnHeads, patchChildren } from './dom.js';

/**
 * Renders `feeds` (the FeedFreshness operation's answer) into `table`. When that answer is
 * missing (a subgraph is down), `sources` (each shown view's feed source) still gives the
 * report each answering cluster serves.
 */
export function renderFeeds(table, feeds, sources) {
  const rows = feeds
    ? feeds.map((feed) => ({
        cluster: feed.cluster.id,
        supplier: feed.supplier.id,
        asOf: feed.current?.asOf,
        file: feed.current?.file ?? 'no report accepted yet',
        loadedAt: feed.loadedAt,
        snapshots: feed.snapshots,
        rejected: feed.lastRejected,
        store: feed.store,
      }))
    : sources;
  patchChildren(
    table,
    el(
      'caption',
      {},
      feeds
        ? 'Each supplier’s feed now (whichever day is shown above), as its subgraph reports it'
        : 'Feed status is unavailable; the data above comes from these reports',
    ),
    columnHeads(['Cluster', 'Supplier', 'Report as of', 'File', 'Loaded', 'Reports kept', 'Last refused file', 'Store']),
    el(
      'tbody',
      {},
      rows.map((row) =>
        el(
          'tr',
          { 'data-cluster': row.cluster },
          el('th', { scope: 'row' }, row.cluster),
          el('td', {}, row.supplier),
          el('td', { class: 'feed-asof' }, time(row.asOf) ?? 'none'),
          el('td', {}, row.file),
          el('td', {}, row.loadedAt ? instant(row.loadedAt) : '—'),
          el('td', {}, row.snapshots ?? '—'),
          el('td', { class: 'feed-rejected' }, rejected(row.rejected)),
          el('td', {}, row.store ? store(row.store) : '—'),
        ),
      ),
    ),
  );
}

function rejected(last) {
  if (last === undefined) return '—';
  if (!last) return 'none';
  const first = last.errors[0];
  return [
    el('strong', {}, last.file),
    ` at ${instant(last.rejectedAt)}: ${last.errorCount} problem${last.errorCount === 1 ? '' : 's'}`,
    first ? el('div', { class: 'note' }, first.message) : null,
  ];
}

function store(status) {
  const name = status.backend === 'REDIS' ? 'Redis' : 'memory';
  return status.available ? name : `${name}: not answering${status.message ? ` (${status.message})` : ''}`;
}
