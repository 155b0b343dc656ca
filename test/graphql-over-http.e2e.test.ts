/**
 * The gateway speaks GraphQL over HTTP: graphql-http's audit of `/graphql` passes every MUST
 * and every SHOULD; the MAY audits it fails are the ones the CSRF protection refuses on
 * purpose. Its pages (`/`, `/explorer`, `/dashboard`) and their files send headers that keep
 * them from being framed, sniffed or leaking their address.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { VENDOR } from '../gateway/web-assets.js';
import { createService, listen, subgraphApollo, type Listening } from '../subgraphs/kit/http.js';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { notice(id: ID): String }
`;

const running: Listening[] = [];
let dir: string;
let url: string;

beforeAll(async () => {
  const schema = buildSubgraphSchema({ typeDefs: parse(SDL), resolvers: { Query: { notice: () => 'R2 design suspended' } } });
  const subgraph = await listen(
    await createService({ name: 'notices', apollo: subgraphApollo(schema), context: async () => ({}) }),
    '127.0.0.1',
    0,
  );
  running.push(subgraph);
  const composed = composeSupergraph([{ name: 'notices', url: subgraph.url, sdl: SDL }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  dir = mkdtempSync(join(tmpdir(), 'msg-http-'));
  writeFileSync(join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  const config = loadGatewayConfig({ SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'), GATEWAY_PORT: '0' });
  const gateway = await listen(await buildGatewayService(config, { log: () => {} }), config.host, config.port);
  running.push(gateway);
  url = gateway.url;
});

afterAll(async () => {
  for (const service of running.reverse()) await service.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * MAY audits the gateway fails on purpose. Apollo's CSRF prevention refuses a GET without a
 * preflight-forcing header (`apollo-require-preflight`, or a non-simple content type), and
 * graphql-http's GETs send none: a page on another site could otherwise make a browser run
 * queries with the user's cookies.
 */
const EXPECTED_MAY_FAILURES: Readonly<Record<string, string>> = {
  '5A70': 'a GET without a preflight-forcing header is refused by CSRF prevention',
  D6D5: 'a GET without a preflight-forcing header is refused by CSRF prevention',
  '6A70': 'a GET without a preflight-forcing header is refused by CSRF prevention',
};

describe('GraphQL over HTTP (graphql-http audit)', () => {
  it('passes every MUST and every SHOULD; fails only the MAY audits that CSRF prevention refuses', async () => {
    const results = await auditServer({ url: () => url });
    const failed = (level: string) =>
      results
        .filter((r) => r.status !== 'ok' && r.name.startsWith(level))
        .map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
    const count = (level: string) => results.filter((r) => r.name.startsWith(level)).length;
    expect(failed('MUST')).toEqual([]);
    expect(failed('SHOULD')).toEqual([]);
    expect(count('MUST')).toBe(13);
    expect(count('SHOULD')).toBe(23);
    const mayFailed = results.filter((r) => r.status !== 'ok' && r.name.startsWith('MAY'));
    expect(mayFailed.map((r) => r.id).sort()).toEqual(Object.keys(EXPECTED_MAY_FAILURES).sort());
    // Each is the CSRF refusal, not some other fault.
    for (const failure of mayFailed) {
      if (failure.status === 'ok') continue;
      expect(failure.response.status).toBe(400);
      expect(await failure.response.clone().text()).toMatch(/CSRF/);
    }
  });

  const send = (accept: string, query: string, variables?: Record<string, unknown>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ query, variables }) });

  it.each([
    ['a parse failure', '{', undefined],
    ['a validation failure', '{ nope }', undefined],
    ['a variable coercion failure', 'query ($id: ID!) { notice(id: $id) }', { id: { not: 'an id' } }],
  ])(
    'answers %s with 200 to application/json, 400 to application/graphql-response+json and to no preference',
    async (_, query, variables) => {
      const json = await send('application/json', query, variables);
      expect(json.status).toBe(200);
      expect(json.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await json.json()).not.toHaveProperty('data');
      const graphqlJson = await send('application/graphql-response+json', query, variables);
      expect(graphqlJson.status).toBe(400);
      expect(graphqlJson.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
      expect((await send('*/*', query, variables)).status).toBe(400);
      // Both accepted, graphql-response+json first: Apollo answers it, so the status stays 400.
      const both = await send('application/graphql-response+json, application/json', query, variables);
      expect([both.status, both.headers.get('content-type')]).toEqual([400, 'application/graphql-response+json; charset=utf-8']);
    },
  );
});

describe('page headers', () => {
  const origin = () => url.replace(/\/graphql$/, '');
  it.each(['/', '/explorer', '/dashboard', '/static/explorer.js', VENDOR.graphiql.path])(
    '%s cannot be framed or sniffed and sends no referrer',
    async (path) => {
      const response = await fetch(`${origin()}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('content-security-policy')).toMatch(/(^|;\s*)frame-ancestors 'none'(;|$)/);
    },
  );

  it("keeps the pages' own scripts allowed: only the gateway's files, no inline script", async () => {
    const csp = (await fetch(`${origin()}/explorer`)).headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/(^|;\s*)script-src 'self'(;|$)/);
  });
});
