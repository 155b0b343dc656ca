/**
 * The whole join, as issue 11 promises it: a supplier nobody built in joins a running gateway
 * with no source edit and no restart. An operator registers the NORTHEAST cluster, its
 * supplier ACCENTURE and its trusts over HTTP; Accenture's subgraph, reading its own TSV
 * tracker format (test/fixtures/northeast), is published while clients keep asking the
 * dashboard's persisted operations and a comparison, with no failed request; the cluster is
 * then compared, in its trusts' rollout and in the dashboard open in Chromium (its column,
 * difference marks, go-lives and timeline); withdrawn, it leaves the open page and the comparison.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { LiveReference } from '../subgraphs/kit/membership.js';
import { ARTIFACTS_DIR, launchOfflineBrowser, type OfflineBrowser } from './browser.js';
import { northeastFeedDir, northeastSubgraph, northeastTrusts } from './fixtures/northeast/subgraph.js';
import { post, startTestStack, type GraphQLResponse } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-join-e2e-'));
const tokensFile = join(dir, 'tokens.json');
const operator = mintToken(tokensFile, { supplier: 'OPERATOR', subgraphs: [], operator: true });
const accenture = mintToken(tokensFile, { supplier: 'ACCENTURE', subgraphs: ['northeast'], operator: false });
const SDL = readFileSync(new URL('./fixtures/northeast/schema.graphql', import.meta.url), 'utf8');
// The day of the fixture's later report: every cluster has a report by then.
const AS_OF = '2008-06-30';
const CLUSTER_NAME = 'North East Programme for IT';
const BEFORE = ['SOUTH', 'LONDON'];
const AFTER = ['SOUTH', 'LONDON', 'NORTHEAST'];

const env = {
  REGISTRY_TOKENS_FILE: tokensFile,
  MEMBERSHIP_POLL_MS: '100',
  // Every client here is 127.0.0.1: a rate limit would measure itself, not the swap.
  RATE_LIMIT_REQUESTS: '0',
};

async function call(base: string, path: string, method: string, token: string | null, body?: unknown) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** A persisted operation asked as the dashboard asks it (api.js): GET by id, with the CSRF header. */
async function persisted(gatewayUrl: string, documentId: string, variables: Record<string, unknown>): Promise<GraphQLResponse<any>> {
  const url = new URL(gatewayUrl);
  url.search = new URLSearchParams({ documentId, variables: JSON.stringify(variables) }).toString();
  const response = await fetch(url, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
  return { status: response.status, ...((await response.json()) as object) };
}

const COMPARE = `query ($asOf: Date) { compareRelease(code: "R2", asOf: $asOf) {
  snapshots { cluster { id } asOf view { supplier { id } localName plannedYear } }
  aspects { aspect differs values { cluster { id } value } } } }`;

/** The workload: the dashboard's persisted operations and a comparison, each named. */
const WORKLOAD: { name: string; ask: (gatewayUrl: string) => Promise<GraphQLResponse<any>> }[] = [
  { name: 'DashboardReleases', ask: (g) => persisted(g, 'DashboardReleases', { asOf: AS_OF }) },
  { name: 'DashboardRolloutPlans', ask: (g) => persisted(g, 'DashboardRolloutPlans', { asOf: AS_OF }) },
  { name: 'FeedFreshness', ask: (g) => persisted(g, 'FeedFreshness', {}) },
  { name: 'TrustRollout', ask: (g) => persisted(g, 'TrustRollout', { asOf: AS_OF }) },
  { name: 'CompareRelease', ask: (g) => persisted(g, 'CompareRelease', { code: 'R2', asOf: AS_OF }) },
  { name: 'compareRelease', ask: (g) => post(g, COMPARE, { asOf: AS_OF }) },
];

/** The clusters one comparison names (its snapshots, else its aspect values), and whether they agree. */
function comparedClusters(comparison: any): { clusters: string[]; consistent: boolean } {
  const snapshots: string[] | undefined = comparison.snapshots?.map((s: { cluster: { id: string } }) => s.cluster.id);
  const valued = new Set<string>(
    comparison.aspects.flatMap((a: { values: { cluster: { id: string } }[] }) => a.values.map((v) => v.cluster.id)),
  );
  const clusters = snapshots ?? [...valued];
  return { clusters, consistent: [...valued].every((id) => clusters.includes(id)) };
}

/**
 * Why an answer counts as failed, or null: not 200, any GraphQL error, or clusters that are
 * neither the programme before the join nor after it (an answer mixing what its plan cannot place).
 */
function failure(name: string, answer: GraphQLResponse<any>): string | null {
  if (answer.status !== 200 || answer.errors?.length || !answer.data) return `${name}: ${JSON.stringify(answer).slice(0, 400)}`;
  const comparisons: any[] =
    name === 'DashboardReleases'
      ? answer.data.releases.map((r: { comparison: unknown }) => r.comparison)
      : name.toLowerCase() === 'comparerelease'
        ? [answer.data.compareRelease]
        : [];
  for (const comparison of comparisons) {
    const { clusters, consistent } = comparedClusters(comparison);
    const known = clusters.every((id) => AFTER.includes(id));
    if (!consistent || !known) return `${name}: clusters ${JSON.stringify(comparison).slice(0, 400)}`;
    if (name !== 'CompareRelease' && comparison.snapshots.some((s: { view: unknown }) => s.view === null))
      return `${name}: a snapshot without its view ${JSON.stringify(comparison).slice(0, 400)}`;
  }
  return null;
}

const sawNortheast = (name: string, answer: GraphQLResponse<any>) =>
  name === 'compareRelease' && answer.data?.compareRelease.snapshots.some((s: { cluster: { id: string } }) => s.cluster.id === 'NORTHEAST');

let stack: Stack;
let browser: OfflineBrowser;
let reference: LiveReference | null = null;
let northeast: Listening | null = null;
let page: Page;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack({ env, log: () => {} }), launchOfflineBrowser()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await northeast?.close();
  reference?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const columns = () => page.locator('#matrix thead th[data-cluster]').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-cluster')));
const cell = (release: string, cluster: string) => page.locator(`#matrix tr[data-release="${release}"] td[data-cluster="${cluster}"]`);
const compareR2 = async () => (await post<any>(stack.gatewayUrl, COMPARE, { asOf: AS_OF })).data.compareRelease;

describe('a new supplier with its own feed format joins a running programme', () => {
  it('is registered by an operator over HTTP, and the programme serves its trusts with no restart', async () => {
    const registered = await call(stack.gatewayUrl, '/registry/clusters/NORTHEAST', 'POST', operator, {
      name: CLUSTER_NAME,
      supplier: { id: 'ACCENTURE', name: 'Accenture' },
      trustsPlanned: northeastTrusts.length,
      trusts: northeastTrusts,
    });
    expect(registered).toMatchObject({ status: 201, body: { accepted: true, cluster: { id: 'NORTHEAST', registeredBy: 'OPERATOR' } } });
    // Through the gateway: its caches key the programme's answers by the membership version.
    await expect
      .poll(async () => (await post<any>(stack.gatewayUrl, '{ trust(odsCode: "RR7") { cluster { id } } }')).data?.trust, {
        timeout: 10_000,
      })
      .toEqual({ cluster: { id: 'NORTHEAST' } });

    // Accenture's subgraph, following the registry as its main would: its TSV reports name the registered trusts.
    reference = await LiveReference.open({ registryUrl: stack.gatewayUrl, pollMs: 0 });
    const built = await buildClusterSubgraph(northeastSubgraph as ClusterSubgraphDefinition<object>, {
      feedDir: northeastFeedDir,
      reference: reference.feed,
      pollMs: 0,
    });
    northeast = await listen(built.service, '127.0.0.1', 0);
  });

  it('is published under steady load with 0 failed requests', async () => {
    page = await browser.newPage();
    await page.goto(new URL(`/dashboard?asOf=${AS_OF}`, stack.gatewayUrl).href);
    await page.locator('body[data-state="ready"]').waitFor({ timeout: 15_000 });
    expect(await columns()).toEqual(BEFORE);
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

    let stop = false;
    const outcomes = { ok: 0, failed: [] as string[], withNortheast: 0 };
    const client = async (offset: number) => {
      for (let i = offset; !stop; i++) {
        const { name, ask } = WORKLOAD[i % WORKLOAD.length]!;
        const answer = await ask(stack.gatewayUrl).catch((error: Error) => ({ status: 0, errors: [{ message: error.message }] }));
        const failed = failure(name, answer);
        if (failed) outcomes.failed.push(failed);
        else outcomes.ok++;
        if (sawNortheast(name, answer)) outcomes.withNortheast++;
      }
    };
    const clients = Array.from({ length: 6 }, (_, i) => client(i));
    await new Promise((r) => setTimeout(r, 1000));
    const published = await call(stack.gatewayUrl, '/registry/subgraphs/northeast', 'POST', accenture, { sdl: SDL, url: northeast!.url });
    // Keep the load on until the comparison has carried the new cluster for a while.
    const until = Date.now() + 10_000;
    while (outcomes.withNortheast < 12 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(clients);
    console.log(`join e2e: ${outcomes.ok} requests under load, ${outcomes.failed.length} failed, ${outcomes.withNortheast} with NORTHEAST`);
    expect(published.body.report?.contract ?? []).toEqual([]);
    expect(published).toMatchObject({ status: 201, body: { accepted: true, served: true } });
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.withNortheast).toBeGreaterThan(0);
    expect(outcomes.ok).toBeGreaterThan(outcomes.withNortheast);
  }, 30_000);

  it('appears in compareRelease, with its snapshot and its aspect values', async () => {
    const comparison = await compareR2();
    const snapshot = comparison.snapshots.find((s: { cluster: { id: string } }) => s.cluster.id === 'NORTHEAST');
    expect(snapshot).toEqual({
      cluster: { id: 'NORTHEAST' },
      asOf: '2008-06-30',
      view: { supplier: { id: 'ACCENTURE' }, localName: 'NE Drop 2', plannedYear: 2010 },
    });
    const value = (aspect: string) =>
      comparison.aspects
        .find((a: { aspect: string }) => a.aspect === aspect)
        ?.values.find((v: { cluster: { id: string } }) => v.cluster.id === 'NORTHEAST')?.value;
    expect(value('localName')).toBe('NE Drop 2');
    expect(value('plannedYear')).toBe('2010');
  });

  it("appears in its trusts' rolloutAcrossClusters", async () => {
    const answer = await post<any>(
      stack.gatewayUrl,
      `{ rr7: trust(odsCode: "RR7") { rolloutAcrossClusters(asOf: "${AS_OF}") { cluster { id } release { code } status actualGoLive } }
         rtd: trust(odsCode: "RTD") { rolloutAcrossClusters(asOf: "${AS_OF}") { cluster { id } release { code } status actualGoLive } } }`,
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.rr7.rolloutAcrossClusters).toEqual([
      { cluster: { id: 'NORTHEAST' }, release: { code: 'R0' }, status: 'LIVE', actualGoLive: '2007-11-05' },
      { cluster: { id: 'NORTHEAST' }, release: { code: 'R1' }, status: 'POSTPONED', actualGoLive: null },
    ]);
    expect(answer.data!.rtd.rolloutAcrossClusters).toEqual([
      { cluster: { id: 'NORTHEAST' }, release: { code: 'R0' }, status: 'LIVE', actualGoLive: '2007-03-12' },
      { cluster: { id: 'NORTHEAST' }, release: { code: 'R2' }, status: 'PLANNED', actualGoLive: null },
    ]);
  });

  it('grows the open dashboard: its column, difference marks, go-lives and timeline', async () => {
    const errorsBefore = browser.pageErrors.length;
    await expect.poll(() => columns(), { timeout: 15_000 }).toEqual(AFTER);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.locator('#matrix thead th[data-cluster="NORTHEAST"]').innerText()).toBe(`${CLUSTER_NAME} (Accenture)`);
    expect(await page.locator('h1').innerText()).toContain(`London Programme for IT and ${CLUSTER_NAME} side by side`);

    // R2 in three clusters: Accenture plans 2010, and its cell marks what differs.
    const r2 = cell('R2', 'NORTHEAST');
    await expect.poll(() => r2.innerText()).toMatch(/NE Drop 2/);
    expect(await r2.locator('.differs dt').allInnerTexts()).toEqual(expect.arrayContaining(['Local name', 'Planned']));
    expect(await page.locator('#matrix').innerText()).not.toContain('Nothing to compare yet');

    // Its trusts in the go-lives, and in the timeline.
    await expect.poll(() => page.locator('#rollout tbody tr[data-cluster="NORTHEAST"]').count()).toBe(4);
    expect(await page.locator('#rollout tr[data-cluster="NORTHEAST"][data-ods="RTD"][data-release="R0"]').getAttribute('data-status')).toBe(
      'LIVE',
    );
    expect(await page.locator('#timeline g[data-ods="RTD"] title').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('live 12 March 2007')]),
    );
    expect(await page.locator('#timeline g[data-ods="RR7"]').count()).toBeGreaterThan(0);
    expect(await page.locator('#timeline text.tl-cluster').allTextContents()).toContain(CLUSTER_NAME);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'join-northeast.png'), fullPage: true });
    expect(browser.pageErrors.slice(errorsBefore)).toEqual([]);
    expect(browser.blocked).toEqual([]);
  });

  it('leaves the open page and the comparison when withdrawn', async () => {
    const errorsBefore = browser.pageErrors.length;
    let withdrawn = await call(stack.gatewayUrl, '/registry/subgraphs/northeast', 'DELETE', accenture);
    // Refused while clients' recorded operations still use its fields: the operator forces it.
    if (withdrawn.status === 409) withdrawn = await call(stack.gatewayUrl, '/registry/subgraphs/northeast?force=true', 'DELETE', operator);
    expect(withdrawn).toMatchObject({ status: 200, body: { accepted: true } });
    // Insights keeps a leaving cluster's fields for its grace period (5 s) before the gateway swaps.
    await expect.poll(() => columns(), { timeout: 15_000 }).toEqual(BEFORE);
    expect(await page.locator('#rollout tbody tr[data-cluster="NORTHEAST"]').count()).toBe(0);
    expect(await page.getByRole('alert').isVisible()).toBe(false);
    const comparison = await compareR2();
    expect(comparedClusters(comparison).clusters.sort()).toEqual(['LONDON', 'SOUTH']);
    expect(browser.pageErrors.slice(errorsBefore)).toEqual([]);
    await page.close();
  });
});
