/**
 * One cluster's subgraph failing is not an outage: the gateway answers the other clusters'
 * data with a SUBGRAPH_UNAVAILABLE error on the failed cluster's fields, stops calling a
 * dead subgraph (circuit breaker) and calls it again once it is back, gives up on a subgraph
 * that never answers (timeout), and starts while a subgraph is unreachable.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { loadLondonConfig } from '../subgraphs/london/config.js';
import { buildLondonSubgraph } from '../subgraphs/london/server.js';
import { EPHEMERAL_ENV, post, startTestStack } from './helpers.js';

const RELEASE = '{ release(code: "R2") { south(asOf: "2007-09-06") { designStatus } london(asOf: "2007-09-06") { designStatus } } }';
const COMPARISON =
  '{ compareRelease(code: "R2", asOf: "2007-09-06") { snapshots { cluster { id } } aspects { aspect values { cluster { id } value } } } }';
const ENV = { RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false', SUBGRAPH_RETRIES: '1', BREAKER_FAILURES: '3', BREAKER_RESET_MS: '300' };

/** Starts the london subgraph on `port` (again). */
async function startLondon(port: number): Promise<Listening> {
  const { service } = await buildLondonSubgraph(loadLondonConfig({ HOST: '127.0.0.1', LONDON_PORT: String(port) }), { log: () => {} });
  return listen(service, '127.0.0.1', port);
}

async function json(url: string): Promise<any> {
  return (await fetch(url)).json();
}

async function metric(gatewayUrl: string, line: RegExp): Promise<string | undefined> {
  const text = await (await fetch(gatewayUrl.replace('/graphql', '/metrics'))).text();
  return text.split('\n').find((l) => line.test(l));
}

describe('a cluster subgraph down', () => {
  let stack: Stack;
  let londonPort: number;
  let london: Listening | null = null;
  beforeAll(async () => {
    stack = await startTestStack({ env: ENV, log: () => {} });
    const built = stack.services.find((s) => s.name === 'london')!;
    londonPort = built.port;
    await built.close();
  });
  afterAll(async () => {
    await london?.close();
    await stack.close();
  });

  it("answers the South's view and a SUBGRAPH_UNAVAILABLE error on London's field, never a failed request", async () => {
    const response = await post<any>(stack.gatewayUrl, RELEASE);
    expect(response.status).toBe(200);
    expect(response.data.release).toEqual({ south: { designStatus: 'SUSPENDED' }, london: null });
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]).toMatchObject({
      path: ['release', 'london'],
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'london' },
    });
    expect(response.errors![0]!.message).toMatch(/london subgraph is unavailable/);
    expect(JSON.stringify(response)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  it('compares the clusters that are up, with the error on the comparison', async () => {
    const response = await post<any>(stack.gatewayUrl, COMPARISON);
    expect(response.status).toBe(200);
    const comparison = response.data.compareRelease;
    expect(comparison.snapshots).toEqual([{ cluster: { id: 'SOUTH' } }]);
    const status = comparison.aspects.find((a: { aspect: string }) => a.aspect === 'designStatus');
    expect(status.values).toEqual([{ cluster: { id: 'SOUTH' }, value: 'SUSPENDED' }]);
    expect(response.errors).toEqual([
      expect.objectContaining({
        path: ['compareRelease'],
        extensions: expect.objectContaining({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'london' }),
      }),
    ]);
  });

  it('opens the circuit, says so in /ready and /metrics, and closes it once London is back', async () => {
    for (let i = 0; i < 3; i++) await post(stack.gatewayUrl, RELEASE);
    const refused = await post<any>(stack.gatewayUrl, RELEASE);
    expect(refused.errors?.[0]?.extensions?.['reason']).toBe('circuit-open');
    const ready = await json(stack.gatewayUrl.replace('/graphql', '/ready'));
    expect(ready.status).toBe('degraded');
    expect(ready.subgraphs).toContainEqual(expect.objectContaining({ name: 'london', reachable: false, breaker: 'open' }));
    expect(ready.subgraphs).toContainEqual(expect.objectContaining({ name: 'south', reachable: true, breaker: 'closed' }));
    expect(await metric(stack.gatewayUrl, /^gateway_circuit_breaker_state\{subgraph="london"\}/)).toMatch(/ 2$/);
    expect(await metric(stack.gatewayUrl, /^gateway_subgraph_fetch_errors_total\{subgraph="london",reason="circuit-open"\}/)).toBeDefined();

    london = await startLondon(londonPort);
    // The circuit lets one trial fetch through after BREAKER_RESET_MS; it then closes.
    let answer: any;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      answer = await post<any>(stack.gatewayUrl, RELEASE);
      if (!answer.errors) break;
    }
    expect(answer.errors).toBeUndefined();
    expect(answer.data.release).toEqual({ south: { designStatus: 'SUSPENDED' }, london: { designStatus: 'ACTIVE' } });
    expect(await metric(stack.gatewayUrl, /^gateway_circuit_breaker_state\{subgraph="london"\}/)).toMatch(/ 0$/);
    const recovered = await json(stack.gatewayUrl.replace('/graphql', '/ready'));
    expect(recovered.status).toBe('ready');
  });
});

describe('a subgraph that accepts connections but never answers', () => {
  let stack: Stack;
  let hung: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    stack = await startTestStack({ env: { ...ENV, SUBGRAPH_TIMEOUT_MS: '300', BREAKER_FAILURES: '100' }, log: () => {} });
    const built = stack.services.find((s) => s.name === 'london')!;
    await built.close();
    hung = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hung.listen(built.port, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => hung.close(r));
    await stack.close();
  });

  it('gives up after the timeout and its retry, and answers the rest', async () => {
    const started = Date.now();
    const response = await post<any>(stack.gatewayUrl, RELEASE);
    expect(response.data.release.south).toEqual({ designStatus: 'SUSPENDED' });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'london', reason: 'timeout' });
    // Two attempts of 300 ms (one retry): bounded, not the client's patience.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('a subgraph unreachable when the gateway starts', () => {
  let subgraphs: Stack<null>;
  let gateway: Listening;
  beforeAll(async () => {
    subgraphs = await startStack({ env: EPHEMERAL_ENV, log: () => {}, withGateway: false });
    await subgraphs.services.find((s) => s.name === 'london')!.close();
    const config = { ...loadGatewayConfig({ ...EPHEMERAL_ENV, ...ENV }), subgraphUrls: subgraphs.subgraphUrls };
    gateway = await listen(await buildGatewayService(config, { log: () => {} }), '127.0.0.1', 0);
  });
  afterAll(async () => {
    await gateway.close();
    await subgraphs.close();
  });

  it('starts from its supergraph, reports itself degraded, and serves the other clusters', async () => {
    const ready = await fetch(gateway.url.replace('/graphql', '/ready'));
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('degraded');
    const response = await post<any>(gateway.url, RELEASE);
    expect(response.data.release.south).toEqual({ designStatus: 'SUSPENDED' });
    expect(response.errors?.[0]?.extensions?.['code']).toBe('SUBGRAPH_UNAVAILABLE');
  });
});
