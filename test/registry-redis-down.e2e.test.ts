/**
 * Redis down is not an outage, for the registry too: a gateway whose registry lives in a
 * Redis that does not answer at start starts anyway, serving the built-in subgraphs, says why
 * in its log, answers the registry's requests at once with 503 while Redis is down, and
 * follows the registry once Redis answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { EPHEMERAL_ENV, post } from './helpers.js';
import { freePort, PrivateRedis } from './redis.js';

let stack: Stack<null>;
let gateway: Listening | null = null;
let redis: PrivateRedis;
const lines: string[] = [];

beforeAll(async () => {
  stack = await startStack({ env: EPHEMERAL_ENV, withGateway: false, log: () => {} });
  redis = new PrivateRedis(await freePort()); // not started: nothing answers on its port yet
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await stack?.close();
  await redis?.stop();
});

describe('a gateway whose registry Redis is down at start', () => {
  it('starts, serves the built-in subgraphs and says why, answers 503 at once, then follows the registry once Redis answers', async () => {
    const config = loadGatewayConfig({
      HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      REDIS_URL: redis.url,
      REGISTRY_REDIS_PREFIX: 'test:registry-down:',
      PROGRAMME_URL: stack.subgraphUrls.programme,
      SOUTH_URL: stack.subgraphUrls.south,
      LONDON_URL: stack.subgraphUrls.london,
      INSIGHTS_URL: stack.subgraphUrls.insights,
    });
    gateway = await listen(await buildGatewayService(config, { log: (line) => lines.push(line) }), '127.0.0.1', 0);
    expect(lines.join('\n')).toMatch(/the registry cannot be read \(.*\): serving the built-in subgraphs only until it can/);
    const answer = await post<any>(gateway.url, '{ compareRelease(code: "R2", asOf: "2007-09-06") { clusters { id } } }');
    expect(answer.errors).toBeUndefined();
    expect(answer.data.compareRelease.clusters.map((c: { id: string }) => c.id).sort()).toEqual(['LONDON', 'SOUTH']);

    // While Redis is down, the registry answers at once that it is unavailable, never hanging.
    for (const path of ['/registry/subgraphs', '/registry/history', '/registry/subgraphs/nme/history']) {
      const started = Date.now();
      const response = await fetch(new URL(path, gateway.url), { signal: AbortSignal.timeout(30_000) });
      expect({ path, status: response.status, body: await response.json() }).toEqual({
        path,
        status: 503,
        body: { error: { code: 'REGISTRY_UNAVAILABLE', message: "The registry's store cannot be reached now; try again shortly" } },
      });
      expect(Date.now() - started).toBeLessThan(2000);
    }

    await redis.start();
    const registry = new URL('/registry/subgraphs', gateway.url).toString();
    let listed: { status: number; body?: { registryVersion?: number } } = { status: 0 };
    for (const until = Date.now() + 20_000; Date.now() < until && listed.status !== 200;) {
      const response = await fetch(registry, { signal: AbortSignal.timeout(5000) }).catch(() => null);
      listed = response ? { status: response.status, body: (await response.json()) as { registryVersion?: number } } : { status: 0 };
      if (listed.status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(listed).toEqual({ status: 200, body: expect.objectContaining({ registryVersion: 0 }) });
  }, 60_000);
});
