/**
 * The four subgraphs of The Guild's gateway benchmark (GitHub `graphql-hive/graphql-gateways-benchmark`,
 * `federation/subgraphs/{accounts,products,inventory,reviews}`), ported from Rust to Node for a
 * side-by-side benchmark of gateways over the same workload. See
 * /work/shared/bench/guild-workload/README.md for the workload and its published figures.
 *
 * Everything is static and deterministic: fixed arrays, the same values and the same resolver
 * behaviour as the originals (including their quirks, which shape the response and so the
 * benchmark):
 *  - accounts: 6 users; `me` is user 1; `users` returns all 6.
 *  - products: 9 products; `topProducts(first: Int = 5)` returns the first `first`.
 *  - inventory: `inStock` per product; `shippingEstimate @requires(fields: "price weight")` is 0 when
 *    price > 1000, otherwise weight / 2 (integer division, as in Rust), null without a price.
 *  - reviews: 11 reviews with long lorem-ipsum bodies (upc 1 -> 4 reviews, 2 -> 4, 3 -> 1, 4 -> 2,
 *    5..9 none). `Review.author` is always user 1 with `username` provided ("urigo"); `User.reviews`
 *    is always reviews 1 and 2, whoever the user is.
 *
 * All four are served by ONE Node HTTP server (express 5) at `/accounts`, `/products`,
 * `/inventory` and `/reviews`, as the original layout `:4200/<name>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { composeServices } from '@apollo/composition';
import { parse, type DocumentNode } from 'graphql';

export const GUILD_SUBGRAPH_NAMES = ['accounts', 'products', 'inventory', 'reviews'] as const;
export type GuildSubgraphName = (typeof GUILD_SUBGRAPH_NAMES)[number];

// ---------------------------------------------------------------------------------------------
// Data (fixed arrays, values as in the originals)
// ---------------------------------------------------------------------------------------------

export interface GuildUser {
  readonly id: string;
  readonly name: string;
  readonly username: string;
  readonly birthday: number;
}

export const USERS: readonly GuildUser[] = [
  { id: '1', name: 'Uri Goldshtein', username: 'urigo', birthday: 1234567890 },
  { id: '2', name: 'Dotan Simha', username: 'dotansimha', birthday: 1234567890 },
  { id: '3', name: 'Kamil Kisiela', username: 'kamilkisiela', birthday: 1234567890 },
  { id: '4', name: 'Arda Tanrikulu', username: 'ardatan', birthday: 1234567890 },
  { id: '5', name: 'Gil Gardosh', username: 'gilgardosh', birthday: 1234567890 },
  { id: '6', name: 'Laurin Quast', username: 'laurin', birthday: 1234567890 },
];

export interface GuildProduct {
  readonly upc: string;
  readonly name: string;
  readonly price: number;
  readonly weight: number;
}

export const PRODUCTS: readonly GuildProduct[] = [
  { upc: '1', name: 'Table', price: 899, weight: 100 },
  { upc: '2', name: 'Couch', price: 1299, weight: 1000 },
  { upc: '3', name: 'Glass', price: 15, weight: 20 },
  { upc: '4', name: 'Chair', price: 499, weight: 100 },
  { upc: '5', name: 'TV', price: 1299, weight: 1000 },
  { upc: '6', name: 'Lamp', price: 6999, weight: 300 },
  { upc: '7', name: 'Grill', price: 3999, weight: 2000 },
  { upc: '8', name: 'Fridge', price: 100000, weight: 6000 },
  { upc: '9', name: 'Sofa', price: 9999, weight: 800 },
];

/** `inStock` by upc (inventory owns only this; price and weight come from products via @requires). */
export const IN_STOCK: Readonly<Record<string, boolean>> = {
  '1': true,
  '2': false,
  '3': false,
  '4': false,
  '5': true,
  '6': true,
  '7': true,
  '8': false,
  '9': true,
};

const LOREM_1 =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ' +
  'Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure ' +
  'dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non ' +
  'proident, sunt in culpa qui officia deserunt mollit anim id est laborum.';
const LOREM_2 =
  'Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ' +
  'ipsa quae ab illo inventore veritatis et quasi architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia ' +
  'voluptas sit aspernatur aut odit aut fugi';
const LOREM_3 =
  'sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt. Neque porro quisquam est, qui dolorem ipsum ' +
  'quia dolor sit amet, consectetur, adipisci velit, sed quia non numquam eius modi tempora incidunt ut labore et dolore magnam ' +
  'aliquam quaerat voluptatem.';
const LOREM_4 =
  'Ut enim ad minima veniam, quis nostrum exercitationem ullam corporis suscipit laboriosam, nisi ut aliquid ex ea commodi ' +
  'consequatur? Quis autem';
const LOREM_5 =
  'At vero eos et accusamus et iusto odio dignissimos ducimus qui blanditiis praesentium voluptatum deleniti atque corrupti quos ' +
  'dolores et quas molestias excepturi sint occaecati cupiditate non provident, similique sunt in culpa qui officia deserunt ' +
  'mollitia animi, id est laborum et dolorum fuga. Et harum quidem rerum facilis est et expedita distinctio. Nam libero tempore, ' +
  'cum soluta nobis est eligendi optio cumque nihil impedit quo minus id quod maxime placeat facere possimus, omnis voluptas ' +
  'assumenda est, omnis dolor repellendus. Temporibus autem quibusdam et aut officiis debitis aut rerum necessitatibus saepe ' +
  'eveniet ut et voluptates repudiandae sint et molestiae non recusandae. Itaque earum rerum hic tenetur a sapiente delectus, ut ' +
  'aut reiciendis voluptatibus maiores alias consequatur aut perferendis doloribus asperiores repellat.';

export interface GuildReview {
  readonly id: string;
  readonly body: string;
  readonly upc: string;
}

export const REVIEWS: readonly GuildReview[] = [
  { id: '1', body: LOREM_1, upc: '1' },
  { id: '2', body: LOREM_2, upc: '1' },
  { id: '3', body: LOREM_3, upc: '1' },
  { id: '4', body: LOREM_4, upc: '1' },
  { id: '5', body: LOREM_1, upc: '2' },
  { id: '6', body: LOREM_2, upc: '2' },
  { id: '7', body: LOREM_3, upc: '2' },
  { id: '8', body: LOREM_4, upc: '2' },
  { id: '9', body: LOREM_4, upc: '3' },
  { id: '10', body: LOREM_4, upc: '4' },
  { id: '11', body: LOREM_5, upc: '4' },
];

/** The original's rule: 0 when price > 1000, else weight / 2 (integer division); null without the inputs. */
export function shippingEstimate(price: number | null | undefined, weight: number | null | undefined): number | null {
  if (price == null) return null;
  if (price > 1000) return 0;
  if (weight == null) return null;
  return Math.trunc(weight / 2);
}

// ---------------------------------------------------------------------------------------------
// Schemas (the federation-2 sketches of /work/shared/bench/guild-workload/subgraphs/*.graphql)
// ---------------------------------------------------------------------------------------------

const FEDERATION = 'https://specs.apollo.dev/federation/v2.3';

export const TYPE_DEFS: Readonly<Record<GuildSubgraphName, DocumentNode>> = {
  accounts: parse(/* GraphQL */ `
    extend schema @link(url: "${FEDERATION}", import: ["@key", "@shareable"])

    type Query {
      me: User
      user(id: ID!): User
      users: [User]
    }

    type User @key(fields: "id") {
      id: ID!
      name: String
      # Shareable: reviews provides it (Review.author @provides(fields: "username")). Without it the
      # four subgraphs do not compose. No description here: the API schema stays the shared one.
      username: String @shareable
      birthday: Int
    }
  `),
  products: parse(/* GraphQL */ `
    extend schema @link(url: "${FEDERATION}", import: ["@key"])

    type Query {
      topProducts(first: Int = 5): [Product]
    }

    type Product @key(fields: "upc") {
      upc: String!
      name: String
      price: Int
      weight: Int
    }
  `),
  inventory: parse(/* GraphQL */ `
    extend schema @link(url: "${FEDERATION}", import: ["@key", "@external", "@requires"])

    type Product @key(fields: "upc") {
      upc: String!
      weight: Int @external
      price: Int @external
      inStock: Boolean
      shippingEstimate: Int @requires(fields: "price weight")
    }
  `),
  reviews: parse(/* GraphQL */ `
    extend schema @link(url: "${FEDERATION}", import: ["@key", "@external", "@provides"])

    type Review @key(fields: "id") {
      id: ID!
      body: String
      product: Product
      author: User @provides(fields: "username")
    }

    type User @key(fields: "id") {
      id: ID!
      username: String @external
      reviews: [Review]
    }

    type Product @key(fields: "upc") {
      upc: String!
      reviews: [Review]
    }
  `),
};

// ---------------------------------------------------------------------------------------------
// Resolvers
// ---------------------------------------------------------------------------------------------

const usersById = new Map(USERS.map((user) => [user.id, user]));
const productsByUpc = new Map(PRODUCTS.map((product) => [product.upc, product]));
const reviewsById = new Map(REVIEWS.map((review) => [review.id, review]));
const reviewsByUpc = new Map<string, GuildReview[]>();
for (const review of REVIEWS) {
  const list = reviewsByUpc.get(review.upc) ?? [];
  list.push(review);
  reviewsByUpc.set(review.upc, list);
}
/** What `User.reviews` returns in the original, for any user: reviews 1 and 2. */
const USER_REVIEWS = REVIEWS.slice(0, 2);

interface InventoryProduct {
  readonly upc: string;
  readonly inStock: boolean | null;
  readonly price: number | null | undefined;
  readonly weight: number | null | undefined;
}

/** The reviews subgraph's view of a user: the key, the provided username, nothing else. */
interface ReviewsUser {
  readonly id: string;
  readonly username: string;
}

const RESOLVERS: Readonly<Record<GuildSubgraphName, GraphQLResolverMap<unknown>>> = {
  accounts: {
    Query: {
      me: () => USERS[0],
      user: (_: unknown, args: { id: string }) => usersById.get(args.id) ?? null,
      users: () => USERS,
    },
    User: {
      __resolveReference: (reference: { id: string }) => usersById.get(reference.id) ?? null,
    },
  },
  products: {
    Query: {
      topProducts: (_: unknown, args: { first?: number | null }) => PRODUCTS.slice(0, Math.max(0, args.first ?? 5)),
    },
    Product: {
      __resolveReference: (reference: { upc: string }) => productsByUpc.get(reference.upc) ?? null,
    },
  },
  inventory: {
    Product: {
      // The gateway sends the @requires inputs (price, weight) in the representation.
      __resolveReference: (reference: { upc: string; price?: number | null; weight?: number | null }): InventoryProduct | null => {
        const inStock = IN_STOCK[reference.upc];
        if (inStock === undefined) return null;
        return { upc: reference.upc, inStock, price: reference.price, weight: reference.weight };
      },
      shippingEstimate: (product: InventoryProduct) => shippingEstimate(product.price, product.weight),
    },
  },
  reviews: {
    Review: {
      __resolveReference: (reference: { id: string }) => reviewsById.get(reference.id) ?? null,
      product: (review: GuildReview) => ({ upc: review.upc }),
      // As in the original: always user 1, with the provided username.
      author: (): ReviewsUser => ({ id: '1', username: 'urigo' }),
    },
    User: {
      // As in the original, any id resolves (its username is "user"; the gateway never asks for it
      // here: it is @external, only provided through Review.author).
      __resolveReference: (reference: { id: string }): ReviewsUser => ({ id: reference.id, username: 'user' }),
      reviews: () => USER_REVIEWS,
    },
    Product: {
      __resolveReference: (reference: { upc: string }) => ({ upc: reference.upc }),
      reviews: (product: { upc: string }) => reviewsByUpc.get(product.upc) ?? [],
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Supergraph
// ---------------------------------------------------------------------------------------------

/** The URL of every subgraph under one base (`http://host:port`), as `<base>/<name>`. */
export function guildSubgraphUrls(baseUrl: string): Record<GuildSubgraphName, string> {
  const base = baseUrl.replace(/\/+$/, '');
  return Object.fromEntries(GUILD_SUBGRAPH_NAMES.map((name) => [name, `${base}/${name}`])) as Record<GuildSubgraphName, string>;
}

/**
 * Composes the four subgraphs' SDL (with @apollo/composition, the composer the gateway itself is
 * released with) into a supergraph whose subgraph URLs are `urls`.
 *
 * Why compose rather than reuse /work/shared/bench/guild-workload/supergraph.graphql with its
 * `:4200` URLs replaced: the composed SDL is by construction the supergraph of the schemas these
 * servers actually serve, so the gateway's query plans can never disagree with them; it does not
 * depend on a file outside this repository being present; and it needs no text surgery on URLs.
 * The shared file stays the reference: guild.test.ts checks that both describe the same graph
 * (same API schema, same ownership of every field, same keys, @requires and @provides).
 */
export function composeGuildSupergraph(urls: Record<GuildSubgraphName, string>): string {
  const result = composeServices(GUILD_SUBGRAPH_NAMES.map((name) => ({ name, url: urls[name], typeDefs: TYPE_DEFS[name] })));
  if (result.errors) {
    throw new Error(`The Guild benchmark subgraphs do not compose:\n${result.errors.map((error) => `- ${error.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export interface GuildSubgraphsOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; 0 (the default) picks a free one. The original layout is 4200. */
  port?: number;
  /**
   * A `Cache-Control` header for every answer. None by default, as the originals send none;
   * `npm run bench` states one (the data never changes) so that a gateway's cache may keep
   * the answers, as it would a real subgraph's that allows it.
   */
  cacheControl?: string;
}

export interface GuildSubgraphs {
  url: (name: GuildSubgraphName) => string;
  /** The composed supergraph, its subgraph URLs pointing at this server. */
  supergraphSdl: string;
  close(): Promise<void>;
}

/** `http://host:port` for a listen address; a wildcard address (0.0.0.0, ::) is reached through loopback. */
export function guildBaseUrl(host: string, port: number): string {
  const shown =
    host === '0.0.0.0'
      ? '127.0.0.1'
      : host === '::' || host === '[::]'
        ? '[::1]'
        : host.includes(':') && !host.startsWith('[')
          ? `[${host}]`
          : host;
  return `http://${shown}:${port}`;
}

/** Starts the four subgraphs on one HTTP server at `/accounts`, `/products`, `/inventory`, `/reviews`. */
export async function startGuildSubgraphs(options: GuildSubgraphsOptions = {}): Promise<GuildSubgraphs> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;

  const apollos = GUILD_SUBGRAPH_NAMES.map(
    (name) =>
      [
        name,
        new ApolloServer({
          schema: buildSubgraphSchema({ typeDefs: TYPE_DEFS[name], resolvers: RESOLVERS[name] }),
          introspection: true,
          // The runner (main.ts) or the test owns the process's signals.
          stopOnTerminationSignals: false,
          // Like the Rust originals, send no Cache-Control header at all.
          plugins: [
            ApolloServerPluginInlineTraceDisabled(),
            ApolloServerPluginLandingPageDisabled(),
            ApolloServerPluginCacheControl({ calculateHttpHeaders: false }),
          ],
        }),
      ] as const,
  );
  await Promise.all(apollos.map(([, apollo]) => apollo.start()));

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const cacheControl = options.cacheControl;
  if (cacheControl) {
    app.use((_req, res, next) => {
      res.setHeader('cache-control', cacheControl);
      next();
    });
  }
  for (const [name, apollo] of apollos) {
    // Entity batches from the gateway can exceed express's default 100 KB body limit.
    app.use(`/${name}`, express.json({ limit: '16mb' }), expressMiddleware(apollo));
  }

  const httpServer = createServer(app);
  // Benchmarks keep connections alive across many requests; keep them open longer than the
  // gateway's idle timeouts so the server is not the one that drops them.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;

  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await Promise.all(apollos.map(([, apollo]) => apollo.stop()));
    throw error;
  }

  const address = httpServer.address() as AddressInfo;
  const urls = guildSubgraphUrls(guildBaseUrl(host, address.port));
  const supergraphSdl = composeGuildSupergraph(urls);

  let closing: Promise<void> | undefined;
  return {
    url: (name) => urls[name],
    supergraphSdl,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve, reject) => httpServer.close((error) => (error ? reject(error) : resolve())));
        httpServer.closeIdleConnections();
        // In-flight requests get a moment to finish; then every connection is cut.
        const force = setTimeout(() => httpServer.closeAllConnections(), 2_000);
        force.unref();
        try {
          await closed;
        } finally {
          clearTimeout(force);
          await Promise.all(apollos.map(([, apollo]) => apollo.stop()));
        }
      })()),
  };
}
