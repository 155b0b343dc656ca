/**
 * The Guild gateway benchmark workload, ported to Node subgraphs (./subgraphs.ts), run through a
 * plain Apollo Gateway: the query of /work/shared/bench/guild-workload must answer in full, with
 * the original's data rules, at about the published response size (~87 KB).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway } from '@apollo/gateway';
import { parse, print } from 'graphql';
import { GUILD_SUBGRAPH_NAMES, PRODUCTS, REVIEWS, startGuildSubgraphs, type GuildSubgraphs } from './subgraphs.js';

const WORKLOAD = new URL('../../../../shared/bench/guild-workload/', import.meta.url);
// A copy of the workload's query ships next to this test, so it runs without shared/ too.
const QUERY_FILE = fileURLToPath(new URL('./query.graphql', import.meta.url));
const SUPERGRAPH_FILE = fileURLToPath(new URL('supergraph.graphql', WORKLOAD));
const KB = 1024;

interface Review {
  id: string;
  body: string;
  author?: User;
  product?: Product;
}
interface User {
  id: string;
  username: string;
  name: string;
  reviews: Review[];
}
interface Product {
  upc: string;
  name: string;
  price: number;
  weight: number;
  inStock: boolean;
  shippingEstimate: number;
  reviews?: Review[];
}
interface TestQueryData {
  users: User[];
  topProducts: Product[];
}

/** Every object in a response tree, depth first. */
function* objects(value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) {
    for (const item of value) yield* objects(item);
  } else if (value !== null && typeof value === 'object') {
    yield value as Record<string, unknown>;
    for (const child of Object.values(value)) yield* objects(child);
  }
}

/** Paths of every null in a response tree (the query selects only fields the workload fills). */
function nullPaths(value: unknown, path = ''): string[] {
  if (value === null) return [path || '(root)'];
  if (Array.isArray(value)) return value.flatMap((item, index) => nullPaths(item, `${path}[${index}]`));
  if (typeof value === 'object') return Object.entries(value).flatMap(([key, child]) => nullPaths(child, path ? `${path}.${key}` : key));
  return [];
}

describe('The Guild gateway benchmark subgraphs, through plain Apollo Gateway', () => {
  let subgraphs: GuildSubgraphs | undefined;
  let gatewayServer: ApolloServer | undefined;
  let gatewayUrl = '';

  beforeAll(async () => {
    subgraphs = await startGuildSubgraphs({ host: '127.0.0.1', port: 0 });
    // Plain Apollo Gateway's usage-metrics meter would probe cloud metadata addresses and report
    // to apollographql.com: tests send traffic only to this machine (as plain-gateway.ts).
    process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
    gatewayServer = new ApolloServer({
      gateway: new ApolloGateway({ supergraphSdl: subgraphs.supergraphSdl }),
      stopOnTerminationSignals: false,
    });
    ({ url: gatewayUrl } = await startStandaloneServer(gatewayServer, { listen: { host: '127.0.0.1', port: 0 } }));
  });

  afterAll(async () => {
    await gatewayServer?.stop();
    await subgraphs?.close();
  });

  it('sends no Cache-Control, as the originals, unless one is asked for', async () => {
    const ask = (url: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ topProducts { upc } }' }),
      });
    const plain = await ask(subgraphs!.url('products'));
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBeNull();
    const cached = await startGuildSubgraphs({ cacheControl: 'max-age=60, public' });
    try {
      const answer = await ask(cached.url('products'));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('max-age=60, public');
    } finally {
      await cached.close();
    }
  });

  it('serves the four subgraphs at /<name> of one server', () => {
    const origins = new Set(GUILD_SUBGRAPH_NAMES.map((name) => new URL(subgraphs!.url(name)).origin));
    expect(origins.size).toBe(1);
    for (const name of GUILD_SUBGRAPH_NAMES) expect(new URL(subgraphs!.url(name)).pathname).toBe(`/${name}`);
  });

  it.skipIf(!existsSync(SUPERGRAPH_FILE))('composes to the shared supergraph (same graph, only the URLs differ)', () => {
    const shared = readFileSync(SUPERGRAPH_FILE, 'utf8').replace(
      /url:\s*"http:\/\/[^"/]+:4200\/(accounts|products|inventory|reviews)"/g,
      (_match, name: (typeof GUILD_SUBGRAPH_NAMES)[number]) => `url: "${subgraphs!.url(name)}"`,
    );
    // print(parse(...)) drops formatting, so only a difference in the graph itself shows.
    expect(print(parse(subgraphs!.supergraphSdl))).toBe(print(parse(shared)));
  });

  it('answers the workload query in full, with the original data rules, at ~87 KB', async () => {
    const query = readFileSync(QUERY_FILE, 'utf8');
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, operationName: 'TestQuery' }),
    });
    const text = await response.text();
    const bytes = Buffer.byteLength(text);
    expect(response.status, text.slice(0, 2000)).toBe(200);
    const body = JSON.parse(text) as { data?: TestQueryData; errors?: unknown[] };

    expect(body.errors).toBeUndefined();
    const data = body.data!;
    expect(nullPaths(data)).toEqual([]);

    expect(data.users).toHaveLength(6);
    expect(data.topProducts).toHaveLength(5);
    expect(data.topProducts.map((product) => product.upc)).toEqual(['1', '2', '3', '4', '5']);

    // Every product the query asks reviews of has them as a list, each with its author's username;
    // the counts are the original data's (upc 1 -> 4, 2 -> 4, 3 -> 1, 4 -> 2; 5, "TV", has none).
    const productsWithReviews = [...objects(data)].filter((object) => 'upc' in object && 'reviews' in object) as unknown as Product[];
    expect(productsWithReviews.length).toBeGreaterThan(5);
    for (const product of productsWithReviews) {
      expect(Array.isArray(product.reviews)).toBe(true);
      expect(product.reviews).toHaveLength(REVIEWS.filter((review) => review.upc === product.upc).length);
      for (const review of product.reviews!) {
        expect(review.author?.username).toMatch(/\S/);
        expect(review.author?.name).toMatch(/\S/);
      }
    }
    expect(data.topProducts.slice(0, 4).every((product) => product.reviews!.length > 0)).toBe(true);

    // shippingEstimate (inventory, @requires price weight) = 0 if price > 1000 else weight / 2.
    const products = [...objects(data)].filter((object) => 'shippingEstimate' in object) as unknown as Product[];
    expect(products.length).toBeGreaterThan(50);
    for (const product of products) {
      const expected = PRODUCTS.find((known) => known.upc === product.upc)!;
      expect({ upc: product.upc, price: product.price, weight: product.weight }).toEqual({
        upc: expected.upc,
        price: expected.price,
        weight: expected.weight,
      });
      expect(product.shippingEstimate).toBe(product.price > 1000 ? 0 : product.weight / 2);
      expect(typeof product.inStock).toBe('boolean');
    }

    // The published workload answers about 87 KB.
    expect(bytes).toBeGreaterThanOrEqual(60 * KB);
    expect(bytes).toBeLessThanOrEqual(120 * KB);
  });
});
