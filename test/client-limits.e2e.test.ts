/**
 * What one client can do to the others, end to end: `/events` streams are capped per client
 * and in total; recorded operations come only from identified clients, so an anonymous flood
 * neither adds nor evicts them (the withdrawal they protect against stays refused), and a
 * response-cache hit counts as a use; `/registry` has a budget of its own, refused in the
 * registry's shape, so `/graphql` traffic never blocks a publish; and the `/graphql` default
 * holds a fleet of 300 dashboards behind one address refreshing every 30 s.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { graphqlRefusal, RateLimit } from '../gateway/rate-limit.js';
import type { RecordedOperation } from '../gateway/registry/store.js';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { startTestStack } from './helpers.js';

const digest = (key: string) => createHash('sha256').update(key).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'msg-client-limits-'));
const registryDir = join(dir, 'registry');
const tokensFile = join(dir, 'tokens.json');
const csc = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme'], operator: false });
const NME_SDL = readFileSync(new URL('./fixtures/nme/schema.graphql', import.meta.url), 'utf8');

const LIMITS = {
  RATE_LIMIT_REQUESTS: '300',
  REGISTRY_RATE_LIMIT_REQUESTS: '20',
  REGISTRY_READ_RATE_LIMIT_REQUESTS: '40',
  STREAMS_MAX_PER_CLIENT: '2',
  STREAMS_MAX_TOTAL: '3',
};
let stack: Stack;
let nme: Listening;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      ...LIMITS,
      // Clients are told apart by X-Forwarded-For, as behind the compose load balancer.
      TRUST_PROXY: '1',
      RATE_LIMIT_API_KEYS: [digest('nme-dashboard'), digest('hot-dashboard')].join(','),
      REGISTRY_DIR: registryDir,
      REGISTRY_TOKENS_FILE: tokensFile,
    },
    log: () => {},
  });
  const reference = feedReferenceOf(await loadReference(null));
  const built = await buildClusterSubgraph(nmeSubgraph as ClusterSubgraphDefinition<object>, { feedDir: nmeFeedDir, reference, pollMs: 0 });
  nme = await listen(built.service, '127.0.0.1', 0);
  // CSC's NME cluster, which the recorded operations below use.
  expect((await publishNme(from('192.0.2.1'))).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack.close();
  await nme.close();
  rmSync(dir, { recursive: true, force: true });
});

const at = (path: string) => new URL(path, stack.gatewayUrl).toString();
function ask(query: string, headers: Record<string, string>) {
  return fetch(stack.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
}
const from = (address: string): Record<string, string> => ({ 'x-forwarded-for': address });
const publishNme = (headers: Record<string, string>) =>
  fetch(at('/registry/subgraphs/nme'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${csc}`, ...headers },
    body: JSON.stringify({ sdl: NME_SDL, url: nme.url }),
  });
async function metric(name: string): Promise<number> {
  const text = await (await fetch(at('/metrics'))).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}
const recorded = (): RecordedOperation[] => {
  const file = join(registryDir, 'operations.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RecordedOperation[]) : [];
};
async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !(await check()) && Date.now() < end;) await new Promise((r) => setTimeout(r, 100));
  expect(await check()).toBe(true);
}

describe('/events streams', () => {
  it('refuses a client past STREAMS_MAX_PER_CLIENT and anyone past STREAMS_MAX_TOTAL, and counts back to 0', async () => {
    const aborts: AbortController[] = [];
    const open = (address: string) => {
      const abort = new AbortController();
      aborts.push(abort);
      return fetch(at('/events'), { headers: from(address), signal: abort.signal });
    };
    try {
      for (let i = 0; i < 2; i++) expect((await open('198.51.100.1')).status).toBe(200);
      const third = await open('198.51.100.1');
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
      const body = (await third.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(body.errors[0]!.extensions).toMatchObject({ code: 'TOO_MANY_STREAMS', limit: 'STREAMS_MAX_PER_CLIENT', max: 2 });
      expect((await open('198.51.100.2')).status).toBe(200);
      const beyond = await open('198.51.100.3');
      expect(beyond.status).toBe(429);
      expect(((await beyond.json()) as { errors: { extensions: { limit: string } }[] }).errors[0]!.extensions.limit).toBe(
        'STREAMS_MAX_TOTAL',
      );
      expect(await metric('gateway_open_streams')).toBe(3);
    } finally {
      for (const abort of aborts) abort.abort();
    }
    await until(async () => (await metric('gateway_open_streams')) === 0);
  });
});

describe('rate limits', () => {
  it('gives /registry a budget of its own: /graphql traffic that exhausts its budget does not block a publish', async () => {
    const fleet = from('192.0.2.10');
    for (let i = 0; i < Number(LIMITS.RATE_LIMIT_REQUESTS); i++) await ask('{ __typename }', fleet);
    const refused = await ask('{ __typename }', fleet);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('RATE_LIMITED');
    // The supplier publishes from the fleet's address: its own budget lets it through.
    const published = await publishNme(fleet);
    expect(published.status).toBe(201);
    expect(((await published.json()) as { registryVersion: number }).registryVersion).toBe(2);
  });

  it("refuses /registry's changes past REGISTRY_RATE_LIMIT_REQUESTS in the registry's own body shape, with Retry-After", async () => {
    const supplier = from('192.0.2.20');
    const change = () => fetch(at('/registry/subgraphs/nme'), { method: 'DELETE', headers: supplier });
    const unauthorised = await change();
    expect(unauthorised.status).toBe(401);
    const shape = (body: unknown) => Object.keys((body as { error: object }).error).sort();
    const registryShape = shape(await unauthorised.json());
    for (let i = 1; i < Number(LIMITS.REGISTRY_RATE_LIMIT_REQUESTS); i++) expect((await change()).status).toBe(401);
    const refused = await change();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(shape(body)).toEqual(registryShape);
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.message).toContain('20 requests per 60 s on /registry');
    // The same address still has its /graphql budget, and its registry reads.
    expect((await ask('{ __typename }', supplier)).status).toBe(200);
    expect((await fetch(at('/registry/subgraphs'), { headers: supplier })).status).toBe(200);
  });

  it("counts /registry's reads apart: subgraphs polling the membership from a supplier's host leave its publish its budget", async () => {
    const host = from('192.0.2.21');
    // More polls than the changes' budget (a subgraph polls GET /registry/clusters every 2 s).
    for (let i = 0; i < Number(LIMITS.REGISTRY_READ_RATE_LIMIT_REQUESTS); i++)
      expect((await fetch(at('/registry/clusters'), { headers: host })).status).toBe(200);
    const refused = await fetch(at('/registry/clusters'), { headers: host });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('40 requests per 60 s on /registry reads');
    // A change from the same host is counted against its own budget.
    expect((await fetch(at('/registry/subgraphs/nme'), { method: 'DELETE', headers: host })).status).toBe(401);
  });
});

describe('recorded operations', () => {
  const NME_DASH = 'query NmeDash { release(code: "R2") { nme { localName } } }';

  it('records an identified client’s operation, which an anonymous flood cannot evict: the withdrawal stays refused', async () => {
    const dashboard = { 'x-api-key': 'nme-dashboard', ...from('192.0.2.30') };
    expect((await ask(NME_DASH, dashboard)).status).toBe(200);
    const flood = from('192.0.2.31');
    for (let i = 0; i < 260; i++) expect((await ask(`query Flood${i} { __typename }`, flood)).status).toBe(200);
    // A later identified operation on disk: everything sent before it has been flushed too.
    expect((await ask('query Marker { __typename }', dashboard)).status).toBe(200);
    await until(() => recorded().some((op) => op.name === 'Marker'));
    const withdrawal = await fetch(at('/registry/subgraphs/nme'), { method: 'DELETE', headers: { authorization: `Bearer ${csc}` } });
    const report = (await withdrawal.json()) as { report?: { operations: { broken: { name: string; source: string }[] } } };
    expect(withdrawal.status).toBe(422);
    expect(report.report!.operations.broken).toContainEqual(expect.objectContaining({ name: 'NmeDash', source: 'recorded' }));
    // Recorded for its client; the flood added nothing.
    expect(recorded().find((op) => op.name === 'NmeDash')).toMatchObject({ client: expect.stringMatching(/^key:/), document: NME_DASH });
    expect(recorded().filter((op) => op.name.startsWith('Flood'))).toEqual([]);
  });

  it('counts a response-cache hit, answered before Apollo, as a use', async () => {
    const hot = 'query HotDash { programme { completionTargetYear } }';
    // An anonymous miss stores the answer and records nothing; the identified client then only ever hits.
    const miss = await ask(hot, from('192.0.2.40'));
    expect(((await miss.json()) as { extensions: { cache: { status: string } } }).extensions.cache.status).toBe('MISS');
    const hit = await ask(hot, { 'x-api-key': 'hot-dashboard', ...from('192.0.2.41') });
    expect(((await hit.json()) as { extensions: { cache: { status: string } } }).extensions.cache.status).toBe('HIT');
    await until(() => recorded().some((op) => op.name === 'HotDash'));
    expect(recorded().find((op) => op.name === 'HotDash')).toMatchObject({ client: `key:${digest('hot-dashboard').slice(0, 24)}` });
  });
});

describe('the /graphql default and a dashboard fleet behind one address', () => {
  const FLEET = 300;

  /**
   * One dashboard load, as gateway/public/dashboard/dashboard.js makes it: a stream for each
   * live persisted operation (one request each, however many answers it carries), then the
   * earlier reports' plans by GET, once per earlier report day.
   */
  async function dashboardLoad(): Promise<{ streams: number; plans: number }> {
    const headers = { ...from('192.0.2.50') };
    const stream = async (documentId: string) => {
      const abort = new AbortController();
      const response = await fetch(stack.gatewayUrl, {
        method: 'POST',
        signal: abort.signal,
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ documentId, variables: {} }),
      });
      expect(response.status).toBe(200);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!/event: next\ndata: .*\n\n/.test(text)) text += (await reader.read()).value ?? '';
      abort.abort();
      return JSON.parse(/event: next\ndata: (.*)\n/.exec(text)![1]!) as { data: any };
    };
    const [main] = await Promise.all([stream('DashboardReleases'), stream('FeedFreshness')]);
    const releases = main.data.releases as Record<string, any>[];
    // dashboard.js's earlierDays: one DashboardRolloutPlans per earlier report day of any cluster.
    const snapshots = releases.flatMap((r) => (r['comparison']?.snapshots ?? []) as { asOf: string; history: { asOf: string }[] }[]);
    const latest = snapshots
      .map((s) => s.asOf)
      .sort()
      .at(-1)!;
    const earlier = [...new Set(snapshots.flatMap((s) => s.history.map((h) => h.asOf)).filter((d) => d < latest))];
    await Promise.all(
      earlier.map(async (asOf) => {
        const params = new URLSearchParams({ documentId: 'DashboardRolloutPlans', variables: JSON.stringify({ asOf }) });
        const response = await fetch(`${stack.gatewayUrl}?${params}`, { headers: { accept: 'application/json', ...headers } });
        expect(response.status).toBe(200);
      }),
    );
    return { streams: 2, plans: earlier.length };
  }

  it('passes 300 live dashboards loading and hearing a report in one window, with half again as headroom, and limits a higher rate', async () => {
    const { streams, plans } = await dashboardLoad();
    expect(plans).toBeGreaterThanOrEqual(1);
    const defaults = loadGatewayConfig({});
    const window = defaults.rateLimitWindowSeconds;
    // The worst window: every dashboard loads (its streams and plans), a report lands (each
    // asks the plans again, one day more), and streams ended idle reconnect.
    const perLoad = streams + plans;
    const perReport = plans + 1;
    const reconnects = Math.ceil((FLEET * streams * window) / defaults.streams.idleSeconds);
    const fleetPerWindow = FLEET * (perLoad + perReport) + reconnects;
    console.log(
      `client limits: one dashboard load is ${perLoad} /graphql requests (${streams} streams, ${plans} plans); 300 loading and hearing a report in one ${window} s window is ${fleetPerWindow}; the default allows ${defaults.rateLimitRequests}`,
    );
    // The fleet's streams fit under one address's cap, with room for reloads overlapping.
    expect(FLEET * streams * 1.5).toBeLessThanOrEqual(defaults.streams.maxPerClient);

    // The default /graphql budget on its own (the rest of the gateway is not what is measured).
    const limiter = new RateLimit({ windowSeconds: window, apiKeys: defaults.rateLimitApiKeys, redisUrl: null });
    const app = express();
    app.use('/graphql', limiter.middleware({ name: 'graphql', requests: defaults.rateLimitRequests, refuse: graphqlRefusal }));
    app.get('/graphql', (_req, res) => res.end('{}'));
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const statuses = async (count: number) => {
      const seen = new Map<number, number>();
      let next = 0;
      const worker = async () => {
        while (next++ < count) {
          const status = (await fetch(url)).status;
          seen.set(status, (seen.get(status) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      return Object.fromEntries(seen);
    };
    try {
      const withHeadroom = Math.ceil(fleetPerWindow * 1.5);
      expect(await statuses(withHeadroom)).toEqual({ 200: withHeadroom });
      const rest = defaults.rateLimitRequests - withHeadroom;
      expect(await statuses(rest + 1)).toEqual({ 200: rest, 429: 1 });
    } finally {
      server.close();
      limiter.close();
    }
  }, 120_000);
});
