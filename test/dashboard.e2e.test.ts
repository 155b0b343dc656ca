/**
 * The programme dashboard in a real (headless) Chromium with no internet: the story's facts
 * as a board member reads them, filters used by keyboard, a new feed report changing only
 * the cells it changes (live persisted operations, no reload), one cluster's subgraph going down and coming back, and a third cluster
 * published at runtime getting its own column (and losing it when withdrawn).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import type { RolloutRecord } from '../subgraphs/kit/feed.js';
import { listen } from '../subgraphs/kit/http.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { loadSouthConfig } from '../subgraphs/south/config.js';
import { buildSouthSubgraph } from '../subgraphs/south/server.js';
import { ARTIFACTS_DIR, launchOfflineBrowser, type OfflineBrowser } from './browser.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { EPHEMERAL_ENV, startTestStack } from './helpers.js';

const FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'msg-dashboard-'));

// A third cluster for the tests that publish one: the NME fixture, with two trusts of its
// own (synthetic codes) and a go-live for each in its report.
const NME_TRUSTS = [
  { odsCode: 'NX1', name: 'Northern Test Hospitals NHS Trust', clusterId: 'NME' },
  { odsCode: 'NX2', name: 'Eastern Test Hospitals NHS Trust', clusterId: 'NME' },
];
const trustsFile = join(dir, 'nme-trusts.json');
writeFileSync(trustsFile, JSON.stringify(NME_TRUSTS));
const nmeFeed = join(dir, 'nme-feed');
mkdirSync(nmeFeed);
for (const file of readdirSync(nmeFeedDir)) {
  const report = JSON.parse(readFileSync(join(nmeFeedDir, file), 'utf8')) as Record<string, unknown>;
  const rollout: Omit<RolloutRecord, 'trustName'>[] = [
    {
      odsCode: 'NX1',
      releaseCode: 'R0',
      status: 'LIVE',
      localStatus: 'Live',
      plannedGoLive: '2006-10-01',
      actualGoLive: '2006-11-20',
      note: null,
    },
    {
      odsCode: 'NX2',
      releaseCode: 'R2',
      status: 'PLANNED',
      localStatus: 'Scheduled',
      plannedGoLive: '2010-03-01',
      actualGoLive: null,
      note: null,
    },
  ];
  writeFileSync(join(nmeFeed, file), JSON.stringify({ ...report, rollout }));
}
/** The NME fixture's format, reading the go-lives this test adds to its report. */
const nmeWithRollout: ClusterSubgraphDefinition<object> = {
  ...(nmeSubgraph as ClusterSubgraphDefinition<object>),
  format: {
    extension: nmeSubgraph.format.extension,
    parse(input) {
      const parsed = nmeSubgraph.format.parse(input);
      const rollout = (JSON.parse(input.text) as { rollout: Omit<RolloutRecord, 'trustName'>[] }).rollout;
      const names = new Map(NME_TRUSTS.map((t) => [t.odsCode, t.name]));
      return {
        ...parsed,
        rollout: rollout.map((entry, i) => ({ path: `$.rollout[${i}]`, value: { ...entry, trustName: names.get(entry.odsCode)! } })),
      };
    },
  },
};
const tokensFile = join(dir, 'tokens.json');
const csc = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme'], operator: false });

const env = { SOUTH_FEED_DIR: dir, FEED_POLL_MS: '50', EXTRA_TRUSTS_FILE: trustsFile, REGISTRY_TOKENS_FILE: tokensFile };
let stack: Stack;
let browser: OfflineBrowser;
let base: string;
const extraServices: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  // The South's reports up to the day of the story; a later one arrives during a test.
  for (const file of readdirSync(FEED).filter((f) => f <= 'fujitsu-south-2007-09-06.csv')) copyFileSync(join(FEED, file), join(dir, file));
  stack = await startTestStack({ env, log: () => {} });
  base = new URL('/', stack.gatewayUrl).href;
  browser = await launchOfflineBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  for (const service of extraServices) await service.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openDashboard(query = ''): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(new URL(`/dashboard${query}`, base).href);
  await page.locator('body[data-state="ready"]').waitFor({ timeout: 15_000 });
  return page;
}

/** The matrix cell of one release in one cluster. */
const cell = (page: Page, release: string, cluster: string) =>
  page.locator(`#matrix tr[data-release="${release}"] td[data-cluster="${cluster}"]`);

describe('a cluster that joins at runtime', () => {
  let nmeUrl: string;
  const registry = (method: string, body?: unknown) =>
    fetch(new URL('/registry/subgraphs/nme', base), {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${csc}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const columns = (page: Page) =>
    page.locator('#matrix thead th[data-cluster]').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-cluster')));

  beforeAll(async () => {
    const reference = feedReferenceOf(await loadReference(trustsFile));
    const built = await buildClusterSubgraph(nmeWithRollout, { feedDir: nmeFeed, reference, pollMs: 0 });
    const nme = await listen(built.service, '127.0.0.1', 0);
    extraServices.push(nme);
    nmeUrl = nme.url;
  });

  it('gets a column, difference marks, go-lives and the timeline, without a reload', async () => {
    const errorsBefore = browser.pageErrors.length;
    const page = await openDashboard('?asOf=2007-09-30');
    expect(await columns(page)).toEqual(['SOUTH', 'LONDON']);
    expect(await page.locator('h1').innerText()).toBe(
      'Cerner Millennium rollout: Southern Programme for IT and London Programme for IT side by side',
    );
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

    const published = await registry('POST', { sdl: nmeSubgraph.sdl, url: nmeUrl });
    expect(published.status).toBe(201);
    await expect.poll(() => columns(page), { timeout: 15_000 }).toEqual(['SOUTH', 'LONDON', 'NME']);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.locator('#matrix thead th[data-cluster="NME"]').innerText()).toBe(
      'North, Midlands and East Programme for IT (Computer Sciences Corporation)',
    );
    expect(await page.locator('h1').innerText()).toBe(
      'Cerner Millennium rollout: Southern Programme for IT, London Programme for IT and North, Midlands and East Programme for IT side by side',
    );
    expect(await page.locator('#programme').innerText()).toContain('National Programme for IT in the NHS');

    // R2 in three clusters: the NME plans 2010 where the others plan 2009, and its cell says so.
    const nmeR2 = cell(page, 'R2', 'NME');
    expect(await nmeR2.innerText()).toMatch(/Planned\s+2010/);
    expect(await nmeR2.locator('.differs dt').allInnerTexts()).toContain('Planned');
    await expect
      .poll(() => cell(page, 'R2', 'SOUTH').locator('.differs dt').allInnerTexts())
      .toEqual(expect.arrayContaining(['Design', 'Planned']));
    // R1, which the NME has no view of, keeps the South and London's marks.
    expect(await cell(page, 'R1', 'NME').innerText()).toBe('No report yet');
    expect(await cell(page, 'R1', 'SOUTH').locator('.differs').count()).toBeGreaterThan(0);
    expect(await cell(page, 'R1', 'LONDON').locator('.differs').count()).toBeGreaterThan(0);
    expect(await page.locator('#matrix').innerText()).not.toContain('Nothing to compare yet');
    expect(await cell(page, 'R0', 'NME').innerText()).toContain('1 of 1 live, first 20 November 2006');

    // Its trusts in the go-lives, the cluster filter and the timeline.
    await expect.poll(() => page.locator('#rollout tbody tr[data-cluster="NME"]').count()).toBe(2);
    expect(await page.locator('#rollout tr[data-ods="NX1"]').getAttribute('data-status')).toBe('LIVE');
    expect(await page.getByRole('combobox', { name: 'Cluster' }).locator('option').allInnerTexts()).toContain(
      'North, Midlands and East Programme for IT',
    );
    expect(await page.locator('#timeline g[data-ods="NX1"] title').textContent()).toContain('live 20 November 2006');
    expect(await page.locator('#timeline g[data-ods="NX2"] title').textContent()).toContain('planned 1 March 2010');
    expect(await page.locator('#timeline text.tl-cluster').allTextContents()).toContain('North, Midlands and East Programme for IT');
    // The timeline honours the status filter.
    await page.getByRole('combobox', { name: 'Status' }).selectOption('LIVE');
    await expect.poll(() => page.locator('#timeline g[data-ods="NX2"]').count()).toBe(0);
    expect(await page.locator('#timeline g[data-ods="NX1"]').count()).toBe(1);
    expect(await page.locator('#feeds tr[data-cluster="NME"] .feed-asof').innerText()).toBe('6 September 2007');
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-three-clusters.png'), fullPage: true });
    expect(browser.pageErrors.slice(errorsBefore)).toEqual([]);
    await page.close();
  });

  it('loses the column when the cluster is withdrawn', async () => {
    const errorsBefore = browser.pageErrors.length;
    const page = await openDashboard('?asOf=2007-09-30');
    expect(await columns(page)).toEqual(['SOUTH', 'LONDON', 'NME']);
    const withdrawn = await registry('DELETE');
    expect(withdrawn.ok).toBe(true);
    await expect.poll(() => columns(page), { timeout: 15_000 }).toEqual(['SOUTH', 'LONDON']);
    expect(await page.locator('h1').innerText()).toBe(
      'Cerner Millennium rollout: Southern Programme for IT and London Programme for IT side by side',
    );
    expect(await page.locator('#rollout tbody tr[data-cluster="NME"]').count()).toBe(0);
    expect(await page.locator('#timeline g[data-ods="NX1"]').count()).toBe(0);
    expect(await page.getByRole('alert').isVisible()).toBe(false);
    expect(browser.pageErrors.slice(errorsBefore)).toEqual([]);
    await page.close();
  });
});

describe('the programme dashboard', () => {
  it('shows R2 suspended in the South since 17 August 2007, and not in London', async () => {
    const page = await openDashboard('?asOf=2007-09-30');
    await expect.poll(() => page.locator('#asof-shown').innerText()).toBe('as of 30 September 2007');
    const south = await cell(page, 'R2', 'SOUTH').innerText();
    const london = await cell(page, 'R2', 'LONDON').innerText();
    expect(south).toMatch(/Design\s+Suspended since 17 August 2007/);
    expect(london).toMatch(/Design\s+Active/);
    expect(london).not.toContain('Suspended');
    // The divergence is marked on both sides, in words for screen readers too.
    await expect
      .poll(() => page.locator('#matrix tr[data-release="R2"] .differs dt').allInnerTexts())
      .toEqual(['Local name', 'Design', 'Local name', 'Design']);
    expect(await cell(page, 'R2', 'SOUTH').locator('.visually-hidden').first().innerText()).toContain('differs between clusters');
    expect(browser.blocked).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it('lists the six South and one London trusts live on R0 in September 2007, filtered by keyboard', async () => {
    const page = await openDashboard();
    // Choose the day with the keyboard: the date field, then Enter.
    const day = page.getByLabel('Show the reports as of');
    await day.fill('2007-09-30');
    await day.press('Enter');
    await expect.poll(() => page.locator('#asof-shown').innerText()).toBe('as of 30 September 2007');
    await expect.poll(() => page.locator('#rollout caption').innerText()).toContain('as of 30 September 2007');
    const release = page.getByRole('combobox', { name: 'Release' });
    await release.focus();
    await release.selectOption('R0');
    await page.keyboard.press('Tab');
    await expect(page.getByRole('combobox', { name: 'Status' }).evaluate((e) => e === document.activeElement)).resolves.toBe(true);
    await page.getByRole('combobox', { name: 'Status' }).selectOption('LIVE');
    const table = page.getByRole('table', { name: /^Go-lives as of 30 September 2007/ });
    await expect.poll(() => table.locator('tbody tr[data-cluster="SOUTH"]').count()).toBe(6);
    expect(await table.locator('tbody tr[data-cluster="LONDON"]').count()).toBe(1);
    expect(await table.locator('tbody tr[data-status="LIVE"][data-release="R0"]').count()).toBe(7);
    expect(await table.locator('tbody tr th[scope="row"]', { hasText: 'Barnet and Chase Farm' }).count()).toBe(1);
    expect(await cell(page, 'R0', 'SOUTH').innerText()).toContain('6 of 9 live');
    expect(await cell(page, 'R0', 'LONDON').innerText()).toContain('1 of 3 live');
    expect(new URL(page.url()).searchParams.get('status')).toBe('LIVE');
    // Landmarks a screen reader user navigates by.
    for (const role of ['banner', 'navigation', 'main', 'contentinfo'] as const) expect(await page.getByRole(role).count(), role).toBe(1);
    // The timeline draws what the filters keep: the live go-lives, not Taunton's postponed one.
    await expect.poll(() => page.locator('#timeline g.tl-row').count()).toBeGreaterThan(0);
    expect(await page.locator('#timeline g.tl-row:not(.status-live)').count()).toBe(0);
    expect(await page.locator('#timeline g[data-ods="RBA"]').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard.png'), fullPage: true });
    await page.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(13);
    // The slipped dates of earlier reports are drawn: Taunton's 7 October 2006 among them.
    await expect.poll(() => page.locator('#timeline g[data-ods="RBA"] title').textContent()).toContain('earlier planned 7 October 2006');
    expect(browser.blocked).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it('follows a new report live: only the cells it changes change, with no reload', async () => {
    const latest = await openDashboard();
    const past = await openDashboard('?asOf=2007-09-30');
    const southFeed = latest.locator('#feeds tr[data-cluster="SOUTH"] .feed-asof');
    expect(await southFeed.innerText()).toBe('6 September 2007');
    const worthing = latest.locator('#rollout tr[data-ods="RPL"]');
    expect(await worthing.getAttribute('data-status')).toBe('PLANNED');
    // Every change to a section's DOM from now on, by the cluster (column or row) it is in.
    const watch = (page: Page) =>
      page.evaluate(() => {
        const w = window as unknown as { notReloaded: boolean; changes: { section: string; cluster: string | null }[] };
        w.notReloaded = true;
        w.changes = [];
        const observer = new MutationObserver((records) => {
          for (const record of records) {
            const node = record.target instanceof Element ? record.target : record.target.parentElement!;
            const section = node.closest('#matrix, #rollout, #feeds')!.id;
            w.changes.push({ section, cluster: node.closest('[data-cluster]')?.getAttribute('data-cluster') ?? null });
          }
        });
        for (const id of ['matrix', 'rollout', 'feeds'])
          observer.observe(document.getElementById(id)!, { subtree: true, childList: true, characterData: true, attributes: true });
        (document.querySelector('#matrix tr[data-release="R2"] td[data-cluster="LONDON"]') as unknown as { marked: boolean }).marked = true;
      });
    const seen = (page: Page) =>
      page.evaluate(() => {
        const w = window as unknown as { notReloaded?: boolean; changes: { section: string; cluster: string | null }[] };
        const london = document.querySelector('#matrix tr[data-release="R2"] td[data-cluster="LONDON"]') as unknown as { marked?: boolean };
        return { notReloaded: w.notReloaded, londonCellKept: london.marked === true, changes: w.changes };
      });
    for (const page of [latest, past]) {
      await expect.poll(() => page.locator('#live').innerText()).toBe('Live updates: on');
      await watch(page);
    }
    copyFileSync(join(FEED, 'fujitsu-south-2008-01-31.csv'), join(dir, 'fujitsu-south-2008-01-31.csv'));
    await expect.poll(() => southFeed.innerText(), { timeout: 15_000 }).toBe('31 January 2008');
    await expect.poll(() => worthing.getAttribute('data-status')).toBe('LIVE');
    await expect.poll(() => past.locator('#feeds tr[data-cluster="SOUTH"] .feed-asof').innerText()).toBe('31 January 2008');
    // Give a stray redraw time to show.
    await latest.waitForTimeout(500);

    // The latest reports: the South's cells in each section changed, nothing else did.
    const now = await seen(latest);
    expect(now.notReloaded).toBe(true);
    expect(now.londonCellKept).toBe(true);
    for (const section of ['matrix', 'rollout', 'feeds'])
      expect(now.changes.filter((c) => c.section === section).length, section).toBeGreaterThan(0);
    expect(now.changes.filter((c) => c.cluster !== 'SOUTH')).toEqual([]);
    expect(await cell(latest, 'R2', 'LONDON').innerText()).toContain('LC2');

    // As of 30 September 2007 the report changes no answer but the feeds': only the South's feed row changed.
    const then = await seen(past);
    expect(then.notReloaded).toBe(true);
    expect(then.changes.length).toBeGreaterThan(0);
    expect(then.changes.filter((c) => c.section !== 'feeds' || c.cluster !== 'SOUTH')).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    await latest.close();
    await past.close();
  });

  it('follows only the gateway’s persisted operations, live ones over server-sent events, and starts with a skip link', async () => {
    const page = await browser.newPage();
    const asked: { id: string | null; method: string; accept?: string; preflight?: string; query: boolean }[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname !== '/graphql') return;
      const body = r.method() === 'POST' ? (JSON.parse(r.postData()!) as { documentId?: string; query?: string }) : null;
      asked.push({
        id: body ? (body.documentId ?? null) : url.searchParams.get('documentId'),
        method: r.method(),
        accept: r.headers()['accept'],
        preflight: r.headers()['apollo-require-preflight'],
        query: body ? body.query !== undefined : url.searchParams.has('query'),
      });
    });
    await page.goto(new URL('/dashboard?asOf=2007-09-30', base).href);
    await page.locator('body[data-state="ready"]').waitFor();
    await expect.poll(() => page.locator('#timeline g[data-ods="RBA"] title').textContent()).toContain('earlier planned');
    await expect.poll(() => page.locator('#live').innerText()).toBe('Live updates: on');
    // The two live answers: one stream each.
    const streams = asked.filter((a) => a.method === 'POST');
    expect(streams.map((a) => a.id).sort()).toEqual(['DashboardReleases', 'FeedFreshness']);
    for (const a of streams) expect(a.accept).toBe('text/event-stream');
    // The earlier reports' plans, once per day, by GET.
    const gets = asked.filter((a) => a.method === 'GET');
    expect(new Set(gets.map((a) => a.id))).toEqual(new Set(['DashboardRolloutPlans']));
    for (const a of gets) expect(a.preflight).toBe('true');
    expect(asked.filter((a) => a.query)).toEqual([]);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the dashboard');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.close();
  });

  it('polls every 30 seconds while streaming is refused, and streams again once it is not', async () => {
    const page = await browser.newPage();
    let refuse = true;
    await page.route('**/graphql', (route) =>
      refuse && route.request().headers()['accept'] === 'text/event-stream'
        ? route.fulfill({ status: 429, headers: { 'retry-after': '30' }, contentType: 'application/json', body: '{"errors":[]}' })
        : route.continue(),
    );
    await page.clock.install();
    let loads = 0;
    page.on('request', (r) => {
      if (r.method() === 'GET' && new URL(r.url()).searchParams.get('documentId') === 'DashboardReleases') loads++;
    });
    await page.goto(new URL('/dashboard', base).href);
    await page.locator('body[data-state="ready"]').waitFor();
    await expect.poll(() => page.locator('#live').innerText()).toContain('checking every 30 s');
    const before = loads;
    await page.clock.runFor(31_000);
    await expect.poll(() => loads).toBeGreaterThan(before);
    refuse = false;
    await page.clock.runFor(31_000);
    await expect.poll(() => page.locator('#live').innerText()).toBe('Live updates: on');
    await page.close();
  });

  it('still streams the feed versions at /events, for other clients', async () => {
    const abort = new AbortController();
    const response = await fetch(new URL('/events', base), { signal: abort.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('\n\n')) text += (await reader.read()).value ?? '';
    abort.abort();
    const event = /^event: feeds\ndata: (.*)$/m.exec(text);
    const data = JSON.parse(event![1]!) as { versions: Record<string, string | null>; unavailable: string[] };
    expect(data.unavailable).toEqual([]);
    expect(data.versions['south']).toMatch(/^\w+$/);
    expect(data.versions['london']).toMatch(/^\w+$/);
    // The programme's version is the membership it serves; insights has none (answers cached by max-age).
    expect(data.versions['programme']).toMatch(/^\w+$/);
    expect(data.versions['insights']).toBeNull();
  });

  it('says which subgraph is down, keeps the other cluster, and recovers when it is back', async () => {
    const page = await openDashboard('?asOf=2007-09-30');
    const south = stack.services.find((s) => s.url === stack.subgraphUrls.south)!;
    const port = south.port;
    await south.close();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.isVisible(), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => alert.innerText()).toContain('south');
    expect(await alert.innerText()).toContain('SUBGRAPH_UNAVAILABLE');
    expect(await cell(page, 'R2', 'SOUTH').innerText()).toContain('Unavailable');
    expect(await cell(page, 'R2', 'LONDON').innerText()).toContain('LC2');
    expect(await page.locator('#rollout tbody tr[data-cluster="LONDON"]').count()).toBe(4);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-subgraph-down.png'), fullPage: true });
    // A page opened while the South is down has never seen its cluster: the column is named by its subgraph.
    const fresh = await openDashboard('?asOf=2007-09-30');
    await expect.poll(() => cell(fresh, 'R2', 'south').innerText()).toContain('Unavailable');
    expect(await fresh.locator('#matrix thead th[data-cluster]').allInnerTexts()).toEqual(['London Programme for IT (BT)', 'south']);
    expect(await cell(fresh, 'R2', 'LONDON').innerText()).toContain('LC2');
    await fresh.close();

    // The South comes back on the same address: the page notices by itself.
    const config = loadSouthConfig({ ...EPHEMERAL_ENV, ...env, SOUTH_PORT: String(port) });
    const again = await listen((await buildSouthSubgraph(config, { log: () => {} })).service, '127.0.0.1', port);
    extraServices.push(again);
    await expect.poll(() => alert.isVisible(), { timeout: 20_000 }).toBe(false);
    expect(await cell(page, 'R2', 'SOUTH').innerText()).toContain('Suspended since 17 August 2007');
    await page.close();
  }, 60_000);
});
