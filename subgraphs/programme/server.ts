import type { GraphQLSchema } from 'graphql';
import { readSdl } from '../kit/contract.js';
import { createService, FIXED_ANSWER_MAX_AGE, subgraphApollo, type Service } from '../kit/http.js';
import type { LiveReference } from '../kit/membership.js';
import { buildContractSubgraph } from '../kit/schema.js';
import { builtInReference, type Reference } from './reference.js';
import { programmeResolvers } from './resolvers.js';

/** The programme subgraph's own SDL (without the contract). */
export const programmeSdl = readSdl(import.meta.url, './schema.graphql');

/** Fixed reference data, or a live one that follows the registry's membership. */
export type ProgrammeReference = Reference | LiveReference;

const currentOf = (reference: ProgrammeReference) => ('current' in reference ? () => reference.current : reference);

/** The programme subgraph's executable schema. */
export function buildProgrammeSchema(reference: ProgrammeReference = builtInReference): GraphQLSchema {
  return buildContractSubgraph(programmeSdl, programmeResolvers(currentOf(reference)));
}

/** Builds the programme subgraph service (started, not listening). */
export function buildProgrammeService(reference: ProgrammeReference = builtInReference): Promise<Service> {
  const schema = buildProgrammeSchema(reference);
  return createService({
    name: 'programme',
    apollo: subgraphApollo(schema, { maxAge: FIXED_ANSWER_MAX_AGE }),
    context: async () => ({}),
  });
}
