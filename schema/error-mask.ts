/**
 * Errors are normalized and masked in one place, for every service (the kit's subgraphs and the
 * gateway): what a client sees of an error is decided here and only here.
 *
 * - An error whose code is in the public catalogue (`schema/errors.ts`) keeps its message,
 *   `path` and `locations`, and only the extensions the catalogue lists for its code.
 * - Any other error (no code, an unknown code, `INTERNAL_SERVER_ERROR`) becomes
 *   `INTERNAL_SERVER_ERROR` "Internal server error": its message may carry a supplier's
 *   internals (a Redis URL with its password, a stack, an internal host's HTML page).
 * - Either way the log gets the whole error: message, every extension (a subgraph's
 *   `extensions.response` with URL, status and body), stack, the subgraph and its URL.
 */
import type { ApolloServerPlugin, BaseContext, GraphQLRequestContext } from '@apollo/server';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { ErrorCode, isPublicErrorCode, publicExtensions, subgraphErrorCodes } from './errors.js';
import { activeTraceId } from './telemetry.js';
import { REQUEST_ID_HEADER } from './wire.js';

/** What clients see of an error nobody meant them to read. */
export const MASKED_MESSAGE = 'Internal server error';

/** Apollo Server raises an APQ hash mismatch without a code; this is its message. */
const APOLLO_HASH_MISMATCH = 'provided sha does not match query';

/** Longest log detail of one error, in characters: a subgraph's HTML body is untrusted input. */
const LOG_DETAIL_LIMIT = 16_384;

/** The `extensions.code` of `error` or of any error it wraps (`originalError`). */
function wrappedCode(error: unknown, depth = 0): unknown {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const { extensions, originalError } = error as { extensions?: Record<string, unknown>; originalError?: unknown };
  const code = extensions?.['code'];
  return code === ErrorCode.BAD_USER_INPUT ? code : wrappedCode(originalError, depth + 1);
}

/**
 * Gives known errors their public code: a value the schema refuses (a bad `Date`) keeps its
 * `BAD_USER_INPUT` even when GraphQL validation caught it (it would read
 * `GRAPHQL_VALIDATION_FAILED`), and Apollo's uncoded APQ hash mismatch gets a code and a
 * message that says what to send.
 */
function normalize(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.['code'];
  if (code !== ErrorCode.BAD_USER_INPUT && wrappedCode(error) === ErrorCode.BAD_USER_INPUT)
    return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BAD_USER_INPUT } };
  if (formatted.message === APOLLO_HASH_MISMATCH && code === ErrorCode.INTERNAL_SERVER_ERROR)
    return {
      ...formatted,
      message:
        "The persisted query's sha256Hash does not match its query: send the SHA-256 (hex) of the query text, or no extensions.persistedQuery",
      extensions: { ...formatted.extensions, code: ErrorCode.PERSISTED_QUERY_HASH_MISMATCH },
    };
  return formatted;
}

export interface MaskOptions {
  /** Public errors keep Apollo's `stacktrace` (INCLUDE_STACKTRACE=true, for debugging only). */
  readonly includeStacktrace?: boolean;
  /** The service's own rewrites of a formatted error before masking (the gateway names its limits). */
  readonly rewrite?: (formatted: GraphQLFormattedError) => GraphQLFormattedError;
}

/** An error as a client sees it, and whether anything was withheld from the client. */
export interface Masked {
  readonly shown: GraphQLFormattedError;
  /** The message was replaced by "Internal server error". */
  readonly masked: boolean;
  /** Extensions that did not reach the client (Apollo Gateway's `serviceName` aside). */
  readonly withheld: readonly string[];
}

/** What a client may see of `formatted` (Apollo's formatted `error`). Never throws. */
export function maskError(formatted: GraphQLFormattedError, error: unknown, options: MaskOptions = {}): Masked {
  const normalized = normalize(options.rewrite ? options.rewrite(formatted) : formatted, error);
  const { message, locations, path, extensions = {} } = normalized;
  const code = extensions['code'];
  const place = { ...(locations ? { locations } : {}), ...(path ? { path } : {}) };
  // Apollo Gateway's error for a subgraph's HTTP refusal (it carries `extensions.response`)
  // gets a code from the status (401: UNAUTHENTICATED, 403: FORBIDDEN): the subgraph's, not the
  // gateway's to give, so it is masked like any code a subgraph may not give (`subgraphErrorCodes`).
  const subgraphRefusal = extensions['response'] !== undefined && !subgraphErrorCodes.has(code as ErrorCode);
  const masked = !isPublicErrorCode(code) || code === ErrorCode.INTERNAL_SERVER_ERROR || subgraphRefusal;
  const allowed = new Set<string>(['code', ...(masked ? [] : (publicExtensions[code] ?? []))]);
  if (options.includeStacktrace && !masked) allowed.add('stacktrace');
  // A subgraph's `traceId` is the gateway's own trace: the gateway puts its own on the error again.
  const withheld = Object.keys(extensions).filter((key) => !allowed.has(key) && key !== 'serviceName' && key !== 'traceId');
  const shown: GraphQLFormattedError = masked
    ? { message: MASKED_MESSAGE, ...place, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }
    : { message, ...place, extensions: Object.fromEntries(Object.entries(extensions).filter(([key]) => allowed.has(key))) };
  return { shown, masked, withheld };
}

/** Apollo's formatted form of a raw error, as `normalizeAndFormatErrors` builds it (`http` is Apollo's, never sent). */
function formattedOf(error: GraphQLError): GraphQLFormattedError {
  const json = typeof error.toJSON === 'function' ? error.toJSON() : { message: String(error.message) };
  const { http: _http, ...extensions } = error.extensions ?? {};
  return { ...json, extensions: { ...extensions, code: extensions['code'] ?? ErrorCode.INTERNAL_SERVER_ERROR } };
}

/** A subgraph the service routes to. */
export interface RoutedSubgraph {
  readonly name: string;
  readonly url: string;
}

/**
 * The subgraph an error came from: Apollo Gateway names it (`serviceName`) on the errors a
 * subgraph answered with; on a refused HTTP answer only its URL says (`extensions.response`).
 */
function subgraphOf(error: GraphQLError, subgraphs: readonly RoutedSubgraph[]): Partial<RoutedSubgraph> | null {
  const name = error.extensions?.['serviceName'];
  const url = (error.extensions?.['response'] as { url?: unknown } | undefined)?.url;
  if (typeof name === 'string') return { name, url: subgraphs.find((s) => s.name === name)?.url };
  if (typeof url === 'string') return { name: subgraphs.find((s) => s.url === url)?.name, url };
  return null;
}

/** Everything about an error, for the log: bounded, since a subgraph's body is untrusted. */
function logDetail(error: GraphQLError, subgraphs: readonly RoutedSubgraph[]): string {
  const subgraph = subgraphOf(error, subgraphs);
  const original = error.originalError as (Error & { extensions?: unknown }) | undefined;
  const detail = {
    message: error.message,
    path: error.path,
    ...(subgraph ? { subgraph: subgraph.name, subgraphUrl: subgraph.url } : {}),
    extensions: error.extensions,
    stack: error.stack,
    ...(original && original !== (error as Error) ? { cause: { message: original.message, stack: original.stack } } : {}),
  };
  let text: string;
  try {
    text = JSON.stringify(detail);
  } catch {
    text = JSON.stringify({ message: error.message, stack: error.stack });
  }
  return text.length > LOG_DETAIL_LIMIT ? `${text.slice(0, LOG_DETAIL_LIMIT)}… (${text.length} characters)` : text;
}

export interface ErrorMaskingOptions<TContext extends BaseContext> extends MaskOptions {
  /** The service's name, first in its log lines. */
  readonly service: string;
  readonly log: (line: string) => void;
  /** The request's id (`x-request-id`): in the log and in a masked error's `extensions.requestId`. */
  readonly requestId?: (requestContext: GraphQLRequestContext<TContext>) => string | undefined;
  /** The subgraphs routed to now, to name an error's subgraph and URL in the log (the gateway's). */
  readonly subgraphs?: () => readonly RoutedSubgraph[];
}

/**
 * The masking of one service: Apollo's `formatError` (every error Apollo sends goes through
 * it, whatever raised it), and a plugin that logs in full every error whose client form
 * withholds something, and puts the request id on masked errors so a client can quote it.
 * When the request is traced (OpenTelemetry on, `schema/telemetry.ts`), every error carries
 * the trace's id in `extensions.traceId`, so a client's report leads to the trace and its logs.
 */
export function errorMasking<TContext extends BaseContext>(
  options: ErrorMaskingOptions<TContext>,
): { formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError; plugin: ApolloServerPlugin<TContext> } {
  // The gateway sends its request id to subgraphs; a client's own is shown only when it is a sane token.
  const requestIdOf = (rc: GraphQLRequestContext<TContext>) => {
    const id = options.requestId?.(rc) ?? rc.request.http?.headers.get(REQUEST_ID_HEADER);
    return id && /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? id : undefined;
  };
  const subgraphs = options.subgraphs ?? (() => []);
  return {
    formatError: (formatted, error) => maskError(formatted, error, options).shown,
    plugin: {
      async requestDidStart() {
        return {
          async didEncounterErrors(rc) {
            for (const error of rc.errors) {
              const { shown, masked, withheld } = maskError(formattedOf(error), error, options);
              if (!masked && withheld.length === 0) continue;
              const what = masked
                ? 'masked as INTERNAL_SERVER_ERROR'
                : `${String(shown.extensions?.['code'])}, withheld ${withheld.join(', ')}`;
              const operation = rc.request.operationName ?? rc.operationName ?? 'anonymous';
              options.log(
                `${options.service}: error of request ${requestIdOf(rc) ?? '(no id)'} (operation ${operation}) ${what}: ${logDetail(error, subgraphs())}`,
              );
            }
          },
          async willSendResponse(rc) {
            const body = rc.response.body;
            const requestId = requestIdOf(rc);
            const traceId = activeTraceId();
            if (body.kind !== 'single' || !body.singleResult.errors || (!requestId && !traceId)) return;
            body.singleResult.errors = body.singleResult.errors.map((error) => {
              const masked =
                requestId && error.extensions?.['code'] === ErrorCode.INTERNAL_SERVER_ERROR && error.message === MASKED_MESSAGE;
              if (!masked && !traceId) return error;
              return { ...error, extensions: { ...error.extensions, ...(masked ? { requestId } : {}), ...(traceId ? { traceId } : {}) } };
            });
          },
        };
      },
    },
  };
}
