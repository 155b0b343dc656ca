// The programme dashboard: follows the gateway's live persisted operations and renders the
// panels, each redrawn when its own answer changes and, within it, only the cells whose
// values changed (polling only while streaming is refused). Every cluster of the supergraph
// gets a column, from the generic comparison and rollout fields; one cluster's subgraph
// failing leaves the others on the page.
import { POLL_MS, describeErrors, errorSubject, followLive, persisted } from './api.js';
import { columnsOf, listed } from './clusters.js';
import { day, el, instant } from './dom.js';
import { renderFeeds } from './feeds.js';
import { renderMatrix } from './matrix.js';
import { renderRollout, rolloutRows } from './rollout.js';
import { legend, renderTimeline, timelineRows } from './timeline.js';

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

/** The report days before the latest of any cluster, whose plans the timeline shows as slipped. */
function earlierDays(releases) {
  const snapshots = releases.flatMap((r) => r.comparison?.snapshots ?? []);
  const latest = snapshots
    .map((s) => s.asOf)
    .sort()
    .at(-1);
  return [...new Set(snapshots.flatMap((s) => s.history.map((h) => h.asOf)).filter((d) => d < latest))].sort();
}

/**
 * Planned go-live dates of earlier reports (`cluster|release|odsCode` to dates), for the
 * timeline's slipped dates: one DashboardRolloutPlans per earlier report day of any cluster.
 */
async function earlierPlans(days) {
  const plans = new Map();
  const answers = await Promise.all(days.map((asOf) => persisted('DashboardRolloutPlans', { asOf })));
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

/** What the timeline draws: the go-lives the filters keep, with the earlier plans once loaded. */
const timeline = { rows: [], plans: new Map(), asOf: null, days: '' };
const drawTimeline = () => renderTimeline($('timeline'), timelineRows(timeline.rows, timeline.plans), timeline.asOf);

/** The latest answer of each live operation (null until it comes). */
const answers = { main: null, feeds: null };

/** The streams that are not live now, for the status line. */
const polling = new Set();
function showMode(name, mode) {
  mode === 'live' ? polling.delete(name) : polling.add(name);
  $('live').textContent = polling.size ? `Live updates: reconnecting; checking every ${POLL_MS / 1000} s meanwhile` : 'Live updates: on';
}

/**
 * Redraws what `changed` ('main' or 'feeds') feeds, and everything when the columns change
 * (a cluster joins, leaves or goes down): the matrix, go-lives and timeline come from the
 * main answer, the feed panel from FeedFreshness.
 */
function render(changed) {
  const { main, feeds } = answers;
  if (!main) return;
  const asOf = asOfParam();
  const asOfLabel = asOf ? `as of ${day(asOf)}` : 'from the latest reports';
  const releases = main.data?.releases ?? [];
  const trusts = main.data?.trusts ?? [];
  const errors = [...main.errors, ...(feeds?.errors ?? [])];
  showProblems(errors);
  if (!main.data) {
    // Nothing came back: keep what the page showed last, under the message saying why.
    if (feeds?.data) renderFeeds($('feeds'), feeds.data.feeds, []);
    document.body.dataset.state = 'failed';
    return;
  }
  // A subgraph FeedFreshness says is down is a cluster's (every feed is one cluster's).
  const feedSubgraphsDown = downSubgraphs(feeds?.errors ?? []);
  const before = JSON.stringify(columns);
  columns = columnsOf({ releases, feeds: feeds?.data?.feeds, trusts }, columns, downSubgraphs(errors), feedSubgraphsDown);
  const all = JSON.stringify(columns) !== before;
  if (all || changed === 'main') {
    showTitle(main.data.programme, columns);
    const rows = rolloutRows(trusts, columns);
    renderMatrix($('matrix'), releases, columns, rows);
    timeline.asOf = asOf;
    renderRollout($('rollout-filters'), $('rollout'), rows, asOfLabel, (shown) => {
      timeline.rows = shown;
      drawTimeline();
    });
    void followPlans(releases);
  }
  if (all || changed === 'feeds') renderFeeds($('feeds'), feeds?.data?.feeds ?? null, feedSources(releases, columns));
  $('updated').textContent = `Updated ${instant(new Date().toISOString())}`;
  document.body.dataset.state = 'ready';
}

/**
 * The planned dates of earlier reports, asked once per set of earlier report days: those
 * answers are about past days, and the live main answer says when that set changes.
 */
async function followPlans(releases) {
  const days = JSON.stringify(earlierDays(releases));
  if (days === timeline.days) return;
  timeline.days = days;
  const plans = await earlierPlans(JSON.parse(days));
  if (timeline.days !== days) return;
  timeline.plans = plans;
  drawTimeline();
}

let stopStreams = () => {};

/** Follows the live operations for the day asked for (again when the day changes). */
function follow() {
  stopStreams();
  const asOf = asOfParam();
  $('asof-shown').textContent = asOf ? `as of ${day(asOf)}` : 'from the latest reports';
  answers.main = answers.feeds = null;
  timeline.days = '';
  const streams = [
    followLive(
      'DashboardReleases',
      asOf ? { asOf } : {},
      (answer) => ((answers.main = answer), render('main')),
      (mode) => showMode('main', mode),
    ),
    followLive(
      'FeedFreshness',
      {},
      (answer) => ((answers.feeds = answer), render('feeds')),
      (mode) => showMode('feeds', mode),
    ),
  ];
  stopStreams = () => streams.forEach((stop) => stop());
}

function wireAsOf() {
  const form = $('asof-form');
  const input = form.elements.asOf;
  input.value = asOfParam() ?? '';
  const go = (value) => {
    const url = new URL(location.href);
    value ? url.searchParams.set('asOf', value) : url.searchParams.delete('asOf');
    history.pushState(null, '', url);
    follow();
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
    follow();
  };
}

$('timeline').append(legend());
wireAsOf();
follow();
