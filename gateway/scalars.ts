import type { GraphQLScalarType, GraphQLSchema } from 'graphql';
import { DateScalar } from '../schema/date.js';

/**
 * Gives the gateway's own schema the contract's `Date` parsing, so a bad day is refused
 * with `BAD_USER_INPUT` before any subgraph is called. A supergraph loaded from a file only
 * gets it when it follows our contract (it has `ClusterReleaseView`): another supergraph's
 * `Date` may mean something else.
 */
export function enforceContractScalars(schema: GraphQLSchema): void {
  if (!schema.getType('ClusterReleaseView')) return;
  const date = schema.getType('Date');
  // Duck-typed on purpose: Apollo's CommonJS copy of graphql built this schema, and
  // graphql's own type guards refuse objects from another copy of the module.
  if (!date || Object.prototype.toString.call(date) !== '[object GraphQLScalarType]') return;
  // Apollo Gateway has no option for custom scalars; a scalar's parse functions are plain fields.
  Object.assign(date as GraphQLScalarType, {
    parseValue: DateScalar.parseValue,
    parseLiteral: DateScalar.parseLiteral,
    serialize: DateScalar.serialize,
  });
}
