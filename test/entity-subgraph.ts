/**
 * A small federated subgraph schema for the entity-batching tests, run in process: products by
 * upc (product "broken" fails on its name), users by id. Documents are validated and executed
 * against it as a subgraph would, so a merged document that a subgraph would refuse fails.
 */
import { createRequire } from 'node:module';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLSchema } from 'graphql';

// The copy of graphql @apollo/subgraph loads (Node's), not Vite's: a schema works with its own.
const { execute, parse, validate } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const SCHEMA: GraphQLSchema = buildSubgraphSchema({
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type Product @key(fields: "upc") { upc: String! name: String price(currency: String): Int reviews: [Review] }
    type Review { id: ID! body: String }
    type User @key(fields: "id") { id: ID! name: String reviews: [Review] }
  `),
  resolvers: {
    Product: {
      __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
      name: (p: { upc: string }) => {
        if (p.upc === 'broken') throw new Error('no name for broken');
        return `product ${p.upc}`;
      },
      price: (p: { upc: string }, args: { currency?: string }) => p.upc.length * (args.currency === 'EUR' ? 2 : 1),
      reviews: (p: { upc: string }) => [{ id: `r-${p.upc}`, body: `about ${p.upc}` }],
    },
    User: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      name: (u: { id: string }) => `user ${u.id}`,
      reviews: (u: { id: string }) => [{ id: `by-${u.id}`, body: `by ${u.id}` }],
    },
  } as never,
});

/** Runs a document against SCHEMA as the subgraph would: validated first, then executed. */
export async function run(query: string, variables: Record<string, unknown>) {
  const document = parse(query);
  const invalid = validate(SCHEMA, document);
  if (invalid.length > 0) throw new Error(invalid.map((e) => e.message).join('; '));
  return JSON.parse(JSON.stringify(await execute({ schema: SCHEMA, document, variableValues: variables }))) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[] }[];
  };
}
