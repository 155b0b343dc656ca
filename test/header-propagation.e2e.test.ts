/**
 * Header propagation end to end (`PROPAGATE_HEADERS`): what each subgraph receives, recorded
 * by a pass-through in front of the programme and the South subgraphs. Rules for all
 * subgraphs and per subgraph; Authorization only where a rule names it; hop-by-hop headers,
 * those the client lists in `Connection`, and the gateway's own never passed; and the
 * response cache keyed by what the subgraphs receive.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { EPHEMERAL_ENV } from './helpers.js';
import { forwardingProxy, type Proxy } from './proxy.js';

const RULES = {
  all: { request: [{ propagate: { named: 'accept-language' } }, { propagate: { named: 'x-tenant', rename: 'x-trust', default: 'none' } }] },
  subgraphs: {
    // South takes every header a rule may pass by pattern, and the caller's token by name.
    south: { request: [{ propagate: { matching: '.*' } }, { propagate: { named: 'authorization' } }, { remove: { named: 'x-debug' } }] },
  },
};

let subgraphs: Stack<null>;
let gateway: Listening;
const proxies: Proxy[] = [];
const seen: Record<'programme' | 'south', IncomingHttpHeaders[]> = { programme: [], south: [] };

beforeAll(async () => {
  subgraphs = await startStack({ env: EPHEMERAL_ENV, log: () => {}, withGateway: false });
  const record = (name: 'programme' | 'south') =>
    forwardingProxy(subgraphs.subgraphUrls[name], { onRequest: (req) => void (req.method === 'POST' && seen[name].push(req.headers)) });
  const [programme, south] = await Promise.all([record('programme'), record('south')]);
  proxies.push(programme, south);
  const env = { ...EPHEMERAL_ENV, PROPAGATE_HEADERS: JSON.stringify(RULES) };
  const config = { ...loadGatewayConfig(env), subgraphUrls: { ...subgraphs.subgraphUrls, programme: programme.url, south: south.url } };
  gateway = await listen(await buildGatewayService(config, { log: () => {} }), '127.0.0.1', 0);
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  for (const proxy of proxies) await proxy.close();
  await subgraphs?.close();
});

/** POSTs with exactly these headers (node:http: fetch refuses to send hop-by-hop ones). */
function ask(query: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const body = JSON.stringify({ query });
  const url = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Both subgraphs: the releases come from the programme, their South names from South. */
const BOTH = 'query Both { releases { code south { localName } } }';

describe('header propagation', () => {
  it("sends each subgraph what the rules give it: all's, then its own", async () => {
    seen.programme.length = 0;
    seen.south.length = 0;
    const answer = await ask(BOTH, { 'accept-language': 'en-GB', 'x-tenant': 'RJ1', 'x-debug': '1', 'x-nhs-trust': 'RJ1' });
    expect(answer.status).toBe(200);
    expect(seen.programme.length).toBeGreaterThan(0);
    expect(seen.south.length).toBeGreaterThan(0);
    for (const headers of seen.programme) {
      expect(headers).toMatchObject({ 'accept-language': 'en-GB', 'x-trust': 'RJ1' });
      expect(headers).not.toHaveProperty('x-nhs-trust');
      expect(headers).not.toHaveProperty('x-tenant');
    }
    for (const headers of seen.south) {
      expect(headers).toMatchObject({ 'accept-language': 'en-GB', 'x-trust': 'RJ1', 'x-nhs-trust': 'RJ1', 'x-tenant': 'RJ1' });
      expect(headers).not.toHaveProperty('x-debug');
    }
    // The default, when the client sends none.
    seen.programme.length = 0;
    await ask('query Target { programme { completionTargetYear } }');
    expect(seen.programme.map((h) => h['x-trust'])).toEqual(['none']);
  });

  it('passes Authorization only to the subgraph whose rule names it', async () => {
    seen.programme.length = 0;
    seen.south.length = 0;
    await ask('query Authorised { releases { code south { localName } } }', { authorization: 'Bearer t0ken', cookie: 'session=1' });
    expect(seen.south.every((h) => h.authorization === 'Bearer t0ken')).toBe(true);
    // The matching rule takes no credentials.
    expect(seen.south.some((h) => 'cookie' in h)).toBe(false);
    expect(seen.programme.length).toBeGreaterThan(0);
    expect(seen.programme.some((h) => 'authorization' in h || 'cookie' in h)).toBe(false);
  });

  it("never passes hop-by-hop headers, those the client's Connection lists, or forged gateway headers", async () => {
    seen.south.length = 0;
    await ask('query Hops { releases { code south { localName } } }', {
      connection: 'keep-alive, x-hop',
      'keep-alive': 'timeout=99',
      'x-hop': 'this hop only',
      te: 'trailers',
      'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
      'proxy-foo': 'bar',
      'x-caller-claims': 'eyJzdWIiOiJmb3JnZWQifQ',
      'x-snapshot-pin': '1999-01-01T00:00:00.000Z',
      'x-kept': 'yes',
    });
    expect(seen.south.length).toBeGreaterThan(0);
    for (const headers of seen.south) {
      expect(headers['x-kept']).toBe('yes');
      for (const name of ['x-hop', 'te', 'proxy-authorization', 'proxy-foo', 'x-caller-claims']) expect(headers).not.toHaveProperty(name);
      expect(headers['keep-alive']).not.toBe('timeout=99');
      expect(headers['x-snapshot-pin']).not.toBe('1999-01-01T00:00:00.000Z');
    }
  });

  it('keys the response cache by what the subgraphs receive', async () => {
    const cache = async (language: string) => (await ask(BOTH, { 'accept-language': language })).body.extensions?.cache?.status;
    expect(await cache('fr')).toBe('MISS');
    expect(await cache('fr')).toBe('HIT');
    seen.programme.length = 0;
    // Another language is another answer: the subgraphs are asked again, with it.
    expect(await cache('cy')).toBe('MISS');
    expect(seen.programme.map((h) => h['accept-language'])).toContain('cy');
    expect(await cache('cy')).toBe('HIT');
  });
});
