/**
 * Abuse is refused with clear errors: rate limits per client key (in memory, or shared by
 * replicas through Redis and falling back to memory while Redis is down), a CORS allow-list,
 * introspection and stack traces behind named settings.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { EPHEMERAL_ENV, post, startTestStack } from './helpers.js';
import { PrivateRedis, freePort } from './redis.js';

const QUERY = '{ programme { completionTargetYear } }';
const digest = (key: string) => createHash('sha256').update(key).digest('hex');

function ask(url: string, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: QUERY }),
  });
}

describe('rate limiting in memory', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Behind one proxy (TRUST_PROXY=1), as in docker-compose.yml: clients are told apart by X-Forwarded-For.
    stack = await startTestStack({
      env: { RATE_LIMIT_REQUESTS: '3', RATE_LIMIT_WINDOW_SECONDS: '60', TRUST_PROXY: '1', RATE_LIMIT_API_KEYS: digest('dashboard-1') },
      log: () => {},
    });
  });
  afterAll(() => stack.close());

  it('answers 429 with Retry-After past the limit, per client key', async () => {
    for (let i = 0; i < 3; i++) expect((await ask(stack.gatewayUrl)).status).toBe(200);
    const refused = await ask(stack.gatewayUrl);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await refused.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    expect(body.errors[0]!.message).toMatch(/3 requests per 60 s/);
    // A made-up API key buys no fresh budget: it counts as its address.
    expect((await ask(stack.gatewayUrl, { 'x-api-key': 'made-up-1' })).status).toBe(429);
    // The registry's endpoints have a budget of their own (REGISTRY_RATE_LIMIT_REQUESTS).
    expect((await fetch(stack.gatewayUrl.replace('/graphql', '/registry/subgraphs'))).status).toBe(200);
    // A known API key is another client with its own budget; so is another address behind the proxy.
    expect((await ask(stack.gatewayUrl, { 'x-api-key': 'dashboard-1' })).status).toBe(200);
    expect((await ask(stack.gatewayUrl, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200);
    // Health and readiness are not rate limited.
    expect((await fetch(stack.gatewayUrl.replace('/graphql', '/health'))).status).toBe(200);
  });
});

describe('rate limiting shared by two replicas through Redis', () => {
  const redis = new PrivateRedis(0);
  let subgraphs: Stack<null>;
  let replicas: Listening[];
  beforeAll(async () => {
    redis.port = await freePort();
    await redis.start();
    subgraphs = await startStack({ env: EPHEMERAL_ENV, log: () => {}, withGateway: false });
    const config = {
      ...loadGatewayConfig({
        ...EPHEMERAL_ENV,
        REDIS_URL: redis.url,
        RATE_LIMIT_REQUESTS: '4',
        RATE_LIMIT_API_KEYS: digest('shared-client'),
        RESPONSE_CACHE: 'false',
      }),
      subgraphUrls: subgraphs.subgraphUrls,
    };
    replicas = [];
    for (let i = 0; i < 2; i++) replicas.push(await listen(await buildGatewayService(config, { log: () => {} }), '127.0.0.1', 0));
    // Wait until both replicas count in Redis.
    for (const replica of replicas) {
      for (let t = 0; t < 50; t++) {
        const ready = (await (await fetch(replica.url.replace('/graphql', '/ready'))).json()) as { redis: { rateLimiter: string } };
        if (ready.redis.rateLimiter === 'up') break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await subgraphs.close();
    await redis.stop();
  });

  it('counts one budget across replicas, falls back to memory while Redis is down, never failing a request', async () => {
    const key = { 'x-api-key': 'shared-client' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await ask(replicas[i % 2]!.url, key)).status);
    // Four allowed in total, whichever replica answered; the fifth refused.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);

    await redis.stop();
    // Redis down: counted in each replica's memory (a fresh budget), answered, not a 500.
    const during = [];
    for (let i = 0; i < 2; i++) during.push((await ask(replicas[0]!.url, key)).status);
    expect(during).toEqual([200, 200]);
    const ready = (await (await fetch(replicas[0]!.url.replace('/graphql', '/ready'))).json()) as {
      status: string;
      redis: { rateLimiter: string };
    };
    expect(ready.redis.rateLimiter).toBe('down');
    expect(ready.status).toBe('degraded');

    await redis.start();
    let back = '';
    for (let t = 0; t < 100 && back !== 'up'; t++) {
      await new Promise((r) => setTimeout(r, 100));
      back = ((await (await fetch(replicas[0]!.url.replace('/graphql', '/ready'))).json()) as { redis: { rateLimiter: string } }).redis
        .rateLimiter;
    }
    expect(back).toBe('up');
    expect((await ask(replicas[1]!.url, key)).status).toBe(200);
  });
});

describe('CORS, introspection and stack traces', () => {
  let stack: Stack;
  let locked: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { CORS_ORIGINS: 'https://dash.example.org' }, log: () => {} });
    locked = await startTestStack({ env: { INTROSPECTION: 'false', INCLUDE_STACKTRACE: 'true', BATCHING: 'true' }, log: () => {} });
  });
  afterAll(async () => {
    await stack.close();
    await locked.close();
  });

  it('allows only the listed browser origins', async () => {
    const preflight = (origin: string) =>
      fetch(stack.gatewayUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const allowed = await preflight('https://dash.example.org');
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dash.example.org');
    const other = await preflight('https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers introspection by default and refuses it with INTROSPECTION=false', async () => {
    const open = await post<any>(stack.gatewayUrl, '{ __schema { queryType { name } } }');
    expect(open.data.__schema.queryType.name).toBe('Query');
    const closed = await post(locked.gatewayUrl, '{ __schema { queryType { name } } }');
    expect(closed.status).toBe(400);
    expect(closed.errors?.[0]?.message).toMatch(/introspection is not allowed/i);
  });

  it('answers a batch only with BATCHING=true', async () => {
    const batch = JSON.stringify([{ query: '{ programme { completionTargetYear } }' }, { query: '{ clusters { id } }' }]);
    const send = (url: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batch });
    const refused = await send(stack.gatewayUrl);
    expect(refused.status).toBe(400);
    const answered = await send(locked.gatewayUrl);
    expect(answered.status).toBe(200);
    const body = (await answered.json()) as { data: Record<string, unknown> }[];
    expect(body.map((r) => Object.keys(r.data))).toEqual([['programme'], ['clusters']]);
  });

  it('keeps stack traces out of responses unless INCLUDE_STACKTRACE=true', async () => {
    const bad = '{ compareRelease(code: "R2", asOf: "2007-02-30") { divergent } }';
    const plain = await post(stack.gatewayUrl, bad);
    expect(plain.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(plain)).not.toMatch(/stacktrace/);
    const traced = await post(locked.gatewayUrl, bad);
    expect(traced.errors?.[0]?.extensions?.['stacktrace']).toBeDefined();
  });
});
