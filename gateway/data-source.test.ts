/**
 * The data source caches an answer under a feed version only when the subgraph answered from
 * exactly that version (`x-feed-version`), for the response cache (through the hint Apollo
 * reads) and the entity cache alike.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCallerClaims } from '../schema/caller-claims.js';
import { FEED_VERSION_HEADER } from '../schema/wire.js';
import { ANONYMOUS } from './caller.js';
import { parseHeaderRules } from './headers.js';
import { MemoryCache } from './cache.js';
import { GatewayDataSource, type GatewayContext } from './data-source.js';
import { subgraphAgent } from './pool-fetcher.js';
import { EntityCache } from './entity-cache.js';
import { SubgraphResilience } from './resilience.js';

const ENTITIES =
  'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Release { south { designStatus } } } }';

/** A subgraph that answers every fetch with one entity and says it answered from `answered.version`. */
const answered: { version: string | null } = { version: null };
let fetches = 0;
let lastHeaders: IncomingHttpHeaders = {};
let server: Server;
let url: string;
const agent = subgraphAgent();

/** Headers of the last request, and whether a request to `/slow` was closed before its answer. */
const seen: { headers: Record<string, unknown>; slowClosedEarly: boolean | null } = { headers: {}, slowClosedEarly: null };

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.headers = req.headers;
    if (req.url === '/slow') {
      // Never answers in time: the attempt's timeout must close the request.
      const timer = setTimeout(() => res.end('{"data":{}}'), 5_000);
      res.on('close', () => {
        seen.slowClosedEarly = !res.writableFinished;
        clearTimeout(timer);
      });
      req.resume();
      return;
    }
    req.resume();
    req.on('end', () => {
      fetches += 1;
      lastHeaders = req.headers;
      res.setHeader('content-type', 'application/json');
      if (answered.version) res.setHeader(FEED_VERSION_HEADER, answered.version);
      res.end(JSON.stringify({ data: { _entities: [{ south: { designStatus: `answer ${fetches}` } }] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await agent.close();
  await new Promise((resolve) => server.close(resolve));
});

const contextAt = (version: string | null): GatewayContext => ({
  pin: new Date().toISOString(),
  touched: new Set(),
  versions: new Map([['south', version]]),
  markedPublic: new Set(),
  answered: new Map(),
  epochs: new Map([['south', 'epoch-1']]),
});

function dataSource(entityCache: EntityCache | null = null, headers = parseHeaderRules('{}').forSubgraph('south'), dedupe = false) {
  return new GatewayDataSource({
    name: 'south',
    url,
    agent,
    defaultMaxAge: 60,
    dedupe,
    maxResponseBytes: 16 * 1024 * 1024,
    hasFeed: () => true,
    entityCache,
    log: () => {},
    headers,
  });
}

/** What the data source hands Apollo: the `Cache-Control` it restricts the operation's policy by. */
function received(source: GatewayDataSource, context: GatewayContext, headers: Record<string, string>) {
  const response = source.didReceiveResponse({
    response: { data: {}, http: { headers: new Headers(headers), status: 200, url } },
    context,
  } as never) as { http: { headers: Headers } };
  return response.http.headers.get('cache-control');
}

describe('GatewayDataSource: cacheable only under the feed version the subgraph answered from', () => {
  it('keeps an answer from the operation’s own version for the default max-age', () => {
    const context = contextAt('v2');
    expect(received(dataSource(), context, { [FEED_VERSION_HEADER]: 'v2' })).toBe('max-age=60');
    expect(context.answered?.get('south')).toBe('v2');
  });

  it('makes an answer from another version uncacheable, even one its subgraph allowed, and notes that version', () => {
    const context = contextAt('v2');
    expect(received(dataSource(), context, { [FEED_VERSION_HEADER]: 'v1' })).toBe('max-age=0');
    expect(received(dataSource(), contextAt('v2'), { [FEED_VERSION_HEADER]: 'v1', 'cache-control': 'max-age=30, public' })).toBe(
      'max-age=0',
    );
    // A live query's run reads this: it was behind, and runs again.
    expect(context.answered?.get('south')).toBe('v1');
  });

  it('gives a feed subgraph that does not say which version it answered from only its own max-age', () => {
    expect(received(dataSource(), contextAt('v2'), {})).toBe('max-age=0');
    expect(received(dataSource(), contextAt('v2'), { 'cache-control': 'max-age=30' })).toBe('max-age=30');
    // A subgraph without feed versions: as before, only its own Cache-Control.
    expect(received(dataSource(), contextAt(null), { 'cache-control': 'max-age=30' })).toBe('max-age=30');
  });

  it('does not keep entities a subgraph answered from another version than the operation’s', async () => {
    const cache = new EntityCache(new MemoryCache(1024 * 1024));
    const source = dataSource(cache);
    const lookup = (context: GatewayContext) =>
      source.process({
        kind: 'loading schema',
        request: { query: ENTITIES, variables: { representations: [{ __typename: 'Release', code: 'R2' }] } },
        context,
      } as never);
    // The gateway knows v2, but the subgraph's pin still saw v1: nothing is kept under v2.
    answered.version = 'v1';
    const before = fetches;
    await lookup(contextAt('v2'));
    answered.version = 'v2';
    const next = await lookup(contextAt('v2'));
    expect(fetches).toBe(before + 2);
    expect(next.data).toEqual({ _entities: [{ south: { designStatus: `answer ${before + 2}` } }] });
    // Answered from v2 under v2: kept, and the next lookup is served from the cache.
    const third = await lookup(contextAt('v2'));
    expect(fetches).toBe(before + 2);
    expect(third.data).toEqual(next.data);
  });

  it('merges identical in-flight fetches, and gives each operation an answer of its own to merge into', async () => {
    const source = dataSource(null, undefined, true);
    // One pin: fetches of a feed subgraph merge only within one snapshot.
    const context = contextAt('v2');
    const fetch = () =>
      source.process({
        kind: 'loading schema',
        request: { query: ENTITIES, variables: { representations: [{ __typename: 'Release', code: 'R1' }] } },
        context: { ...context, touched: new Set() },
      } as never);
    const before = fetches;
    const [first, second] = await Promise.all([fetch(), fetch()]);
    expect(fetches).toBe(before + 1);
    expect(second.data).toEqual(first.data);
    // Apollo writes each operation's later fetches into these objects.
    (first.data as { _entities: Record<string, unknown>[] })._entities[0]!['mine'] = true;
    expect((second.data as { _entities: Record<string, unknown>[] })._entities[0]!['mine']).toBeUndefined();
  });

  it('aborts a fetch on the wire at its timeout, and never sends the header that carries its attempt', async () => {
    const resilience = new SubgraphResilience('south', {
      timeoutMs: 100,
      timeoutsMs: {},
      retries: 0,
      retryDelayMs: 1,
      breakerFailures: 100,
      breakerResetMs: 1000,
    });
    const source = (path: string) =>
      new GatewayDataSource({
        name: 'south',
        url: `${url.replace(/\/graphql$/, '')}${path}`,
        agent,
        defaultMaxAge: 60,
        dedupe: false,
        maxResponseBytes: 1024 * 1024,
        hasFeed: () => true,
        entityCache: null,
        resilience,
        log: () => {},
      });
    const fetch = (path: string) =>
      source(path).process({
        kind: 'loading schema',
        request: { query: '{ releases { code } }', variables: {} },
        context: contextAt('v2'),
      } as never);
    await fetch('/graphql');
    expect(Object.keys(seen.headers).filter((name) => name.startsWith('x-gateway'))).toEqual([]);
    const slow = await fetch('/slow');
    expect(slow.errors?.[0]?.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', reason: 'timeout' });
    for (const deadline = Date.now() + 2_000; seen.slowClosedEarly === null && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.slowClosedEarly).toBe(true);
  });
});

describe('GatewayDataSource: the client headers a subgraph receives (PROPAGATE_HEADERS)', () => {
  const rules = parseHeaderRules(
    '{"subgraphs":{"south":{"request":[{"propagate":{"named":"authorization"}},{"claims":{"include":["sub","org"]}}]}}}',
  );
  const lookup = (source: GatewayDataSource, client: Record<string, string>, claims: Record<string, unknown>) =>
    source.process({
      kind: 'incoming operation',
      request: { query: ENTITIES, variables: { representations: [{ __typename: 'Release', code: 'R2' }] } },
      incomingRequestContext: { request: { http: { headers: new Map(Object.entries(client)) } } },
      context: { ...contextAt('v2'), caller: { ...ANONYMOUS, subject: String(claims['sub']), claims } },
    } as never);

  it('sends the headers and the claims its rules give, and keys cached entities by them', async () => {
    answered.version = 'v2';
    const source = dataSource(new EntityCache(new MemoryCache(1024 * 1024)), rules.forSubgraph('south'));
    const before = fetches;
    await lookup(source, { authorization: 'Bearer a', cookie: 'c' }, { sub: 'alice', org: 'RJ1', email: 'a@x' });
    expect(lastHeaders['authorization']).toBe('Bearer a');
    expect(lastHeaders).not.toHaveProperty('cookie');
    expect(decodeCallerClaims(lastHeaders['x-caller-claims'])).toEqual({ sub: 'alice', org: 'RJ1' });
    // Same headers and claims: the entity cache answers; another token or caller: fetched again.
    await lookup(source, { authorization: 'Bearer a' }, { sub: 'alice', org: 'RJ1', email: 'a@x' });
    expect(fetches).toBe(before + 1);
    await lookup(source, { authorization: 'Bearer b' }, { sub: 'bob', org: 'RJ1' });
    expect(fetches).toBe(before + 2);
    expect(decodeCallerClaims(lastHeaders['x-caller-claims'])).toEqual({ sub: 'bob', org: 'RJ1' });
  });
});
