import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, listen, type Listening } from '../schema/http.js';
import { MemoryCache } from './cache.js';
import type { GatewayContext } from './data-source.js';
import { FeedVersions } from './feed-versions.js';
import { parseHeaderRules } from './headers.js';
import { MutationEpochs } from './mutation-epochs.js';
import { fastPath } from './fast-path.js';
import { indexPersisted, persistedResolver } from './persisted-operations.js';
import { responseCache } from './response-cache.js';

/**
 * The response cache on a plain Apollo Server (no gateway): its context says the operation
 * touched one subgraph, `s`, without feed versions, whose cache policy the schema's hints give.
 */
const schema = makeExecutableSchema({
  typeDefs: `
    enum CacheControlScope { PUBLIC PRIVATE }
    directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
    type Query { n: Int, mine: Int @cacheControl(scope: PRIVATE), completed: Int }
  `,
  resolvers: { Query: { n: () => 1, mine: () => 2, completed: () => 3 } },
});

/** What Apollo Gateway does when a subgraph sent null for a non-null field: the data, and `extensions.valueCompletion`. */
const valueCompletion: ApolloServerPlugin<GatewayContext> = {
  requestDidStart: async () => ({
    willSendResponse: async (rc) => {
      const body = rc.response.body;
      if (body.kind === 'single' && rc.operation?.selectionSet.selections.some((s) => s.kind === 'Field' && s.name.value === 'completed'))
        body.singleResult.extensions = { ...body.singleResult.extensions, valueCompletion: [{ message: 'Cannot return null' }] };
    },
  }),
};

const cache = new MemoryCache(1024 * 1024);
const epochs = new MutationEpochs(cache);
const feedVersions = new FeedVersions([], { redisUrl: null });
let server: Listening;

beforeAll(async () => {
  // Subgraphs receive the client's Accept-Language (and, for one, its Authorization).
  const rules = parseHeaderRules(
    '{"all":{"request":[{"propagate":{"named":"accept-language"}}]},"subgraphs":{"s":{"request":[{"propagate":{"named":"authorization"}}]}}}',
  );
  const responses = responseCache({
    cache,
    feedVersions,
    epochs,
    supergraphVersion: () => 'v1',
    keyParts: (op) => [rules.cacheVary(op.headers())],
  });
  server = await listen(
    await createService<GatewayContext>({
      name: 'cached',
      apollo: (drain) =>
        new ApolloServer<GatewayContext>({
          schema,
          plugins: [drain, valueCompletion, responses.plugin, ApolloServerPluginCacheControl({ defaultMaxAge: 60 })],
        }),
      context: async () => ({
        pin: '',
        touched: new Set(['s']),
        versions: new Map([['s', null]]),
        markedPublic: new Set(['s']),
        epochs: await epochs.read(['s']),
      }),
      graphqlMiddleware: [responses.varyAccept],
      fastPath: fastPath({
        lookup: responses.lookup,
        persisted: persistedResolver({ manifest: () => indexPersisted(new Map()), stage: 'off', onUnlisted: () => {} }),
        edge: async () => true,
        bodyLimitBytes: 1024 * 1024,
      }),
    }),
    '127.0.0.1',
    0,
  );
});
afterAll(async () => {
  await server.close();
  feedVersions.close();
});

async function ask(query: string, headers: Record<string, string> = {}, variablesJson = '{}') {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: `{"query":${JSON.stringify(query)},"variables":${variablesJson}}`,
  });
  const body = (await response.json()) as { data?: unknown; extensions?: { cache?: { status: string }; valueCompletion?: unknown } };
  return { status: response.status, headers: response.headers, body, cache: body.extensions?.cache?.status };
}

describe('the response cache', () => {
  it('answers a hit with the content type a miss gets for the same Accept, and Vary: Accept on both', async () => {
    const accept = { accept: 'application/graphql-response+json' };
    const miss = await ask('{ n }', accept);
    const hit = await ask('{ n }', accept);
    expect([miss.cache, hit.cache]).toEqual(['MISS', 'HIT']);
    for (const answer of [miss, hit]) {
      expect(answer.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
      expect(answer.headers.get('vary')).toMatch(/\baccept\b/i);
    }
    const json = await ask('{ n }', { accept: 'application/json, application/graphql-response+json' });
    expect(json.cache).toBe('HIT');
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('keeps no result with extensions a hit would lose (valueCompletion)', async () => {
    const first = await ask('{ completed }');
    const second = await ask('{ completed }');
    expect(second.cache).toBe('MISS');
    expect(second.body.extensions?.valueCompletion).toEqual(first.body.extensions?.valueCompletion);
  });

  it('keeps no answer its subgraph marked private', async () => {
    await ask('{ mine }');
    expect((await ask('{ mine }')).cache).toBe('MISS');
  });

  it('uses no entry from before a new mutation epoch of its subgraph', async () => {
    await ask('{ a: n }');
    expect((await ask('{ a: n }')).cache).toBe('HIT');
    await epochs.bump(['s']);
    expect((await ask('{ a: n }')).cache).toBe('MISS');
    expect((await ask('{ a: n }')).cache).toBe('HIT');
  });

  it('keys answers by the headers the subgraphs receive: another Accept-Language is another entry, on both paths', async () => {
    expect((await ask('{ lang: n }', { 'accept-language': 'en-GB' })).cache).toBe('MISS');
    expect((await ask('{ lang: n }', { 'accept-language': 'en-GB' })).cache).toBe('HIT');
    expect((await ask('{ lang: n }', { 'accept-language': 'cy' })).cache).toBe('MISS');
    expect((await ask('{ lang: n }', { 'accept-language': 'cy' })).cache).toBe('HIT');
    expect((await ask('{ lang: n }')).cache).toBe('MISS');
    // A token is not part of the key: an entry its subgraph marked public serves it.
    expect((await ask('{ lang: n }', { 'accept-language': 'cy', authorization: 'Bearer other' })).cache).toBe('HIT');
  });

  it('bypasses the cache for variables too deep to key, never failing the request', async () => {
    const answer = await ask('{ n }', {}, `{"deep":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ n: 1 });
    expect(answer.cache).toBe('BYPASS');
  });
});
