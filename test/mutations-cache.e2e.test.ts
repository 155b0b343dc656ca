/**
 * The response and entity caches on a supergraph that is not ours (`SUPERGRAPH_PATH`), with
 * mutations: nothing is cached that its subgraphs did not allow, and a mutation through the
 * gateway is never followed by an answer from before it, on one replica or on two sharing
 * Redis. Also: extensions a client must see, `Accept` on hits, and deeply nested variables.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { createService, listen, subgraphApollo, type Listening } from '../subgraphs/kit/http.js';
import { freePort, PrivateRedis } from './redis.js';

const FEDERATION = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])`;

/** Sends no `Cache-Control` (nor `/feed/events`): its answers must never be kept. */
const PRODUCTS_SDL = `${FEDERATION}
  type Query { products: [Product!]! }
  type Mutation { addProduct(name: String!): Product! }
  type Product @key(fields: "id") { id: ID! name: String! }
`;

/** Says `max-age=60, public`: cacheable, until a mutation to it through the gateway. */
const INVENTORY_SDL = `${FEDERATION}
  type Query { stock(id: ID!): Int! }
  type Mutation { restock(id: ID!, count: Int!): Int! }
  type Product @key(fields: "id") { id: ID! stock: Int! }
`;

/** Answers `null` for a non-null field, with `max-age=60`: Apollo completes it (`valueCompletion`). */
const GADGETS_SDL = `${FEDERATION}
  type Query { gadget: Gadget }
  type Gadget { label: String! }
`;

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: unknown[]; extensions?: { cache?: { status: string }; valueCompletion?: unknown } };
}

async function ask(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text.startsWith('{') ? JSON.parse(text) : { text }) as Answer['body'],
  };
}

const cacheStatus = (answer: Pick<Answer, 'body'>) => answer.body.extensions?.cache?.status;

/** The three subgraphs, their supergraph file, and their state (reset for each gateway). */
async function startSubgraphs(dir: string) {
  const state = {
    products: [{ id: '1', name: 'Table' }],
    stock: new Map([['1', 5]]),
    stockLookups: 0,
    productLists: 0,
    productsDelayMs: 0,
  };
  const products = buildSubgraphSchema({
    typeDefs: parse(PRODUCTS_SDL),
    resolvers: {
      Query: {
        products: async () => {
          state.productLists++;
          const list = [...state.products];
          await new Promise((r) => setTimeout(r, state.productsDelayMs));
          return list;
        },
      },
      Mutation: {
        addProduct: (_: unknown, args: { name: string }) => {
          const product = { id: String(state.products.length + 1), name: args.name };
          state.products.push(product);
          state.stock.set(product.id, 0);
          return product;
        },
      },
    },
  });
  const inventory = buildSubgraphSchema({
    typeDefs: parse(INVENTORY_SDL),
    resolvers: {
      Query: { stock: (_: unknown, args: { id: string }) => state.stock.get(args.id) ?? 0 },
      Mutation: {
        restock: (_: unknown, args: { id: string; count: number }) => {
          state.stock.set(args.id, (state.stock.get(args.id) ?? 0) + args.count);
          return state.stock.get(args.id);
        },
      },
      Product: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        stock: (product: { id: string }) => {
          state.stockLookups++;
          return state.stock.get(product.id) ?? 0;
        },
      },
    } as never,
  });
  const running: Listening[] = [];
  const serve = async (name: string, apollo: ReturnType<typeof subgraphApollo>) => {
    const service = await listen(await createService({ name, apollo, context: async () => ({}) }), '127.0.0.1', 0);
    running.push(service);
    return service.url;
  };
  const productsUrl = await serve('products', subgraphApollo(products));
  const inventoryUrl = await serve('inventory', subgraphApollo(inventory, { maxAge: 60 }));
  // A subgraph that is not graphql-js: it answers what it answers.
  const gadgets: Server = createServer((req, res) => {
    if (req.method !== 'POST') return res.writeHead(404).end();
    req.resume().on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60, public' });
      res.end(JSON.stringify({ data: { gadget: { label: null } } }));
    });
  });
  await new Promise<void>((resolve) => gadgets.listen(0, '127.0.0.1', resolve));
  const gadgetsUrl = `http://127.0.0.1:${(gadgets.address() as AddressInfo).port}/graphql`;
  const composed = composeSupergraph([
    { name: 'products', url: productsUrl, sdl: PRODUCTS_SDL },
    { name: 'inventory', url: inventoryUrl, sdl: INVENTORY_SDL },
    { name: 'gadgets', url: gadgetsUrl, sdl: GADGETS_SDL },
  ]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  const path = join(dir, 'mutations-supergraph.graphql');
  writeFileSync(path, composed.supergraphSdl);
  return {
    state,
    path,
    close: async () => {
      for (const service of running) await service.close();
      await new Promise((resolve) => gadgets.close(resolve));
    },
  };
}

type Subgraphs = Awaited<ReturnType<typeof startSubgraphs>>;

async function startGateway(path: string, env: Record<string, string> = {}): Promise<Listening> {
  const config = loadGatewayConfig({ SUPERGRAPH_PATH: path, GATEWAY_PORT: '0', ...env });
  return listen(await buildGatewayService(config, { log: () => {} }), config.host, config.port);
}

const PRODUCTS = '{ products { id name } }';
const STOCK = '{ stock(id: "1") }';

describe('the caches on a supergraph with mutations (memory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msg-mutations-'));
  let subgraphs: Subgraphs;
  let gateway: Listening;
  beforeAll(async () => {
    subgraphs = await startSubgraphs(dir);
    gateway = await startGateway(subgraphs.path);
  });
  afterAll(async () => {
    await gateway.close();
    await subgraphs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never keeps an answer from a subgraph that allowed no caching, so a mutation shows at once', async () => {
    const before = await ask(gateway.url, { query: PRODUCTS });
    expect(before.body.data.products).toEqual([{ id: '1', name: 'Table' }]);
    const added = await ask(gateway.url, { query: 'mutation { addProduct(name: "Lamp") { id } }' });
    expect(added.body.data.addProduct.id).toBe('2');
    expect(cacheStatus(added)).toBe('BYPASS');
    const after = await ask(gateway.url, { query: PRODUCTS });
    expect(after.body.data.products.map((p: { name: string }) => p.name)).toEqual(['Table', 'Lamp']);
    expect(cacheStatus(after)).not.toBe('HIT');
    expect(cacheStatus(await ask(gateway.url, { query: PRODUCTS }))).not.toBe('HIT');
  });

  it('keeps nothing from a subgraph that allowed no caching when its fetch was merged with another operation', async () => {
    const both = '{ products { id } stock(id: "1") }';
    subgraphs.state.productsDelayMs = 300;
    const lists = subgraphs.state.productLists;
    const alone = ask(gateway.url, { query: '{ products { id } }' });
    await new Promise((r) => setTimeout(r, 100));
    await Promise.all([alone, ask(gateway.url, { query: both })]);
    subgraphs.state.productsDelayMs = 0;
    // One products fetch answered both operations.
    expect(subgraphs.state.productLists).toBe(lists + 1);
    expect(cacheStatus(await ask(gateway.url, { query: both }))).not.toBe('HIT');
  });

  it('never answers a query with a fetch that started before a mutation through the gateway', async () => {
    subgraphs.state.productsDelayMs = 300;
    const before = ask(gateway.url, { query: PRODUCTS });
    await new Promise((r) => setTimeout(r, 100));
    await ask(gateway.url, { query: 'mutation { addProduct(name: "Rug") { id } }' });
    const after = await ask(gateway.url, { query: PRODUCTS });
    subgraphs.state.productsDelayMs = 0;
    expect((await before).body.data.products.map((p: { name: string }) => p.name)).not.toContain('Rug');
    expect(after.body.data.products.map((p: { name: string }) => p.name)).toContain('Rug');
  });

  it('keeps what a subgraph allowed with max-age, until a mutation to it through the gateway', async () => {
    await ask(gateway.url, { query: STOCK });
    const hit = await ask(gateway.url, { query: STOCK });
    expect(cacheStatus(hit)).toBe('HIT');
    expect(hit.body.data.stock).toBe(5);
    await ask(gateway.url, { query: 'mutation { restock(id: "1", count: 2) }' });
    const after = await ask(gateway.url, { query: STOCK });
    expect(after.body.data.stock).toBe(7);
    expect(cacheStatus(after)).toBe('MISS');
  });

  it('never answers an entity lookup from before a mutation to its subgraph', async () => {
    const query = '{ products { id stock } }';
    await ask(gateway.url, { query });
    const lookups = subgraphs.state.stockLookups;
    // Not a response-cache hit (products allows no caching), but its stock entities are cached.
    expect((await ask(gateway.url, { query })).body.data.products[0].stock).toBe(subgraphs.state.stock.get('1'));
    expect(subgraphs.state.stockLookups).toBe(lookups);
    await ask(gateway.url, { query: 'mutation { restock(id: "1", count: 10) }' });
    const after = await ask(gateway.url, { query });
    expect(after.body.data.products[0].stock).toBe(subgraphs.state.stock.get('1'));
    expect(subgraphs.state.stockLookups).toBeGreaterThan(lookups);
  });

  it('does not keep a result Apollo completed with nulled values, so no hit loses its valueCompletion', async () => {
    const query = '{ gadget { label } }';
    const first = await ask(gateway.url, { query });
    expect(first.body.extensions?.valueCompletion).toBeDefined();
    const second = await ask(gateway.url, { query });
    expect(second.body.extensions?.valueCompletion).toEqual(first.body.extensions?.valueCompletion);
    expect(cacheStatus(second)).not.toBe('HIT');
  });

  it('sends a hit with the content type a miss would get, and Vary: Accept on both', async () => {
    const query = '{ stock(id: "9") }';
    const accept = { accept: 'application/graphql-response+json' };
    const miss = await ask(gateway.url, { query }, accept);
    const hit = await ask(gateway.url, { query }, accept);
    expect(cacheStatus(hit)).toBe('HIT');
    for (const answer of [miss, hit]) {
      expect(answer.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
      expect(answer.headers.get('vary')).toMatch(/\baccept\b/i);
    }
    const json = await ask(gateway.url, { query });
    expect(cacheStatus(json)).toBe('HIT');
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // Nothing Apollo can send is acceptable: the same 406 as a miss.
    expect((await ask(gateway.url, { query }, { accept: 'text/csv' })).status).toBe(406);
  });

  it('answers deeply nested variables as it does without the cache, never with a 500', async () => {
    const depth = 200_000;
    const body = `{"query":${JSON.stringify(STOCK)},"variables":{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const answers: { status: number; body: Answer['body'] }[] = [];
    for (let i = 0; i < 2; i++) {
      const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      answers.push({ status: response.status, body: (await response.json()) as Answer['body'] });
    }
    const plain = await startGateway(subgraphs.path, { RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false' });
    try {
      const response = await fetch(plain.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const uncached = { status: response.status, body: (await response.json()) as Answer['body'] };
      for (const answer of answers) {
        expect(answer.status).toBe(uncached.status);
        expect(answer.body.data).toEqual(uncached.body.data);
        expect(answer.body.errors).toEqual(uncached.body.errors);
        expect(cacheStatus(answer)).toBe('BYPASS');
      }
    } finally {
      await plain.close();
    }
  });
});

describe('a mutation through one replica, with Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msg-mutations-redis-'));
  const redis = new PrivateRedis(0);
  let subgraphs: Subgraphs;
  let one: Listening;
  let two: Listening;
  beforeAll(async () => {
    redis.port = await freePort();
    await redis.start();
    subgraphs = await startSubgraphs(dir);
    one = await startGateway(subgraphs.path, { REDIS_URL: redis.url });
    two = await startGateway(subgraphs.path, { REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await one.close();
    await two.close();
    await subgraphs.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is seen by the other replica at once', async () => {
    await ask(two.url, { query: STOCK });
    expect(cacheStatus(await ask(two.url, { query: STOCK }))).toBe('HIT');
    expect(cacheStatus(await ask(one.url, { query: STOCK }))).toBe('HIT');
    await ask(one.url, { query: 'mutation { restock(id: "1", count: 1) }' });
    const after = await ask(two.url, { query: STOCK });
    expect(after.body.data.stock).toBe(6);
    expect(cacheStatus(after)).toBe('MISS');
  });
});
