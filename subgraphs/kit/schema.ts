import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { GraphQLSchema } from 'graphql';
import { subgraphDocument } from './contract.js';
import { DateScalar } from './date.js';

/**
 * Resolvers keyed by type then field. Each field function declares its own parent and
 * argument types where it is written; this map only collects them.
 */
export type Resolvers = Record<string, object>;

/** Builds a federation subgraph schema from the contract, the subgraph's own SDL and its resolvers. */
export function buildContractSubgraph(ownSdl: string, resolvers: Resolvers): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: subgraphDocument(ownSdl),
    resolvers: { Date: DateScalar, ...resolvers } as GraphQLResolverMap<unknown>,
  });
}
