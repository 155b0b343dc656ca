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
  TOO_MANY_STREAMS: 'TOO_MANY_STREAMS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FORBIDDEN: 'FORBIDDEN',
  BAD_REQUEST: 'BAD_REQUEST',
  CHECKS_FAILED: 'CHECKS_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  REGISTRY_DISABLED: 'REGISTRY_DISABLED',
  REGISTRY_TOKENS_INVALID: 'REGISTRY_TOKENS_INVALID',
  // Apollo Server's own public codes (ApolloServerErrorCode), and the APQ refusal it leaves uncoded.
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  PERSISTED_QUERY_HASH_MISMATCH: 'PERSISTED_QUERY_HASH_MISMATCH',
  SDL_TOO_LARGE: 'SDL_TOO_LARGE',
  CHECKS_ABORTED: 'CHECKS_ABORTED',
  SWAP_FAILED: 'SWAP_FAILED',
  REGISTRY_UNAVAILABLE: 'REGISTRY_UNAVAILABLE',
  MEMBERSHIP_REFUSED: 'MEMBERSHIP_REFUSED',
  MEMBERSHIP_IN_USE: 'MEMBERSHIP_IN_USE',
  OPERATION_NOT_PERSISTED: 'OPERATION_NOT_PERSISTED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  UNAUTHORIZED_FIELD_OR_TYPE: 'UNAUTHORIZED_FIELD_OR_TYPE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What each code means, for docs and for suppliers. */
export const errorCatalogue: Readonly<Record<ErrorCode, string>> = {
  BAD_USER_INPUT: 'An argument or variable has a value the schema refuses (for example a Date that is not yyyy-mm-dd).',
  FEED_INVALID: "A supplier's feed file broke its format; the error names file, line and field.",
  SUBGRAPH_UNAVAILABLE:
    "A cluster's subgraph did not answer; the other clusters' data is still returned. On a subscription: the subgraph that owns it went away, and the stream ends (subscribe again).",
  COMPOSITION_FAILED: 'The subgraphs do not compose into one supergraph; the error lists why.',
  UNAUTHORIZED: 'The request lacks a valid token for what it asks.',
  INTERNAL_SERVER_ERROR: 'Something unexpected failed; details are in the server log, not in the response.',
  QUERY_TOO_COMPLEX:
    'The operation is deeper, has more aliases or directives, or costs more than the gateway allows; refused before any subgraph is called.',
  RATE_LIMITED: 'The client (API key or IP) sent more requests than its rate limit allows; HTTP 429 with Retry-After.',
  TOO_MANY_STREAMS:
    'The client (API key or IP) already holds STREAMS_MAX_PER_CLIENT open streams, or the gateway STREAMS_MAX_TOTAL; HTTP 429 with Retry-After, and extensions.limit names which.',
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
  GRAPHQL_PARSE_FAILED: 'The operation is not valid GraphQL syntax (or has more tokens than MAX_TOKENS).',
  GRAPHQL_VALIDATION_FAILED: 'The operation does not fit the schema (an unknown field, a wrong argument); the message names what.',
  OPERATION_RESOLUTION_FAILURE:
    'The request names an operation its document lacks, or has several operations and no name, or one of a type the schema has no root for.',
  PERSISTED_QUERY_NOT_FOUND: 'The gateway does not know this automatic persisted query yet: send it again with its query text.',
  PERSISTED_QUERY_NOT_SUPPORTED: 'Automatic persisted queries are off (PERSISTED_OPERATIONS_ONLY=true): send the query text.',
  PERSISTED_QUERY_HASH_MISMATCH: "An automatic persisted query's sha256Hash is not the SHA-256 of the query text it came with; HTTP 400.",
  SDL_TOO_LARGE:
    'A published SDL is over a registry limit (REGISTRY_SDL_MAX_BYTES, REGISTRY_SDL_MAX_TYPES or REGISTRY_SDL_MAX_FIELDS); HTTP 413 naming the limit, the setting and the measured value. Nothing is checked or stored.',
  CHECKS_ABORTED:
    'The checks of a registry change took longer than REGISTRY_CHECK_TIMEOUT_MS or needed more memory than REGISTRY_CHECK_MAX_MB and were stopped; HTTP 422, nothing stored.',
  SWAP_FAILED:
    'A registry change passed its checks but the gateway could not swap to it; it was withdrawn (HTTP 503), nothing stays stored.',
  REGISTRY_UNAVAILABLE: "The registry's store (Redis or its folder) cannot be read or written now; HTTP 503, try again shortly.",
  MEMBERSHIP_REFUSED:
    "A cluster registration contradicts the programme's membership (a seed cluster, a trust already another cluster's, a supplier known by another name); HTTP 409, naming the field.",
  MEMBERSHIP_IN_USE:
    'A registered cluster cannot be removed while a published subgraph speaks for it; HTTP 409. Withdraw the subgraph first.',
  OPERATION_NOT_PERSISTED:
    'With PERSISTED_OPERATIONS_ONLY, an operation sent as text (not a documentId from the manifest), over HTTP or a stream; HTTP 400.',
  UNAUTHENTICATED:
    'The bearer token was refused (malformed, expired, not yet valid, wrong issuer or audience, unknown key, bad signature; the message says which), or JWT_REQUIRED and none was sent; HTTP 401 (503 when the gateway cannot fetch its JWKS).',
  UNAUTHORIZED_FIELD_OR_TYPE:
    "The caller may not see a field or type the operation asks for (the supergraph's @authenticated or @requiresScopes): it is null at the error's path (`@` stands for every list item) and the rest is answered; with JWT_REJECT_UNAUTHORIZED the whole operation is refused.",
};

/**
 * The public codes a subgraph's own answer may carry to clients: what a resolver says of its
 * input or its feed. Every other code is the gateway's to give (`SUBGRAPH_UNAVAILABLE`,
 * `RATE_LIMITED`, `QUERY_TOO_COMPLEX`, ...): from a subgraph, such an error is masked like an
 * unknown one, so a supplier's server can neither pass its message through under a public
 * code nor report another subgraph as down.
 */
export const subgraphErrorCodes: ReadonlySet<ErrorCode> = new Set([ErrorCode.BAD_USER_INPUT, ErrorCode.FEED_INVALID]);

/** Whether `code` is in the catalogue: errors with any other code reach clients masked. */
export function isPublicErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorCatalogue, code);
}

/**
 * The `extensions` an error of each public code may show clients besides `code` (and the
 * request id of a masked error); every other extension stays in the log.
 */
export const publicExtensions: Readonly<Partial<Record<ErrorCode, readonly string[]>>> = {
  QUERY_TOO_COMPLEX: ['limit', 'cost', 'maxCost'],
  SUBGRAPH_UNAVAILABLE: ['subgraph', 'reason'],
  // Apollo's finer reason (INTROSPECTION_DISABLED, MAX_RECURSIVE_SELECTIONS_EXCEEDED).
  GRAPHQL_VALIDATION_FAILED: ['validationErrorCode'],
};

/**
 * Codes of the problems the registry's checks report (in a check report, `subgraph:check`'s
 * and a refused publish's alike). They are not GraphQL errors, so they are not `ErrorCode`s.
 */
export const CheckCode = {
  SDL_INVALID: 'SDL_INVALID',
  SDL_MISMATCH: 'SDL_MISMATCH',
  CONTRACT_NAME: 'CONTRACT_NAME',
  CONTRACT_CLUSTER_VIEW: 'CONTRACT_CLUSTER_VIEW',
  CONTRACT_TAG: 'CONTRACT_TAG',
  CONTRACT_NAMING: 'CONTRACT_NAMING',
  CONTRACT_KEY: 'CONTRACT_KEY',
  CONTRACT_OVERRIDE: 'CONTRACT_OVERRIDE',
  CONTRACT_FIELD_OWNED: 'CONTRACT_FIELD_OWNED',
  CONTRACT_IDENTITY: 'CONTRACT_IDENTITY',
  CONTRACT_CLUSTER_UNKNOWN: 'CONTRACT_CLUSTER_UNKNOWN',
  CONTRACT_SUPPLIER_UNKNOWN: 'CONTRACT_SUPPLIER_UNKNOWN',
  URL_REFUSED: 'URL_REFUSED',
} as const;

export type CheckCode = (typeof CheckCode)[keyof typeof CheckCode];

/** What each check code means, for docs and for suppliers. */
export const checkCatalogue: Readonly<Record<CheckCode, string>> = {
  SDL_INVALID: 'The SDL does not parse; line and column are given.',
  SDL_MISMATCH:
    "A publish's SDL passed every other check but is not the SDL its routing URL serves ({ _service { sdl } }), once completed with the contract and the kit's generated fields (descriptions aside); the first difference is named.",
  CONTRACT_NAME: 'The subgraph name is not lower-case words joined by hyphens, or is a built-in subgraph.',
  CONTRACT_CLUSTER_VIEW: 'A cluster view does not implement the contract interface, or lacks asOf: Date.',
  CONTRACT_TAG: 'A field returns a cluster view type without @tag(name: "cluster-view").',
  CONTRACT_NAMING: 'A cluster view field or type is not named after the subgraph.',
  CONTRACT_KEY: "A shared entity is keyed by other fields than the contract's key.",
  CONTRACT_OVERRIDE: 'The SDL applies @override, however named or imported: no subgraph may take fields from another.',
  CONTRACT_FIELD_OWNED:
    'The SDL defines a field (root fields included) or a type that another subgraph owns, or adds a value to an enum (a member to a union) that another subgraph or the contract defines.',
  CONTRACT_IDENTITY: 'The subgraph did not say which cluster and supplier it speaks for.',
  CONTRACT_CLUSTER_UNKNOWN:
    "The cluster the subgraph speaks for is not in the programme's membership (seed or registered): the message gives the command that registers it.",
  CONTRACT_SUPPLIER_UNKNOWN:
    "The supplier the subgraph speaks for is not in the programme's membership: the message gives the command that registers it.",
  URL_REFUSED:
    'The routing URL names a host the gateway does not allow (REGISTRY_ALLOWED_HOSTS), or does not serve a federation subgraph; the reason is in the gateway log only.',
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
