/**
 * What a stream runs, whichever transport carries it (SSE or WebSocket): a `@live` query
 * becomes a live stream; any other operation is run once (one `next`, then `complete`).
 * Federated subscriptions (issue 12, item 2) plug in here through `subscribe`, so both
 * transports carry them with the same limits and mask.
 */
import { GraphQLError, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { readLive } from './live-directive.js';
import type { Execution, LiveQueries, LiveStream, StreamRequest } from './live-queries.js';

/** An opened operation: a stream of results, or the one result. */
export type Opened = LiveStream | FormattedExecutionResult;

/** Masks an error raised outside Apollo's pipeline, as the gateway's `formatError` does. */
export type Mask = (error: unknown) => NonNullable<FormattedExecutionResult['errors']>;

export interface StreamOperationsOptions {
  readonly live: LiveQueries;
  /** Runs an operation once (`execute.ts`). */
  readonly run: (request: StreamRequest) => Promise<Execution>;
  /** MAX_TOKENS: the parse that reads `@live` is bounded as Apollo's is. */
  readonly maxTokens: number;
  readonly mask: Mask;
  /**
   * Opens the request when it is a subscription, else answers null (then it is run once);
   * without it a subscription is run once, and Apollo refuses it (the supergraph has none).
   */
  readonly subscribe?: (request: StreamRequest) => Promise<Opened | null>;
}

/** Opens a stream's operation. */
export function streamOperations(options: StreamOperationsOptions): (request: StreamRequest) => Promise<Opened> {
  return async (request) => {
    const read = readLive(request.query, request.operationName, options.maxTokens);
    if (read instanceof GraphQLError) return { errors: options.mask(read) };
    const stripped = { ...request, query: read.query };
    if (read.live) return options.live.open(stripped);
    const subscribed = options.subscribe ? await options.subscribe(stripped) : null;
    if (subscribed) return subscribed;
    return (await options.run(stripped)).result;
  };
}

/**
 * Builds the mask from the gateway's `formatError` (`subgraphs/kit/errors.ts` via
 * `production.ts`), for errors raised outside Apollo's pipeline (which masks its own): the
 * client sees what that mask shows; the log gets the whole error when something was hidden.
 */
export function maskWith(
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
  log: (line: string) => void,
): Mask {
  return (error) => {
    const graphqlError =
      error instanceof GraphQLError
        ? error
        : new GraphQLError(error instanceof Error ? error.message : String(error), error instanceof Error ? { originalError: error } : {});
    const shown = formatError(graphqlError.toJSON(), graphqlError);
    if (shown.message !== graphqlError.message)
      log(
        `gateway: error on a stream masked as ${String(shown.extensions?.['code'])}: ${graphqlError.originalError?.stack ?? graphqlError.message}`,
      );
    return [shown];
  };
}
