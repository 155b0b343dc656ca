/**
 * Identical in-flight operations executed once (`OPERATION_DEDUPE`), end to end over the
 * Guild benchmark's subgraphs behind a proxy that holds each answer, so concurrent requests
 * overlap: N identical queries cost the subgraph requests of one, every client gets the
 * answer, the joined ones are counted, and with the response cache on each response carries
 * the same `Cache-Control` and the entry stored serves the next request.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { readJoinedOperations } from '../scripts/bench/request-counter.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import {
  composeGuildSupergraph,
  GUILD_SUBGRAPH_NAMES,
  guildSubgraphUrls,
  startGuildSubgraphs,
  type GuildSubgraphs,
} from './bench/guild/subgraphs.js';
import { forwardingProxy, type Proxy } from './proxy.js';

const A = JSON.stringify({
  query: '{ topProducts { upc name price weight inStock shippingEstimate reviews { id body } } }',
  variables: {},
});
/** Concurrent identical requests. */
const N = 8;

/** POSTs the Guild subgraphs answer (through the proxy, which forwards their paths). */
let subgraphRequests = 0;
const count = (message: unknown) => {
  const { request } = message as { request: IncomingMessage };
  if (request.method === 'POST' && GUILD_SUBGRAPH_NAMES.some((name) => request.url?.startsWith(`/${name}`))) subgraphRequests += 1;
};

let subgraphs: GuildSubgraphs;
let proxy: Proxy;
let work: string;
const gateways: Record<'on' | 'off' | 'cached', Listening> = {} as never;

async function gateway(env: NodeJS.ProcessEnv): Promise<Listening> {
  const config = loadGatewayConfig({
    HOST: '127.0.0.1',
    SUPERGRAPH_PATH: join(work, 'supergraph.graphql'),
    RATE_LIMIT_REQUESTS: '0',
    LOG_LEVEL: 'error',
    // Merged subgraph fetches would hide how many operations executed.
    SUBGRAPH_DEDUPE: 'false',
    ...env,
  });
  return listen(await buildGatewayService(config, { log: () => {} }), '127.0.0.1', 0);
}

beforeAll(async () => {
  subgraphs = await startGuildSubgraphs({ cacheControl: 'max-age=60, public' });
  // Each answer held 150 ms: the N requests all arrive while the first one's fetches are out.
  proxy = await forwardingProxy(subgraphs.url('products'), { holdMs: () => 150 });
  work = mkdtempSync(join(tmpdir(), 'operation-dedupe-'));
  writeFileSync(join(work, 'supergraph.graphql'), composeGuildSupergraph(guildSubgraphUrls(new URL(proxy.url).origin)));
  gateways.on = await gateway({ RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false' });
  gateways.off = await gateway({ RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false', OPERATION_DEDUPE: 'false' });
  gateways.cached = await gateway({ ENTITY_CACHE: 'false' });
  subscribe('http.server.request.start', count);
}, 60_000);

afterAll(async () => {
  unsubscribe('http.server.request.start', count);
  for (const listening of Object.values(gateways)) await listening.close();
  await proxy?.close();
  await subgraphs?.close();
  rmSync(work, { recursive: true, force: true });
});

const post = async (url: string) => {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: A });
  return {
    status: response.status,
    cacheControl: response.headers.get('cache-control'),
    body: (await response.json()) as Record<string, unknown>,
  };
};

/** N identical requests at once: their responses, and the subgraph requests they cost. */
async function together(url: string) {
  const before = subgraphRequests;
  const responses = await Promise.all(Array.from({ length: N }, () => post(url)));
  return { responses, requests: subgraphRequests - before };
}

const joinedCount = (listening: Listening) => readJoinedOperations(listening.url);

describe('identical in-flight operations', () => {
  it('executes N concurrent identical queries once, and each without OPERATION_DEDUPE', async () => {
    const before = subgraphRequests;
    const single = await post(gateways.off.url);
    const one = subgraphRequests - before;
    expect(single.status).toBe(200);
    expect(one).toBeGreaterThan(0);

    const merged = await together(gateways.on.url);
    expect(merged.requests).toBe(one);
    for (const response of merged.responses) expect(response.body).toEqual(single.body);
    expect(await joinedCount(gateways.on)).toBe(N - 1);

    const separate = await together(gateways.off.url);
    expect(separate.requests).toBe(N * one);
    expect(await joinedCount(gateways.off)).toBe(0);
  });

  it('gives leader and joiners the same Cache-Control, and the response cache stores the answer', async () => {
    const { responses, requests } = await together(gateways.cached.url);
    expect(requests).toBeGreaterThan(0);
    // Joiners, not N executions that each worked out the same header.
    expect(await joinedCount(gateways.cached)).toBe(N - 1);
    const first = responses[0]!;
    expect(first.cacheControl).toMatch(/max-age=\d+, public/);
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.cacheControl).toBe(first.cacheControl);
      expect(response.body).toEqual(first.body);
      expect(response.body['extensions']).toEqual({ cache: { status: 'MISS' } });
    }
    const before = subgraphRequests;
    const hit = await post(gateways.cached.url);
    expect(subgraphRequests - before).toBe(0);
    expect(hit.body['extensions']).toEqual({ cache: { status: 'HIT' } });
    expect(hit.body['data']).toEqual(first.body['data']);
  });
});
