/**
 * Entity batching end to end, over the Guild benchmark's subgraphs: the Guild query (16 fetch
 * nodes in Apollo's plan) costs fewer subgraph requests with `ENTITY_BATCHING` on than off,
 * and every answer is plain Apollo Gateway's, uncached and with the entity cache on.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { answerDifference, fetchAnswer } from '../scripts/bench/answers.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { GUILD_SUBGRAPH_NAMES, startGuildSubgraphs, type GuildSubgraphs } from './bench/guild/subgraphs.js';

const body = (query: string) => JSON.stringify({ query, variables: {} });
const A = body('{ topProducts { upc name price weight inStock shippingEstimate reviews { id body } } }');
const B = body(readFileSync(new URL('./bench/guild/query.graphql', import.meta.url), 'utf8'));

/** POSTs the Guild subgraphs answer (every server of this process hears the channel; only theirs are counted). */
let subgraphRequests = 0;
const count = (message: unknown) => {
  const { request } = message as { request: IncomingMessage };
  if (request.method === 'POST' && GUILD_SUBGRAPH_NAMES.some((name) => request.url?.startsWith(`/${name}`))) subgraphRequests += 1;
};

let subgraphs: GuildSubgraphs;
let plain: { url: string; stop(): Promise<void> };
const gateways: Record<string, Listening> = {};
let work: string;

async function ours(env: NodeJS.ProcessEnv): Promise<Listening> {
  const config = loadGatewayConfig({
    HOST: '127.0.0.1',
    SUPERGRAPH_PATH: join(work, 'supergraph.graphql'),
    RATE_LIMIT_REQUESTS: '0',
    LOG_LEVEL: 'error',
    ...env,
  });
  return listen(await buildGatewayService(config, { log: () => {} }), '127.0.0.1', 0);
}

beforeAll(async () => {
  subscribe('http.server.request.start', count);
  // The subgraphs allow caching, so the entity cache has something to keep.
  subgraphs = await startGuildSubgraphs({ cacheControl: 'max-age=60, public' });
  work = mkdtempSync(join(tmpdir(), 'entity-batching-'));
  writeFileSync(join(work, 'supergraph.graphql'), subgraphs.supergraphSdl);
  const apollo = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: subgraphs.supergraphSdl }) });
  const { url } = await startStandaloneServer(apollo, { listen: { host: '127.0.0.1', port: 0 } });
  plain = { url, stop: () => apollo.stop() };
  const uncached = { RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false' };
  gateways['batching'] = await ours({ ...uncached, ENTITY_BATCHING: 'true' });
  gateways['no batching'] = await ours({ ...uncached, ENTITY_BATCHING: 'false' });
  gateways['batching, entity cache'] = await ours({ RESPONSE_CACHE: 'false', ENTITY_BATCHING: 'true' });
}, 60_000);

afterAll(async () => {
  unsubscribe('http.server.request.start', count);
  for (const gateway of Object.values(gateways)) await gateway.close();
  await plain?.stop();
  await subgraphs?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Subgraph requests for one answer of `url` to `workload`. */
async function requestsFor(url: string, workload: string): Promise<number> {
  const before = subgraphRequests;
  const answer = await fetchAnswer(url, workload);
  expect(answer.status).toBe(200);
  return subgraphRequests - before;
}

describe('entity batching over the Guild subgraphs', () => {
  it('answers workloads A and B as plain Apollo Gateway does, batching on or off, uncached or with the entity cache', async () => {
    for (const workload of [A, B]) {
      const expected = await fetchAnswer(plain.url, workload);
      expect(expected.errors).toBeUndefined();
      for (const [name, gateway] of Object.entries(gateways))
        for (let round = 0; round < 2; round += 1)
          expect(answerDifference(expected, await fetchAnswer(gateway.url, workload)), `${name}, round ${round}`).toBeNull();
    }
  });

  it('asks the subgraphs fewer times for the Guild query with batching than without', async () => {
    const off = await requestsFor(gateways['no batching']!.url, B);
    const on = await requestsFor(gateways['batching']!.url, B);
    // Apollo's plan has 16 fetch nodes; batched, a stage's fetches to one subgraph are one request.
    expect(off).toBe(16);
    expect(on).toBeLessThanOrEqual(10);
    // A has one fetch per subgraph and stage: nothing to batch.
    expect(await requestsFor(gateways['batching']!.url, A)).toBe(await requestsFor(gateways['no batching']!.url, A));
  });
});
