// Which clusters the page shows, as columns: learnt from the data (the comparison's
// snapshots, the feeds, the go-lives), never from field names, so a cluster that joins the
// supergraph gets a column and one that is withdrawn loses it, with no change to this page.

/**
 * The columns to show, in a stable order: the ones shown before that are still there, then
 * the new ones as the data names them. A column shown before whose subgraph is down now
 * (`down`: subgraph names from the errors) stays, marked unavailable; one that the data no
 * longer names and no error speaks for has been withdrawn, and goes. A cluster subgraph that
 * is down before the page ever knew its cluster (named in `down` and in `feedSubgraphsDown`,
 * the /events stream's list) gets a column named after the subgraph.
 */
export function columnsOf({ releases, feeds, trusts }, previous, down, feedSubgraphsDown = new Set()) {
  const found = new Map();
  const add = (id, facts) => {
    const known = found.get(id) ?? { id, name: null, supplier: null, subgraph: null };
    for (const [key, value] of Object.entries(facts)) if (value != null && known[key] == null) known[key] = value;
    found.set(id, known);
  };
  for (const release of releases)
    for (const snapshot of release.comparison?.snapshots ?? [])
      add(snapshot.cluster.id, { name: snapshot.cluster.name, supplier: snapshot.view.supplier });
  for (const feed of feeds ?? []) add(feed.cluster.id, { subgraph: feed.id });
  for (const trust of trusts) for (const entry of trust.rolloutAcrossClusters) add(entry.cluster.id, { name: entry.cluster.name });
  const kept = [];
  for (const before of previous) {
    const now = found.get(before.id);
    if (now) {
      kept.push({ ...before, ...definedOnly(now) });
      found.delete(before.id);
    } else if (before.subgraph && down.has(before.subgraph)) {
      kept.push(before);
    }
  }
  const placed = new Set([...kept, ...found.values()].map((column) => column.subgraph));
  for (const subgraph of down)
    if (feedSubgraphsDown.has(subgraph) && !placed.has(subgraph))
      found.set(subgraph, { id: subgraph, name: null, supplier: null, subgraph });
  return [...kept, ...found.values()].map((column) => ({ ...column, unavailable: column.subgraph !== null && down.has(column.subgraph) }));
}

function definedOnly(facts) {
  return Object.fromEntries(Object.entries(facts).filter(([, value]) => value != null));
}

/** A column's heading: the cluster's name and its supplier's, else its subgraph's name. */
export function columnTitle(column) {
  if (!column.name) return column.subgraph ?? column.id;
  return column.supplier?.name ? `${column.name} (${column.supplier.name})` : column.name;
}

/** "A", "A and B", "A, B and C". */
export function listed(words) {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}
