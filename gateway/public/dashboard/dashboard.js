// The programme dashboard: loads the gateway's persisted operations, renders the panels,
// and refreshes when a feed changes (server-sent events from /events; polling when the
// stream is down). One cluster's subgraph failing leaves the other clusters on the page.
import { describeErrors, errorSubject, persisted } from './api.js';
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

/** The release fields of DashboardReleases that are not cluster views. */
const RELEASE_FIELDS = new Set(['code', 'name', 'spineCompliant', 'dueYear', 'comparison']);

/** The fields of a release that are cluster views (null when that cluster's subgraph failed). */
function clusterFieldsOf(releases) {
  return [...new Set(releases.flatMap((release) => Object.keys(release).filter((key) => !RELEASE_FIELDS.has(key))))];
}

function showProblems(errors, clusterFields) {
  const box = $('problems');
  const lines = describeErrors(errors);
  if (!lines.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const down = [...new Set(errors.map((e) => errorSubject(e, clusterFields)).filter(Boolean))];
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
        ? `Missing below: what the ${down.join(' and ')} subgraph${down.length === 1 ? ' provides' : 's provide'}. Everything else is current; the page updates by itself when ${down.length === 1 ? 'it is' : 'they are'} back.`
        : 'The page updates by itself when the gateway answers again.',
    ),
  );
}

/** Planned go-live dates of earlier reports, for the timeline's slipped dates. */
async function earlierPlans(releases, clusterFields) {
  const current = releases.flatMap((r) => clusterFields.map((f) => r[f]?.source.asOf)).filter(Boolean);
  const latest = current.sort().at(-1);
  const reports = new Set(
    releases.flatMap((r) => clusterFields.flatMap((f) => (r[f]?.history ?? []).map((h) => h.asOf))).filter((d) => d < latest),
  );
  const plans = new Map();
  const answers = await Promise.all([...reports].map((asOf) => persisted('DashboardRolloutPlans', { asOf })));
  for (const answer of answers)
    for (const release of answer.data?.releases ?? [])
      for (const field of clusterFields)
        for (const entry of release[field]?.rollout ?? []) {
          if (!entry.plannedGoLive) continue;
          const key = `${release[field].cluster.id}|${release.code}|${entry.trust.odsCode}`;
          plans.set(key, [...(plans.get(key) ?? []), entry.plannedGoLive]);
        }
  return plans;
}

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
  const clusterFields = clusterFieldsOf(releases);
  const unavailable = new Set(main.errors.map((e) => errorSubject(e, clusterFields)).filter(Boolean));
  showProblems([...main.errors, ...feeds.errors], clusterFields);
  if (main.data) {
    renderMatrix($('matrix'), releases, clusterFields, unavailable);
    const rows = rolloutRows(releases, clusterFields);
    renderRollout($('rollout-filters'), $('rollout'), rows, asOfLabel);
    renderTimeline($('timeline'), timelineRows(rows, new Map()), asOf);
    const sources = [
      ...new Map(
        releases
          .flatMap((r) => clusterFields.map((f) => r[f]))
          .filter(Boolean)
          .map((v) => [v.cluster.id, { cluster: v.cluster.id, supplier: v.supplier.id, asOf: v.source.asOf, file: v.source.file }]),
      ).values(),
      ...clusterFields
        .filter((f) => unavailable.has(f) && !releases.some((r) => r[f]))
        .map((f) => ({ cluster: f.toUpperCase(), supplier: '—', asOf: null, file: 'unavailable: its subgraph did not answer' })),
    ];
    renderFeeds($('feeds'), feeds.data?.feeds ?? null, sources);
    $('updated').textContent = `Updated ${instant(new Date().toISOString())}`;
    document.body.dataset.state = 'ready';
    const plans = await earlierPlans(releases, clusterFields);
    renderTimeline($('timeline'), timelineRows(rows, plans), asOf);
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
    if (last !== null && event.data !== last) void refresh();
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
