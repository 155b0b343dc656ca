/**
 * HTTP status codes of GraphQL request errors, as the GraphQL-over-HTTP spec asks: a request
 * that parses as a GraphQL-over-HTTP request but fails before execution (its document does
 * not parse or validate, a variable does not coerce, the operation cannot be chosen) is a 200
 * when the answer is `application/json`, and a 4xx when it is
 * `application/graphql-response+json`, whose clients read the status.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import Negotiator from 'negotiator';
import { ErrorCode } from '../schema/errors.js';

/** The codes of request errors: raised before execution, so there is no `data`. */
const REQUEST_ERROR_CODES: ReadonlySet<string> = new Set([
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.QUERY_TOO_COMPLEX,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.OPERATION_RESOLUTION_FAILURE,
]);

/** What Apollo Server offers, in its order of preference (`chooseContentTypeForSingleResultResponse`). */
const OFFERED = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
];

/**
 * Whether the client asked for `application/json` by name and Apollo will answer with it. A
 * request without a preference (no `Accept`, or only `*\/*`) keeps the 4xx: curl and scripts
 * see from the status alone that the request was refused, and the spec's newer default for
 * such requests is `application/graphql-response+json`.
 */
export function answersPlainJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const negotiator = new Negotiator({ headers: { accept } });
  return negotiator.mediaType(OFFERED) === OFFERED[0] && negotiator.mediaTypes().includes('application/json');
}

/** Sets 200 on request errors answered as `application/json`; leaves every other status alone. */
export function requestErrorStatusPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse(rc) {
          const { body, http } = rc.response;
          if (body.kind !== 'single' || 'data' in body.singleResult) return;
          const errors = body.singleResult.errors ?? [];
          if (errors.length === 0 || !errors.every((e) => REQUEST_ERROR_CODES.has(String(e.extensions?.['code'])))) return;
          if (
            http.status !== undefined &&
            http.status >= 400 &&
            http.status < 500 &&
            answersPlainJson(rc.request.http?.headers.get('accept'))
          )
            http.status = 200;
        },
      };
    },
  };
}
