// The programme dashboard: loads the gateway's persisted operations, renders the panels,
// and refreshes when a feed changes (server-sent events from /events; polling when the
// stream is down). Every cluster of the supergraph gets a column, from the generic
// comparison and rollout fields; one cluster's subgraph failing leaves the others on the page.
import { describeErrors, errorSubject, persisted } from './api.js';
import { columnsOf, listed } from './clusters.js';
import { day, el, instant } from './dom.js';
import { renderFeeds } from './feeds.js';
import { renderMatrix } from './matrix.js';
import { renderRollout, rolloutRows } from './rollout.js';
import { legend, renderTimeline, timelineRows } from './timeline.js';

const POLL_MS = 30_000;
const $ = (id) => document.getElementById(id);

/** The day asked for (`?asOf=yyyy-mm-dd`), or null for the latest reports. */
function asOfParam() {
  const value = new URLSearchParams(location.search).get('asOf');
  return value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null;
}

/** The subgraphs the errors say are down. */
function downSubgraphs(errors) {
  return new Set(errors.map(errorSubject).filter(Boolean));
}

function showProblems(errors) {
  const box = $('problems');
  const lines = describeErrors(errors);
  if (!lines.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const down = [...downSubgraphs(errors)];
  box.hidden = false;
  box.replaceChildren(
    el('h2', {}, 'Some data is missing'),
    el(
      'ul',
      {},
      lines.map((line) => el('li', {}, line)),
    ),
    el(
      'p',
      {},
      down.length
        ? `Missing below: what the ${listed(down)} subgraph${down.length === 1 ? ' provides' : 's provide'}. Everything else is current; the page updates by itself when ${down.length === 1 ? 'it is' : 'they are'} back.`
        : 'The page updates by itself when the gateway answers again.',
    ),
  );
}

/** The title and the programme's line, from the programme's data and the clusters shown. */
function showTitle(programme, columns) {
  const names = columns.map((c) => c.name ?? c.subgraph ?? c.id);
  const heading = names.length ? `Cerner Millennium rollout: ${listed(names)} side by side` : 'Cerner Millennium rollout';
  $('title').textContent = heading;
  document.title = programme ? `${heading}: ${programme.name}` : heading;
  if (programme) $('programme').textContent = `${programme.name}. Completion target: ${programme.completionTargetYear}.`;
}

/**
 * Planned go-live dates of earlier reports (`cluster|release|odsCode` to dates), for the
 * timeline's slipped dates: one DashboardRolloutPlans per earlier report day of any cluster.
 */
async function earlierPlans(releases) {
  const snapshots = releases.flatMap((r) => r.comparison?.snapshots ?? []);
  const latest = snapshots
    .map((s) => s.asOf)
    .sort()
    .at(-1);
  const reports = new Set(snapshots.flatMap((s) => s.history.map((h) => h.asOf)).filter((d) => d < latest));
  const plans = new Map();
  const answers = await Promise.all([...reports].map((asOf) => persisted('DashboardRolloutPlans', { asOf })));
  for (const answer of answers)
    for (const trust of answer.data?.trusts ?? [])
      for (const entry of trust.rolloutAcrossClusters) {
        if (!entry.plannedGoLive) continue;
        const key = `${entry.cluster.id}|${entry.release.code}|${trust.odsCode}`;
        plans.set(key, [...(plans.get(key) ?? []), entry.plannedGoLive]);
      }
  return plans;
}

/** For the feed panel when FeedFreshness fails: the report each column's values come from. */
function feedSources(releases, shown) {
  const byCluster = new Map();
  for (const s of releases.flatMap((r) => r.comparison?.snapshots ?? []))
    byCluster.set(s.cluster.id, { cluster: s.cluster.id, supplier: s.view.supplier.id, asOf: s.asOf, file: s.file });
  for (const c of shown.filter((column) => column.unavailable))
    byCluster.set(c.id, { cluster: c.id, supplier: c.supplier?.id ?? '—', asOf: null, file: 'unavailable: its subgraph did not answer' });
  return [...byCluster.values()];
}

/** The columns shown last, so a cluster whose subgraph goes down keeps its column. */
let columns = [];
/** The subgraphs with a feed (cluster subgraphs) that /events says are down now. */
let feedSubgraphsDown = new Set();

/** What the timeline draws: the go-lives the filters keep, with the earlier plans once loaded. */
const timeline = { rows: [], plans: new Map(), asOf: null };
const drawTimeline = () => renderTimeline($('timeline'), timelineRows(timeline.rows, timeline.plans), timeline.asOf);

let running = null;
let again = false;

/** Loads everything and redraws; a refresh asked for while one runs runs after it. */
function refresh() {
  if (running) {
    again = true;
    return running;
  }
  running = load().finally(() => {
    running = null;
    if (again) {
      again = false;
      void refresh();
    }
  });
  return running;
}

async function load() {
  const asOf = asOfParam();
  const asOfLabel = asOf ? `as of ${day(asOf)}` : 'from the latest reports';
  $('asof-shown').textContent = asOfLabel;
  const [main, feeds] = await Promise.all([persisted('DashboardReleases', asOf ? { asOf } : {}), persisted('FeedFreshness')]);
  const releases = main.data?.releases ?? [];
  const trusts = main.data?.trusts ?? [];
  showProblems([...main.errors, ...feeds.errors]);
  if (main.data) {
    const down = downSubgraphs([...main.errors, ...feeds.errors]);
    columns = columnsOf({ releases, feeds: feeds.data?.feeds, trusts }, columns, down, feedSubgraphsDown);
    showTitle(main.data.programme, columns);
    const rows = rolloutRows(trusts, columns);
    renderMatrix($('matrix'), releases, columns, rows);
    timeline.asOf = asOf;
    timeline.plans = new Map();
    renderRollout($('rollout-filters'), $('rollout'), rows, asOfLabel, (shown) => {
      timeline.rows = shown;
      drawTimeline();
    });
    renderFeeds($('feeds'), feeds.data?.feeds ?? null, feedSources(releases, columns));
    $('updated').textContent = `Updated ${instant(new Date().toISOString())}`;
    document.body.dataset.state = 'ready';
    timeline.plans = await earlierPlans(releases);
    drawTimeline();
  } else {
    // Nothing came back: keep what the page showed last, under the message saying why.
    if (feeds.data) renderFeeds($('feeds'), feeds.data.feeds, []);
    document.body.dataset.state = 'failed';
  }
}

/** Follows /events; while it is down, polls. */
function follow() {
  let last = null;
  let poll = null;
  const status = $('live');
  const startPolling = () => {
    poll ??= setInterval(refresh, POLL_MS);
    status.textContent = `Live updates: reconnecting; checking every ${POLL_MS / 1000} s meanwhile`;
  };
  if (!('EventSource' in window)) return startPolling();
  const events = new EventSource('/events');
  events.addEventListener('feeds', (event) => {
    clearInterval(poll);
    poll = null;
    status.textContent = 'Live updates: on';
    const unavailable = feedSubgraphsDown;
    feedSubgraphsDown = new Set(JSON.parse(event.data).unavailable ?? []);
    // The first event can name a cluster subgraph that was down before the page knew its column.
    const newlyDown = [...feedSubgraphsDown].some((name) => !unavailable.has(name));
    if ((last !== null && event.data !== last) || (last === null && newlyDown)) void refresh();
    last = event.data;
  });
  events.onerror = startPolling;
}

function wireAsOf() {
  const form = $('asof-form');
  const input = form.elements.asOf;
  input.value = asOfParam() ?? '';
  const go = (value) => {
    const url = new URL(location.href);
    value ? url.searchParams.set('asOf', value) : url.searchParams.delete('asOf');
    history.pushState(null, '', url);
    void refresh();
  };
  form.onsubmit = (event) => {
    event.preventDefault();
    go(input.value);
  };
  $('asof-latest').onclick = () => {
    input.value = '';
    go('');
  };
  window.onpopstate = () => {
    input.value = asOfParam() ?? '';
    void refresh();
  };
}

$('timeline').append(legend());
wireAsOf();
follow();
void refresh();
