/** The gateway on its own: any federation-2 supergraph from a file, health, and config errors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { createService, listen, subgraphApollo, type Listening } from '../subgraphs/kit/http.js';
import { query, testLogger } from './helpers.js';

const PRODUCTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { topProducts(first: Int = 2): [Product!]! }
  type Product @key(fields: "upc") { upc: String! name: String! }
`;

const running: Listening[] = [];
let dir: string;
let gatewayUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'msg-gateway-'));
  const products = [
    { upc: '1', name: 'Table' },
    { upc: '2', name: 'Couch' },
    { upc: '3', name: 'Chair' },
  ];
  const schema = buildSubgraphSchema({
    typeDefs: parse(PRODUCTS_SDL),
    resolvers: { Query: { topProducts: (_: unknown, args: { first: number }) => products.slice(0, args.first) } },
  });
  const subgraph = await listen(
    await createService({ name: 'products', apollo: subgraphApollo(schema), context: async () => ({}) }),
    '127.0.0.1',
    0,
  );
  running.push(subgraph);
  const composed = composeSupergraph([{ name: 'products', url: subgraph.url, sdl: PRODUCTS_SDL }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  const path = join(dir, 'supergraph.graphql');
  writeFileSync(path, composed.supergraphSdl);
  const config = loadGatewayConfig({ SUPERGRAPH_PATH: path, GATEWAY_PORT: '0' });
  const gateway = await listen(await buildGatewayService(config, { logger: testLogger() }), config.host, config.port);
  running.push(gateway);
  gatewayUrl = gateway.url;
});

afterAll(async () => {
  for (const service of running.reverse()) await service.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the gateway', () => {
  it('serves any federation-2 supergraph given in SUPERGRAPH_PATH', async () => {
    const data = await query(gatewayUrl, '{ topProducts(first: 3) { upc name } }');
    expect(data.topProducts.map((p: { name: string }) => p.name)).toEqual(['Table', 'Couch', 'Chair']);
  });

  it('answers /health with 200 once the supergraph is loaded', async () => {
    const response = await fetch(gatewayUrl.replace('/graphql', '/health'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'gateway' });
  });

  it('says which file it could not read', async () => {
    const config = loadGatewayConfig({ SUPERGRAPH_PATH: join(dir, 'missing.graphql') });
    await expect(buildGatewayService(config)).rejects.toThrow(/SUPERGRAPH_PATH=".*missing\.graphql" cannot be read/);
  });

  it('refuses a subgraph URL that is not http(s)', () => {
    expect(() => loadGatewayConfig({ SOUTH_URL: 'ftp://south/graphql' })).toThrow(/SOUTH_URL="ftp:\/\/south\/graphql"/);
  });

  it('calls subgraphs on this machine when it listens on every interface', () => {
    expect(loadGatewayConfig({ HOST: '0.0.0.0', LONDON_PORT: '5003' }).subgraphUrls.london).toBe('http://127.0.0.1:5003/graphql');
  });
});

describe('authorised requests and the response cache', () => {
  const started: Listening[] = [];
  let url: string;
  beforeAll(async () => {
    // A subgraph that marks its answers public itself (cache hints on every field).
    const sdl = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Query { notice: String! }
    `;
    const schema = buildSubgraphSchema({
      typeDefs: parse(sdl),
      resolvers: { Query: { notice: () => 'R2 design suspended in the South' } },
    });
    const { ApolloServer } = await import('@apollo/server');
    const { ApolloServerPluginCacheControl } = await import('@apollo/server/plugin/cacheControl');
    const publicSubgraph = await listen(
      await createService({
        name: 'notices',
        apollo: (drain) => new ApolloServer({ schema, plugins: [drain, ApolloServerPluginCacheControl({ defaultMaxAge: 60 })] }),
        context: async () => ({}),
      }),
      '127.0.0.1',
      0,
    );
    started.push(publicSubgraph);
    const composed = composeSupergraph([{ name: 'notices', url: publicSubgraph.url, sdl }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    const path = join(dir, 'public-supergraph.graphql');
    writeFileSync(path, composed.supergraphSdl);
    const config = loadGatewayConfig({ SUPERGRAPH_PATH: path, GATEWAY_PORT: '0' });
    const gateway = await listen(await buildGatewayService(config, { log: () => {} }), config.host, config.port);
    started.push(gateway);
    url = gateway.url;
  });
  afterAll(async () => {
    for (const service of started.reverse()) await service.close();
  });

  const status = async (headers: Record<string, string>) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: '{ notice }' }),
    });
    return ((await response.json()) as { extensions: { cache: { status: string } } }).extensions.cache.status;
  };

  it('shares an answer its subgraph marked public, even with an Authorization header', async () => {
    expect(await status({ authorization: 'Bearer analyst' })).toBe('MISS');
    expect(await status({ authorization: 'Bearer analyst' })).toBe('HIT');
    expect(await status({})).toBe('HIT');
  });
});
