/**
 * The programme dashboard in a real (headless) Chromium with no internet: the story's facts
 * as a board member reads them, filters used by keyboard, a new feed report shown without
 * a reload, and one cluster's subgraph going down and coming back.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { listen } from '../subgraphs/kit/http.js';
import { loadSouthConfig } from '../subgraphs/south/config.js';
import { buildSouthSubgraph } from '../subgraphs/south/server.js';
import { ARTIFACTS_DIR, launchOfflineBrowser, type OfflineBrowser } from './browser.js';
import { EPHEMERAL_ENV, startTestStack } from './helpers.js';

const FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'msg-dashboard-'));
const env = { SOUTH_FEED_DIR: dir, FEED_POLL_MS: '50' };
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

describe('the programme dashboard', () => {
  it('shows R2 suspended in the South since 17 August 2007, and not in London', async () => {
    const page = await openDashboard('?asOf=2007-09-30');
    await expect.poll(() => page.locator('#asof-shown').innerText()).toBe('as of 30 September 2007');
    const south = await cell(page, 'R2', 'south').innerText();
    const london = await cell(page, 'R2', 'london').innerText();
    expect(south).toMatch(/Design\s+Suspended since 17 August 2007/);
    expect(london).toMatch(/Design\s+Active/);
    expect(london).not.toContain('Suspended');
    // The divergence is marked on both sides, in words for screen readers too.
    await expect
      .poll(() => page.locator('#matrix tr[data-release="R2"] .differs dt').allInnerTexts())
      .toEqual(['Local name', 'Design', 'Local name', 'Design']);
    expect(await cell(page, 'R2', 'south').locator('.visually-hidden').first().innerText()).toContain('differs between clusters');
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
    expect(await cell(page, 'R0', 'south').innerText()).toContain('6 of 9 live');
    expect(await cell(page, 'R0', 'london').innerText()).toContain('1 of 3 live');
    expect(new URL(page.url()).searchParams.get('status')).toBe('LIVE');
    // Landmarks a screen reader user navigates by.
    for (const role of ['banner', 'navigation', 'main', 'contentinfo'] as const) expect(await page.getByRole(role).count(), role).toBe(1);
    // The slipped dates of earlier reports are drawn: Taunton's 7 October 2006 among them.
    await expect.poll(() => page.locator('#timeline g[data-ods="RBA"] title').textContent()).toContain('earlier planned 7 October 2006');
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard.png'), fullPage: true });
    await page.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(13);
    expect(browser.blocked).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it('shows a new report when it arrives, without a reload', async () => {
    const page = await openDashboard();
    const southFeed = page.locator('#feeds tr[data-cluster="SOUTH"] .feed-asof');
    expect(await southFeed.innerText()).toBe('6 September 2007');
    const worthing = page.locator('#rollout tr[data-ods="RPL"]');
    expect(await worthing.getAttribute('data-status')).toBe('PLANNED');
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    copyFileSync(join(FEED, 'fujitsu-south-2008-01-31.csv'), join(dir, 'fujitsu-south-2008-01-31.csv'));
    await expect.poll(() => southFeed.innerText(), { timeout: 15_000 }).toBe('31 January 2008');
    await expect.poll(() => worthing.getAttribute('data-status')).toBe('LIVE');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await page.close();
  });

  it('asks only the gateway’s persisted operations, by GET, and starts with a skip link', async () => {
    const page = await browser.newPage();
    const asked: { url: URL; method: string; preflight?: string }[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/graphql') asked.push({ url, method: r.method(), preflight: r.headers()['apollo-require-preflight'] });
    });
    await page.goto(new URL('/dashboard?asOf=2007-09-30', base).href);
    await page.locator('body[data-state="ready"]').waitFor();
    await expect.poll(() => page.locator('#timeline g[data-ods="RBA"] title').textContent()).toContain('earlier planned');
    const ids = new Set(asked.map((a) => a.url.searchParams.get('documentId')));
    expect([...ids].sort()).toEqual(['DashboardReleases', 'DashboardRolloutPlans', 'FeedFreshness']);
    for (const a of asked) {
      expect(a.method).toBe('GET');
      expect(a.url.searchParams.has('query')).toBe(false);
      expect(a.preflight).toBe('true');
    }
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the dashboard');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.close();
  });

  it('polls every 30 seconds while the event stream is unreachable', async () => {
    const page = await browser.newPage();
    await page.route('**/events', (route) => route.abort('connectionrefused'));
    await page.clock.install();
    let loads = 0;
    page.on('request', (r) => {
      if (new URL(r.url()).searchParams.get('documentId') === 'DashboardReleases') loads++;
    });
    await page.goto(new URL('/dashboard', base).href);
    await page.locator('body[data-state="ready"]').waitFor();
    await expect.poll(() => page.locator('#live').innerText()).toContain('checking every 30 s');
    const before = loads;
    await page.clock.runFor(31_000);
    await expect.poll(() => loads).toBeGreaterThan(before);
    await page.close();
  });

  it('streams the feed versions it refreshes on at /events', async () => {
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
    expect(data.versions['programme']).toBeNull();
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
    expect(await cell(page, 'R2', 'south').innerText()).toContain('Unavailable');
    expect(await cell(page, 'R2', 'london').innerText()).toContain('LC2');
    expect(await page.locator('#rollout tbody tr[data-cluster="LONDON"]').count()).toBe(4);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-subgraph-down.png'), fullPage: true });

    // The South comes back on the same address: the page notices by itself.
    const config = loadSouthConfig({ ...EPHEMERAL_ENV, ...env, SOUTH_PORT: String(port) });
    const again = await listen((await buildSouthSubgraph(config, { log: () => {} })).service, '127.0.0.1', port);
    extraServices.push(again);
    await expect.poll(() => alert.isVisible(), { timeout: 20_000 }).toBe(false);
    expect(await cell(page, 'R2', 'south').innerText()).toContain('Suspended since 17 August 2007');
    await page.close();
  });
});
