/**
 * What operators see: a request id on every response and on every subgraph call it caused,
 * JSON access logs without secrets, `/health`, `/ready` and Prometheus `/metrics`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { createLogger } from '../gateway/logger.js';
import { buildGatewayService } from '../gateway/server.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { EPHEMERAL_ENV } from './helpers.js';
import { forwardingProxy, type Proxy } from './proxy.js';

let subgraphs: Stack<null>;
let gateway: Listening;
let proxy: Proxy;
const seen: IncomingHttpHeaders[] = [];
const lines: string[] = [];

beforeAll(async () => {
  subgraphs = await startStack({ env: EPHEMERAL_ENV, log: () => {}, withGateway: false });
  // The programme subgraph behind a pass-through that records the headers of its GraphQL calls.
  proxy = await forwardingProxy(subgraphs.subgraphUrls.programme, {
    onRequest: (req) => void (req.method === 'POST' && seen.push(req.headers)),
  });
  const programme = proxy.url;
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const config = { ...loadGatewayConfig(EPHEMERAL_ENV), subgraphUrls: { ...subgraphs.subgraphUrls, programme } };
  gateway = await listen(await buildGatewayService(config, { logger: createLogger('info', sink) }), '127.0.0.1', 0);
});
afterAll(async () => {
  await gateway.close();
  await proxy.close();
  await subgraphs.close();
});

const at = (path: string) => gateway.url.replace('/graphql', path);

function ask(query: string, headers: Record<string, string> = {}) {
  return fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
}

describe('request ids', () => {
  it("returns the client's x-request-id and sends it to every subgraph the request calls", async () => {
    seen.length = 0;
    const response = await ask('query Target { programme { completionTargetYear } }', { 'x-request-id': 'dash-42' });
    expect(response.headers.get('x-request-id')).toBe('dash-42');
    expect(seen.map((h) => h['x-request-id'])).toEqual(['dash-42']);
  });

  it('makes one up when the client sends none (or a malformed one)', async () => {
    const none = await ask('{ clusters { id } }');
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const odd = await ask('{ clusters { id } }', { 'x-request-id': 'bad id with spaces' });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('answers', () => {
  it('carry no ETag: Express would hash every answer for one, and no client of a POST revalidates', async () => {
    const response = await ask('query Target { programme { completionTargetYear } }');
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBeNull();
  });
});

describe('logs', () => {
  it('writes one JSON access line per request, with its id and operation, and no secrets', async () => {
    await ask('query WithSecrets { programme { completionTargetYear } }', {
      'x-request-id': 'log-1',
      authorization: 'Bearer s3cr3t-t0ken',
      'x-api-key': 'k3y-123456',
    });
    await new Promise((r) => setTimeout(r, 50));
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.find((e) => e['requestId'] === 'log-1')).toMatchObject({
      msg: 'request',
      method: 'POST',
      path: '/graphql',
      status: 200,
      operation: 'WithSecrets',
      service: 'gateway',
    });
    expect(lines.join('\n')).not.toMatch(/s3cr3t-t0ken|k3y-123456/);
  });
});

describe('/health, /ready and /metrics', () => {
  it('says it is alive and ready, with every subgraph and Redis', async () => {
    expect(await (await fetch(at('/health'))).json()).toEqual({ status: 'ok', service: 'gateway' });
    const ready = await fetch(at('/ready'));
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as {
      status: string;
      supergraph: { loaded: boolean; version: string };
      subgraphs: { name: string; reachable: boolean; breaker: string }[];
      redis: unknown;
    };
    expect(body.status).toBe('ready');
    expect(body.supergraph).toEqual({ loaded: true, version: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(body.subgraphs.map((s) => [s.name, s.reachable, s.breaker]).sort()).toEqual([
      ['insights', true, 'closed'],
      ['london', true, 'closed'],
      ['programme', true, 'closed'],
      ['south', true, 'closed'],
    ]);
    expect(body.redis).toMatchObject({ configured: false, cache: 'memory', rateLimiter: 'memory' });
  });

  it('counts requests, latency, subgraph fetches, cache hits and misses, feed age and the registry version', async () => {
    for (let i = 0; i < 3; i++) await ask('query Matrix { releases { code south { localName } } }');
    await ask('query Broken { nope }');
    const response = await fetch(at('/metrics'));
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    expect(value(/^gateway_requests_total\{operation="Matrix",outcome="ok"\} (\d+)$/m)).toBe(3);
    expect(value(/^gateway_requests_total\{operation="Broken",outcome="refused"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^gateway_request_duration_seconds_count\{operation="Matrix",outcome="ok"\} (\d+)$/m)).toBe(3);
    expect(value(/^gateway_cache_requests_total\{cache="response",result="miss"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^gateway_cache_requests_total\{cache="response",result="hit"\} (\d+)$/m)).toBeGreaterThanOrEqual(2);
    expect(value(/^gateway_subgraph_fetch_duration_seconds_count\{subgraph="south"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^gateway_circuit_breaker_state\{subgraph="south"\} (\d+)$/m)).toBe(0);
    expect(value(/^gateway_feed_age_seconds\{supplier="south"\} ([\d.]+)$/m)).toBeGreaterThanOrEqual(0);
    expect(value(/^gateway_feed_age_seconds\{supplier="london"\} ([\d.]+)$/m)).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^gateway_registry_version_info\{version="[0-9a-f]{16}"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
  });
});
