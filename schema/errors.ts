import { GraphQLError } from 'graphql';

/**
 * Every public error code of the supergraph, with what it means. Codes travel in
 * `extensions.code` of a GraphQL error.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  FEED_INVALID: 'FEED_INVALID',
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  COMPOSITION_FAILED: 'COMPOSITION_FAILED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  RATE_LIMITED: 'RATE_LIMITED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FORBIDDEN: 'FORBIDDEN',
  BAD_REQUEST: 'BAD_REQUEST',
  CHECKS_FAILED: 'CHECKS_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  REGISTRY_DISABLED: 'REGISTRY_DISABLED',
  REGISTRY_TOKENS_INVALID: 'REGISTRY_TOKENS_INVALID',
  MEMBERSHIP_REFUSED: 'MEMBERSHIP_REFUSED',
  MEMBERSHIP_IN_USE: 'MEMBERSHIP_IN_USE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What each code means, for docs and for suppliers. */
export const errorCatalogue: Readonly<Record<ErrorCode, string>> = {
  BAD_USER_INPUT: 'An argument or variable has a value the schema refuses (for example a Date that is not yyyy-mm-dd).',
  FEED_INVALID: "A supplier's feed file broke its format; the error names file, line and field.",
  SUBGRAPH_UNAVAILABLE: "A cluster's subgraph did not answer; the other clusters' data is still returned.",
  COMPOSITION_FAILED: 'The subgraphs do not compose into one supergraph; the error lists why.',
  UNAUTHORIZED: 'The request lacks a valid token for what it asks.',
  INTERNAL_SERVER_ERROR: 'Something unexpected failed; details are in the server log, not in the response.',
  QUERY_TOO_COMPLEX:
    'The operation is deeper, has more aliases or directives, or costs more than the gateway allows; refused before any subgraph is called.',
  RATE_LIMITED: 'The client (API key or IP) sent more requests than its rate limit allows; HTTP 429 with Retry-After.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than BODY_LIMIT; HTTP 413.',
  UNSUPPORTED_MEDIA_TYPE: 'A POST whose Content-Type is not application/json; HTTP 415.',
  FORBIDDEN: "The registry token is valid but may not change this subgraph (a supplier's token covers only its own).",
  BAD_REQUEST:
    'A request body is not what the endpoint takes: not valid JSON or not a GraphQL request (HTTP 400), or a registry body missing a field (the message names it).',
  CHECKS_FAILED: 'A publish (or deletion) was refused by the schema checks; the full report comes with it.',
  NOT_FOUND: 'The registry has no such subgraph or version.',
  CONFLICT: 'Other registry changes kept landing first; send the change again.',
  REGISTRY_DISABLED: 'The gateway serves a fixed supergraph (SUPERGRAPH_PATH) or REGISTRY=false: no publishing.',
  REGISTRY_TOKENS_INVALID: "The gateway's registry tokens file cannot be read; the gateway log says why.",
  MEMBERSHIP_REFUSED:
    "A cluster registration contradicts the programme's membership (a seed cluster, a trust already another cluster's, a supplier known by another name); HTTP 409, naming the field.",
  MEMBERSHIP_IN_USE: 'A registered cluster cannot be removed while a published subgraph speaks for it; HTTP 409. Withdraw the subgraph first.',
};

/** A GraphQL error whose `extensions.code` is one of the catalogue's codes. */
export class GraphQLErrorWithCode extends GraphQLError {
  constructor(message: string, code: ErrorCode, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

/** Guards exhaustive switches: the compiler proves this is never reached. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}
