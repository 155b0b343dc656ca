/**
 * Insights learns its clusters over HTTP only: a fake cluster subgraph answers
 * `{ _service { sdl } }`, a fake gateway answers `GET /registry/subgraphs?sdl=true`, and the
 * insights service (listening) picks up what changes there, with no restart.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nmeSubgraph } from '../../test/fixtures/nme/index.js';
import { clusterSubgraphSdl } from '../kit/cluster.js';
import { listen, type Listening } from '../kit/http.js';
import { southSubgraph } from '../south/server.js';
import { LiveInsightsSchema } from './live-schema.js';
import { buildInsightsService, deriveInsights } from './server.js';

const SOUTH_SDL = clusterSubgraphSdl(southSubgraph);
const NME_SDL = clusterSubgraphSdl(nmeSubgraph);

/** A fake HTTP source: answers with whatever `answer` says now (null: the connection is cut). */
async function fake(
  answer: (req: { method: string; url: string }) => { status: number; body: unknown } | null,
): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      const a = answer({ method: req.method ?? '', url: req.url ?? '' });
      if (!a) return void res.socket?.destroy();
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const closed = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  servers.push(closed);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, close: closed };
}

const servers: (() => Promise<void>)[] = [];
const services: Listening[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const close of servers.splice(0)) await close().catch(() => {});
});

const sdlAnswer = (sdl: string) => () => ({ status: 200, body: { data: { _service: { sdl } } } });
const published = (version: number, subgraphs: { name: string; sdl: string }[]) => ({
  status: 200,
  body: {
    registryVersion: version,
    served: {},
    builtIn: ['south'],
    subgraphs: subgraphs.map((s) => ({ ...s, url: 'http://x/graphql', version: 1 })),
  },
});

async function versionOf(insights: Listening, query = ''): Promise<{ registryVersion: number; clusters: string[]; registry: string }> {
  return (await fetch(new URL(`/schema/version${query}`, insights.url))).json() as never;
}

async function feedsOf(insights: Listening): Promise<string[]> {
  const response = await fetch(insights.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ feeds { id } }' }),
  });
  const body = (await response.json()) as { data?: { feeds: { id: string }[] }; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data!.feeds.map((f) => f.id);
}

async function until(check: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 25))) if (await check()) return true;
  return check();
}

describe('insights learning its clusters over HTTP', () => {
  it('serves a cluster published in the registry without a restart, and drops one withdrawn after the grace period', async () => {
    const south = await fake(sdlAnswer(SOUTH_SDL));
    let state = published(0, []);
    const registry = await fake((req) => (req.url === '/registry/subgraphs?sdl=true' ? state : { status: 404, body: {} }));
    const service = await buildInsightsService({
      clusters: [{ name: 'south', url: south.url }],
      registryUrl: registry.url,
      pollMs: 100,
      graceMs: 300,
      log: () => {},
    });
    const insights = await listen(service, '127.0.0.1', 0);
    services.push(insights);
    expect(await versionOf(insights)).toEqual({ registryVersion: 0, clusters: ['south'], registry: 'following' });
    expect(await feedsOf(insights)).toEqual(['south']);

    state = published(1, [{ name: 'nme', sdl: NME_SDL }]);
    expect(await until(async () => (await versionOf(insights)).clusters.includes('nme'))).toBe(true);
    expect(await versionOf(insights)).toEqual({ registryVersion: 1, clusters: ['south', 'nme'], registry: 'following' });
    expect(await feedsOf(insights)).toEqual(['south', 'nme']);

    state = published(2, []);
    // Gateways still planning with NME keep working for a while, then it goes.
    expect(await until(async () => (await versionOf(insights)).registryVersion === 2)).toBe(true);
    expect(await until(async () => !(await versionOf(insights)).clusters.includes('nme'))).toBe(true);
    expect(await feedsOf(insights)).toEqual(['south']);
  });

  it('reads the registry at once when a gateway says which version it waits for', async () => {
    const south = await fake(sdlAnswer(SOUTH_SDL));
    let state = published(0, []);
    const registry = await fake(() => state);
    // No poll within the test: only the gateway's word makes insights look.
    const service = await buildInsightsService({
      clusters: [{ name: 'south', url: south.url }],
      registryUrl: registry.url,
      pollMs: 600_000,
    });
    const insights = await listen(service, '127.0.0.1', 0);
    services.push(insights);
    state = published(1, [{ name: 'nme', sdl: NME_SDL }]);
    await new Promise((r) => setTimeout(r, 200));
    expect((await versionOf(insights)).clusters).toEqual(['south']);
    expect(await until(async () => (await versionOf(insights, '?registryVersion=1')).clusters.includes('nme'), 2000)).toBe(true);
    expect(registry.hits.length).toBeLessThan(10);
  });

  it('keeps the built-in and last published clusters while the registry is unreachable, logs it once, and catches up', async () => {
    const south = await fake(sdlAnswer(SOUTH_SDL));
    let state: ReturnType<typeof published> | null = published(1, [{ name: 'nme', sdl: NME_SDL }]);
    const registry = await fake(() => state);
    const lines: string[] = [];
    const service = await buildInsightsService({
      clusters: [{ name: 'south', url: south.url }],
      registryUrl: registry.url,
      pollMs: 50,
      graceMs: 100,
      log: (line) => lines.push(line),
    });
    const insights = await listen(service, '127.0.0.1', 0);
    services.push(insights);
    expect((await versionOf(insights)).clusters).toEqual(['south', 'nme']);

    state = null;
    expect(await until(async () => (await versionOf(insights)).registry === 'unreachable')).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(await versionOf(insights)).toEqual({ registryVersion: 1, clusters: ['south', 'nme'], registry: 'unreachable' });
    expect(await feedsOf(insights)).toEqual(['south', 'nme']);
    expect(lines.filter((l) => l.includes('cannot read the registry'))).toHaveLength(1);

    state = published(2, []);
    expect(await until(async () => (await versionOf(insights)).registry === 'following')).toBe(true);
    expect(await until(async () => (await versionOf(insights)).clusters.join() === 'south')).toBe(true);
    expect(lines.filter((l) => l.includes('reads the registry') && l.includes('again'))).toHaveLength(1);
  });

  it('says so when the gateway has no registry, and serves the built-in clusters', async () => {
    const south = await fake(sdlAnswer(SOUTH_SDL));
    const registry = await fake(() => ({ status: 409, body: { error: { code: 'REGISTRY_DISABLED', message: 'off' } } }));
    const service = await buildInsightsService({ clusters: [{ name: 'south', url: south.url }], registryUrl: registry.url, pollMs: 100 });
    const insights = await listen(service, '127.0.0.1', 0);
    services.push(insights);
    expect(await versionOf(insights)).toEqual({ registryVersion: 0, clusters: ['south'], registry: 'off' });
  });

  it('refuses to start when no built-in cluster subgraph answers, naming them', async () => {
    const build = (clusters: readonly { name: string; sdl: string }[]) => ({
      schema: null as never,
      clusters: deriveInsights(clusters).clusters.map((c) => c.subgraph),
    });
    await expect(
      LiveInsightsSchema.start({
        builtIn: [{ name: 'south', url: 'http://127.0.0.1:9/graphql' }],
        registryUrl: null,
        pollMs: 100,
        startTimeoutMs: 300,
        build,
      }),
    ).rejects.toThrow('south at http://127.0.0.1:9/graphql');
  });
});
