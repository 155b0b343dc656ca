/**
 * JWT authentication and the supergraph's @authenticated / @requiresScopes, end to end: a
 * fixed SUPERGRAPH_PATH supergraph using both (it must load), tokens signed in the test with
 * jose and checked against a JWKS file, fields cut before any subgraph is called, the
 * response cache keeping callers apart, reject mode, JWT_REQUIRED, and SSE.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import type { Stack } from '../scripts/stack.js';
import { createService, listen, type Listening } from '../subgraphs/kit/http.js';
import { decodeCallerClaims } from '../schema/caller-claims.js';
import { CALLER_CLAIMS_HEADER } from '../schema/wire.js';
import { startTestStack } from './helpers.js';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@authenticated", "@requiresScopes"])
  type Query {
    trusts: [Trust!]!
    me: String @authenticated
  }
  type Trust @key(fields: "code") {
    code: ID!
    name: String!
    note: String @requiresScopes(scopes: [["programme:notes"], ["admin", "audit"]])
    budget: Int! @requiresScopes(scopes: [["finance"]])
    contact: Contact
  }
  type Contact @authenticated { email: String! }
`;

const TRUSTS = [
  { code: 'RN1', name: 'Winchester', note: 'unverified: press report', budget: 10, contact: { email: 'a@nhs.net' } },
  { code: 'RJ1', name: 'Guy’s', note: 'unverified: forum post', budget: 20, contact: { email: 'b@nhs.net' } },
];

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'millennium';
const running: Listening[] = [];
let dir: string;
let supergraphPath: string;
let jwksPath: string;
let key: CryptoKey;
let otherKey: CryptoKey;
/** The operations the subgraph ran, as it received them. */
const received: string[] = [];
/** The caller-claims header each of its requests carried (undefined: none). */
const claimsReceived: (string | undefined)[] = [];

async function token(
  claims: Record<string, unknown>,
  options: { key?: CryptoKey; kid?: string; expiresIn?: string; audience?: string } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'k1' })
    .setSubject('analyst@trust.nhs.uk')
    .setIssuer(ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(options.key ?? key);
}

async function gatewayWith(env: Record<string, string>): Promise<string> {
  const config = loadGatewayConfig({
    SUPERGRAPH_PATH: supergraphPath,
    GATEWAY_PORT: '0',
    JWT_JWKS_FILE: jwksPath,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    ...env,
  });
  const gateway = await listen(await buildGatewayService(config, { log: () => {} }), config.host, config.port);
  running.push(gateway);
  return gateway.url;
}

async function ask(url: string, query: string, bearer?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[];
    extensions?: { cache?: { status: string } };
  };
  return { status: response.status, ...body };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'msg-auth-'));
  ({ privateKey: key } = await generateKeyPair('ES256', { extractable: true }));
  const pair = await generateKeyPair('ES256');
  otherKey = pair.privateKey;
  const publicKey = await publicOf(key);
  jwksPath = join(dir, 'jwks.json');
  writeFileSync(jwksPath, JSON.stringify({ keys: [{ ...publicKey, kid: 'k1', alg: 'ES256', use: 'sig' }] }));
  const schema = buildSubgraphSchema({
    typeDefs: parse(SDL),
    resolvers: { Query: { trusts: () => TRUSTS, me: () => 'analyst' } },
  });
  const { ApolloServer } = await import('@apollo/server');
  const { ApolloServerPluginCacheControl } = await import('@apollo/server/plugin/cacheControl');
  const subgraph = await listen(
    await createService({
      name: 'trusts',
      apollo: (drain) =>
        new ApolloServer({
          schema,
          plugins: [
            drain,
            // Answers marked public, so the gateway's response cache shares them (and must still keep callers apart).
            ApolloServerPluginCacheControl({ defaultMaxAge: 60 }),
            {
              requestDidStart: async (rc) => {
                received.push(rc.request.query ?? '');
                claimsReceived.push(rc.request.http?.headers.get(CALLER_CLAIMS_HEADER));
              },
            },
          ],
        }),
      context: async () => ({}),
    }),
    '127.0.0.1',
    0,
  );
  running.push(subgraph);
  const composed = composeSupergraph([{ name: 'trusts', url: subgraph.url, sdl: SDL }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  supergraphPath = join(dir, 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);
});

async function publicOf(privateKey: CryptoKey) {
  const { d: _d, ...jwk } = await exportJWK(privateKey);
  return jwk;
}

afterAll(async () => {
  for (const service of running.reverse()) await service.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a supergraph with @authenticated and @requiresScopes', () => {
  let url: string;
  beforeAll(async () => {
    url = await gatewayWith({});
  });

  it('keeps the directives when composing (federation 2.5) and loads from SUPERGRAPH_PATH', async () => {
    const sdl = composeSupergraph([{ name: 'trusts', url: 'http://t', sdl: SDL }]);
    expect(sdl.ok && sdl.supergraphSdl).toContain('@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)');
    expect((await ask(url, '{ trusts { code name } }')).data).toEqual({
      trusts: [
        { code: 'RN1', name: 'Winchester' },
        { code: 'RJ1', name: 'Guy’s' },
      ],
    });
  });

  it('answers an anonymous caller with nulls and an error at each path, without asking the subgraph for them', async () => {
    received.length = 0;
    const answer = await ask(url, '{ trusts { code note contact { email } } me }');
    expect(answer.status).toBe(200);
    expect(answer.data).toEqual({
      trusts: [
        { code: 'RN1', note: null, contact: null },
        { code: 'RJ1', note: null, contact: null },
      ],
      me: null,
    });
    expect(answer.errors?.map((e) => [e.path, e.extensions?.code])).toEqual(
      expect.arrayContaining([
        [['trusts', '@', 'note'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
        [['trusts', '@', 'contact'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
        [['me'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
      ]),
    );
    expect(answer.errors).toHaveLength(3);
    expect(received.join('\n')).not.toMatch(/\bnote\b|\bcontact\b|\bme\b/);
  });

  it('propagates the null of a non-null field it cut to the nearest nullable place', async () => {
    // budget: Int! inside [Trust!]!: the list items cannot be null, nor the list, so data is null.
    const answer = await ask(url, '{ trusts { code budget } }', await token({ scope: 'programme:notes' }));
    expect(answer.data).toBeNull();
    expect(answer.errors?.map((e) => e.path)).toEqual([['trusts', '@', 'budget']]);
  });

  it('serves a token with the scope (or one of the scope lists) everything, an authenticated one the @authenticated fields', async () => {
    const scoped = await ask(url, '{ trusts { code note contact { email } } me }', await token({ scope: 'programme:notes' }));
    expect(scoped.errors).toBeUndefined();
    expect(scoped.data).toMatchObject({
      trusts: [{ note: 'unverified: press report', contact: { email: 'a@nhs.net' } }, {}],
      me: 'analyst',
    });
    const both = await ask(url, '{ trusts { note } }', await token({ scope: ['admin', 'audit'] }));
    expect(both.errors).toBeUndefined();
    const half = await ask(url, '{ trusts { note contact { email } } }', await token({ scope: 'admin' }));
    expect(half.errors?.map((e) => e.path)).toEqual([['trusts', '@', 'note']]);
    expect(half.data).toMatchObject({ trusts: [{ note: null, contact: { email: 'a@nhs.net' } }, {}] });
  });

  it('cuts through fragments, and keeps an emptied selection valid', async () => {
    const answer = await ask(url, '{ trusts { ...T } } fragment T on Trust { note }');
    expect(answer.data).toEqual({ trusts: [{ note: null }, { note: null }] });
    expect(answer.errors?.map((e) => e.path)).toEqual([['trusts', '@', 'note']]);
  });

  it('keeps anonymous and scoped answers apart in the response cache, either way round', async () => {
    const query = '{ trusts { code note } }';
    const scoped = await token({ scope: 'programme:notes' });
    const first = await ask(url, query);
    expect(first.data).toMatchObject({ trusts: [{ note: null }, { note: null }] });
    const asScoped = await ask(url, query, scoped);
    expect(asScoped.data).toMatchObject({ trusts: [{ note: 'unverified: press report' }, {}] });
    expect((await ask(url, query, scoped)).extensions?.cache?.status).toBe('HIT');
    const again = await ask(url, query);
    expect(again.data).toMatchObject({ trusts: [{ note: null }, { note: null }] });
    expect(again.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    // Another token meeting the same conditions shares the entry: keyed by what mattered, never the token.
    expect((await ask(url, query, await token({ scope: 'programme:notes other' }))).extensions?.cache?.status).toBe('HIT');
    // An operation touching nothing restricted is one entry for everyone.
    await ask(url, '{ trusts { name } }');
    expect((await ask(url, '{ trusts { name } }', scoped)).extensions?.cache?.status).toBe('HIT');
  });

  it('never answers a bad token from the cache: a cached query still gets 401 (hits with a token go through authentication)', async () => {
    const query = '{ trusts { name code } }';
    await ask(url, query);
    expect((await ask(url, query)).extensions?.cache?.status).toBe('HIT');
    const refused = await ask(url, query, await token({}, { key: otherKey }));
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['expired', () => token({}, { expiresIn: '-1m' }), /expired/],
    ['for another audience', () => token({}, { audience: 'other' }), /audience/],
    ['with an unknown kid', () => token({}, { kid: 'k9' }), /kid/],
    ['with a bad signature', () => token({}, { key: otherKey }), /signature/],
    ['malformed', async () => 'not.a.jwt', /well-formed/],
  ])('refuses a token %s with 401 UNAUTHENTICATED, naming why and not echoing it', async (_name, make, reason) => {
    const bad = await make();
    const answer = await ask(url, '{ trusts { code } }', bad);
    expect(answer.status).toBe(401);
    expect(answer.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(answer.errors?.[0]?.message).toMatch(reason);
    expect(JSON.stringify(answer)).not.toContain(bad);
  });

  it('takes the token of a WebSocket from the connection_init payload, and cuts what it may not see there too', async () => {
    const over = (connectionParams: Record<string, unknown>) =>
      new Promise<{ data?: unknown; errors?: { path?: unknown[]; extensions?: { code?: string } }[] }>((resolve, reject) => {
        const client = createWsClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams });
        let first: unknown;
        client.subscribe(
          { query: '{ trusts { note } }' },
          {
            next: (result) => void (first ??= result),
            complete: () => {
              void client.dispose();
              resolve(first as never);
            },
            error: (error) => {
              void client.dispose();
              reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
            },
          },
        );
      });
    const anonymous = await over({});
    expect(anonymous.data).toEqual({ trusts: [{ note: null }, { note: null }] });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    const scoped = await over({ Authorization: `Bearer ${await token({ scope: 'programme:notes' })}` });
    expect(scoped.errors).toBeUndefined();
    expect(scoped.data).toMatchObject({ trusts: [{ note: 'unverified: press report' }, {}] });
    const refused = await over({ authorization: 'Bearer nope' });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('checks the token of an SSE stream too', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: 'Bearer nope' },
      body: JSON.stringify({ query: '{ trusts { code } }' }),
    });
    expect(response.status).toBe(401);
    await response.arrayBuffer();
    const stream = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: '{ trusts { note } }' }),
    });
    const text = await stream.text();
    expect(text).toContain('UNAUTHORIZED_FIELD_OR_TYPE');
    expect(text).toContain('"note":null');
  });
});

describe('JWT_REJECT_UNAUTHORIZED and JWT_REQUIRED', () => {
  it('refuses the whole operation, calling no subgraph', async () => {
    const url = await gatewayWith({ JWT_REJECT_UNAUTHORIZED: 'true', RESPONSE_CACHE: 'false' });
    received.length = 0;
    const answer = await ask(url, '{ trusts { code note } }');
    expect(answer.data).toBeNull();
    expect(answer.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['trusts', '@', 'note'], 'UNAUTHORIZED_FIELD_OR_TYPE']]);
    expect(received).toEqual([]);
    expect((await ask(url, '{ trusts { code note } }', await token({ scope: 'programme:notes' }))).errors).toBeUndefined();
  });

  it('refuses an anonymous request with JWT_REQUIRED', async () => {
    const url = await gatewayWith({ JWT_REQUIRED: 'true' });
    const anonymous = await ask(url, '{ trusts { code } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await ask(url, '{ trusts { code } }', await token({}))).data).toMatchObject({ trusts: [{ code: 'RN1' }, { code: 'RJ1' }] });
  });
});

describe('the validated claims, sent on to a subgraph (PROPAGATE_HEADERS claims rule)', () => {
  it('sends the included claims of a valid token, nothing for an anonymous caller, and never a forged header', async () => {
    const url = await gatewayWith({
      RESPONSE_CACHE: 'false',
      PROPAGATE_HEADERS: JSON.stringify({ subgraphs: { trusts: { request: [{ claims: { include: ['sub', 'scope'] } }] } } }),
    });
    claimsReceived.length = 0;
    const forged = { 'content-type': 'application/json', [CALLER_CLAIMS_HEADER]: 'eyJzdWIiOiJhZG1pbiJ9' };
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: '{ trusts { code } }' }) }).then((r) => r.json());
    await post({ ...forged, authorization: `Bearer ${await token({ scope: 'programme:notes', email: 'a@nhs.net' })}` });
    await post(forged);
    expect(claimsReceived).toHaveLength(2);
    expect(decodeCallerClaims(claimsReceived[0])).toEqual({ sub: 'analyst@trust.nhs.uk', scope: 'programme:notes' });
    expect(claimsReceived[1]).toBeUndefined();
  });
});

describe('a JWKS out of reach at start', () => {
  it('is logged, /ready says not-ready naming it, and anonymous operations still run', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks.json`;
    await new Promise((resolve) => closed.close(resolve));
    const lines: string[] = [];
    const config = loadGatewayConfig({ SUPERGRAPH_PATH: supergraphPath, GATEWAY_PORT: '0', JWT_JWKS_URL: jwksUrl });
    const gateway = await listen(await buildGatewayService(config, { log: (line) => lines.push(line) }), config.host, config.port);
    running.push(gateway);
    expect(lines.join('\n')).toMatch(/JWT_JWKS_URL=.*the JWKS cannot be fetched.*\/ready says not-ready/);
    const ready = await fetch(gateway.url.replace('/graphql', '/ready'));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not-ready', jwks: { available: false, source: `JWT_JWKS_URL=${jwksUrl}` } });
    expect((await ask(gateway.url, '{ trusts { code } }')).data).toMatchObject({ trusts: [{ code: 'RN1' }, { code: 'RJ1' }] });
  });
});

describe("the committed supergraph: suppliers' notes citing unverified sources need programme:notes", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { JWT_JWKS_FILE: jwksPath, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE } });
  });
  afterAll(() => stack?.close());

  const NOTES = '{ release(code: "R2") { london(asOf: "2007-09-06") { nonAcuteProducts { name note } } } }';

  it('answers an anonymous caller with null notes and the error, the rest served', async () => {
    const answer = await ask(stack.gatewayUrl, NOTES);
    const products = (answer.data as { release: { london: { nonAcuteProducts: { name: string; note: string | null }[] } } }).release.london
      .nonAcuteProducts;
    expect(products.length).toBeGreaterThan(0);
    expect(products.every((p) => p.name && p.note === null)).toBe(true);
    expect(answer.errors).toEqual([
      {
        message: 'Unauthorized field or type: note',
        path: ['release', 'london', 'nonAcuteProducts', '@', 'note'],
        extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
      },
    ]);
  });

  it('answers a token with the scope with the notes', async () => {
    const answer = await ask(stack.gatewayUrl, NOTES, await token({ scope: 'programme:notes' }));
    expect(answer.errors).toBeUndefined();
    const products = (answer.data as { release: { london: { nonAcuteProducts: { note: string | null }[] } } }).release.london
      .nonAcuteProducts;
    expect(products.some((p) => typeof p.note === 'string')).toBe(true);
  });
});
