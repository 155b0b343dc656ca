/**
 * The response cache's fast path (gateway/fast-path.ts): a hit is answered before Express,
 * and still passes everything a `/graphql` request passes: request id and access log,
 * metrics, CORS, the rate limit, persisted-only. Express's own dispatch is counted, so each
 * test shows the hits it sends never reached it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { createLogger } from '../gateway/logger.js';
import { buildGatewayService } from '../gateway/server.js';
import type { Service } from '../schema/http.js';
import { createService, listen, subgraphApollo, type Listening } from '../subgraphs/kit/http.js';
import { freePort, PrivateRedis } from './redis.js';
import { metric } from './streams.js';

const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { stock(id: ID!): Int! }
`;
const STOCK = 'query Stock($id: ID!) { stock(id: $id) }';
const ORIGIN = 'https://dashboard.example';
/** Known API keys, so each test counts against a rate budget of its own. */
const KEYS = ['key-headers', 'key-limit', 'key-cors', 'key-log', 'key-get', 'key-csrf', 'key-shapes'];
const digest = (key: string) => createHash('sha256').update(key).digest('hex');

interface Gateway {
  readonly url: string;
  readonly lines: Record<string, unknown>[];
  /** Requests Express dispatched (the fast path hands it the rest). */
  expressed: number;
  close(): Promise<void>;
}

async function startGateway(supergraph: string, env: Record<string, string>): Promise<Gateway> {
  const config = loadGatewayConfig({ SUPERGRAPH_PATH: supergraph, GATEWAY_PORT: '0', HOST: '127.0.0.1', ...env });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const service: Service = await buildGatewayService(config, { log: () => {}, logger });
  const gateway: Gateway = { url: '', lines, expressed: 0, close: async () => {} };
  // Express's `app(req, res)` is `app.handle(req, res)`: every request it dispatches passes here.
  const app = service.app as unknown as { handle: (...args: unknown[]) => unknown };
  const handle = app.handle.bind(app);
  app.handle = (...args) => {
    gateway.expressed++;
    return handle(...args);
  };
  const listening = await listen(service, config.host, config.port);
  return Object.assign(gateway, { url: listening.url, close: () => listening.close() });
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { data?: unknown; errors?: { extensions?: { code?: string } }[]; extensions?: { cache?: { status: string } } };
}

async function ask(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

const status = (answer: Answer) => answer.body.extensions?.cache?.status;
/** The gateway's count of `Stock` requests answered ok, and of response-cache hits. */
const counts = async (gateway: Gateway) => ({
  requests: await metric(gateway.url, 'gateway_requests_total', 'operation="Stock",outcome="ok"'),
  hits: await metric(gateway.url, 'gateway_cache_requests_total', 'cache="response",result="hit"'),
});
/** A hit answered on the fast path: HIT, and Express never dispatched it. */
async function fastHit(gateway: Gateway, send: () => Promise<Answer>): Promise<Answer> {
  const before = gateway.expressed;
  const answer = await send();
  expect(status(answer)).toBe('HIT');
  expect(gateway.expressed).toBe(before);
  return answer;
}

const dir = mkdtempSync(join(tmpdir(), 'msg-fast-path-'));
let subgraph: Listening;
let supergraph: string;
let manifest: string;

beforeAll(async () => {
  const schema = buildSubgraphSchema({
    typeDefs: parse(SDL),
    resolvers: { Query: { stock: (_: unknown, args: { id: string }) => Number(args.id) * 10 } },
  });
  subgraph = await listen(
    await createService({ name: 'inventory', apollo: subgraphApollo(schema, { maxAge: 60 }), context: async () => ({}) }),
    '127.0.0.1',
    0,
  );
  const composed = composeSupergraph([{ name: 'inventory', url: subgraph.url, sdl: SDL }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  supergraph = join(dir, 'supergraph.graphql');
  writeFileSync(supergraph, composed.supergraphSdl);
  manifest = join(dir, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: 'Stock', name: 'Stock', type: 'query', body: STOCK }],
    }),
  );
});
afterAll(async () => {
  await subgraph.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a response-cache hit on the fast path', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway(supergraph, {
      CORS_ORIGINS: ORIGIN,
      RATE_LIMIT_REQUESTS: '4',
      RATE_LIMIT_API_KEYS: KEYS.map(digest).join(','),
      PERSISTED_OPERATIONS_FILE: manifest,
    });
  });
  afterAll(() => gateway.close());

  it('carries the headers a miss carries, less those that describe the answer itself', async () => {
    const headers = { 'x-api-key': 'key-headers', origin: ORIGIN, 'x-request-id': 'trace-1' };
    const miss = await ask(gateway.url, { query: STOCK, variables: { id: '1' } }, headers);
    expect(status(miss)).toBe('MISS');
    const hit = await fastHit(gateway, () => ask(gateway.url, { query: STOCK, variables: { id: '1' } }, headers));
    expect(hit.body.data).toEqual(miss.body.data);
    // Expected to differ: the body's length and Express's ETag of it, the age, the count left.
    const differ = new Set(['content-length', 'etag', 'date', 'age', 'cache-control', 'x-ratelimit-remaining']);
    const kept = (answer: Answer) => {
      const pairs: [string, string][] = [];
      answer.headers.forEach((value, name) => void (differ.has(name) || pairs.push([name, value])));
      return pairs.sort();
    };
    expect(kept(hit)).toEqual(kept(miss));
    expect(hit.headers.get('x-request-id')).toBe('trace-1');
    expect(hit.headers.get('cache-control')).toMatch(/^max-age=\d+, public$/);
    expect(hit.headers.get('age')).toMatch(/^\d+$/);
    expect(Number(hit.headers.get('x-ratelimit-remaining'))).toBe(Number(miss.headers.get('x-ratelimit-remaining')) - 1);
  });

  it('counts hits against the rate limit, and refuses one past it with 429', async () => {
    const headers = { 'x-api-key': 'key-limit' };
    await ask(gateway.url, { query: STOCK, variables: { id: '2' } }, headers);
    for (let i = 0; i < 3; i++) await fastHit(gateway, () => ask(gateway.url, { query: STOCK, variables: { id: '2' } }, headers));
    const before = gateway.expressed;
    const refused = await ask(gateway.url, { query: STOCK, variables: { id: '2' } }, headers);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(gateway.expressed).toBe(before);
  });

  it('applies CORS as on a miss: the allowed origin echoed, another one not, and preflights answered', async () => {
    const body = { query: STOCK, variables: { id: '3' } };
    const miss = await ask(gateway.url, body, { 'x-api-key': 'key-cors', origin: ORIGIN });
    const hit = await fastHit(gateway, () => ask(gateway.url, body, { 'x-api-key': 'key-cors', origin: ORIGIN }));
    for (const answer of [miss, hit]) {
      expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(answer.headers.get('vary')).toBe('Origin, Accept');
    }
    const other = await fastHit(gateway, () => ask(gateway.url, body, { 'x-api-key': 'key-cors', origin: 'https://elsewhere.example' }));
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(gateway.url, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('writes the access line and the metrics a request on the Express path gets', async () => {
    const headers = { 'x-api-key': 'key-log', 'x-request-id': 'logged-hit' };
    await ask(gateway.url, { query: STOCK, variables: { id: '4' } }, { ...headers, 'x-request-id': 'logged-miss' });
    const before = await counts(gateway);
    await fastHit(gateway, () => ask(gateway.url, { query: STOCK, variables: { id: '4' } }, headers));
    const line = (id: string) => gateway.lines.find((l) => l['requestId'] === id);
    const fields = (l: Record<string, unknown> | undefined) => Object.keys(l ?? {}).sort();
    expect(fields(line('logged-hit'))).toEqual(fields(line('logged-miss')));
    expect(line('logged-hit')).toMatchObject({ msg: 'request', method: 'POST', path: '/graphql', status: 200, operation: null });
    // The hit itself is counted, not only the miss before it.
    expect(await counts(gateway)).toEqual({ requests: before.requests + 1, hits: before.hits + 1 });
  });

  it('serves persisted operations by id, over POST and GET, and GETs with the preflight header', async () => {
    const headers = { 'x-api-key': 'key-get' };
    const variables = encodeURIComponent(JSON.stringify({ id: '5' }));
    await ask(gateway.url, { documentId: 'Stock', variables: { id: '5' } }, headers);
    await fastHit(gateway, () => ask(gateway.url, { documentId: 'Stock', variables: { id: '5' } }, headers));
    const get = async (search: string, extra: Record<string, string> = {}): Promise<Answer> => {
      const response = await fetch(`${gateway.url}?${search}`, { headers: { ...headers, ...extra } });
      return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
    };
    const byId = await fastHit(gateway, () => get(`documentId=Stock&variables=${variables}`));
    expect(byId.body.data).toEqual({ stock: 50 });
    await fastHit(gateway, () => get(`query=${encodeURIComponent(STOCK)}&variables=${variables}`, { 'apollo-require-preflight': 'true' }));
    // Without it, Apollo's CSRF guard refuses the GET, as it always has.
    const refused = await fetch(`${gateway.url}?query=${encodeURIComponent(STOCK)}&variables=${variables}`, {
      headers: { 'x-api-key': 'key-csrf' },
    });
    expect(refused.status).toBe(400);
  });

  it('hands everything else to Express, which answers as it would without the fast path', async () => {
    const headers = { 'x-api-key': 'key-shapes' };
    const before = gateway.expressed;
    const broken = await ask(gateway.url, '{"query": ', headers);
    expect(broken.status).toBe(400);
    expect(broken.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    const unknown = await ask(gateway.url, { documentId: 'NoSuchOperation' }, headers);
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const batch = await ask(gateway.url, [{ query: STOCK, variables: { id: '1' } }], headers);
    expect(batch.status).toBe(400);
    expect(gateway.expressed).toBe(before + 3);
  });
});

describe('a hit with every /graphql middleware able to decide at once (no rate budget)', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway(supergraph, { RATE_LIMIT_REQUESTS: '0' });
  });
  afterAll(() => gateway.close());

  it('is answered on the fast path with the same bytes, and still logged and counted', async () => {
    const body = { query: STOCK, variables: { id: '8' } };
    const miss = await ask(gateway.url, body, { 'x-request-id': 'idle-miss' });
    const before = await counts(gateway);
    const hit = await fastHit(gateway, () => ask(gateway.url, body, { 'x-request-id': 'idle-hit' }));
    expect(hit.body.data).toEqual(miss.body.data);
    expect(hit.headers.get('x-ratelimit-limit')).toBeNull();
    expect(hit.headers.get('vary')).toBe('Accept');
    expect(hit.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(hit.headers.get('content-length'))).toBe(Buffer.byteLength(JSON.stringify(hit.body)));
    const line = gateway.lines.find((l) => l['requestId'] === 'idle-hit');
    expect(line).toMatchObject({ msg: 'request', method: 'POST', path: '/graphql', status: 200 });
    expect(before.hits).toBe(0);
    expect(await counts(gateway)).toEqual({ requests: before.requests + 1, hits: 1 });
  });
});

describe('persisted operations only, on the fast path', () => {
  const redis = new PrivateRedis(0);
  let open: Gateway;
  let only: Gateway;
  beforeAll(async () => {
    redis.port = await freePort();
    await redis.start();
    const env = { REDIS_URL: redis.url, PERSISTED_OPERATIONS_FILE: manifest };
    open = await startGateway(supergraph, env);
    only = await startGateway(supergraph, { ...env, PERSISTED_OPERATIONS_ONLY: 'true' });
  });
  afterAll(async () => {
    await open.close();
    await only.close();
    await redis.stop();
  });

  it('refuses an operation that is not in the manifest, even when another replica cached its answer', async () => {
    const adHoc = { query: '{ stock(id: "7") }' };
    await ask(open.url, adHoc);
    expect(status(await ask(open.url, adHoc))).toBe('HIT');
    const refused = await ask(only.url, adHoc);
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_PERSISTED');
    // The manifest's operation, cached by either replica, is a hit on the fast path of both.
    await ask(open.url, { documentId: 'Stock', variables: { id: '7' } });
    await fastHit(only, () => ask(only.url, { documentId: 'Stock', variables: { id: '7' } }));
  });
});
