/**
 * Runs a stream's operation the way `/graphql` runs any: through Apollo Server's own
 * pipeline (`executeOperation`), so every plugin applies (operation limits, the response
 * cache, the error mask, metrics) with a context built as for an HTTP request. What it gives
 * back beside the result is where the answer came from: the subgraphs it touched, with the
 * feed version each had as the run started.
 */
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { FormattedExecutionResult } from 'graphql';
import type { GatewayContext } from '../data-source.js';
import type { Execution, StreamRequest } from './live-queries.js';

/** What the runner needs of the gateway. */
export interface RunnerOptions {
  /** The gateway's Apollo server, once built. */
  readonly apollo: () => ApolloServer<GatewayContext>;
  /** A fresh context for the request (its caller from its headers), as `/graphql` builds one per request. */
  readonly context: (request: StreamRequest) => Promise<GatewayContext>;
  /** Masks an error raised outside Apollo's pipeline, as the gateway's `formatError` does. */
  readonly mask: (error: unknown) => FormattedExecutionResult['errors'];
}

/** Runs `request` once and reports its result and the subgraphs behind it. */
export function operationRunner(options: RunnerOptions): (request: StreamRequest) => Promise<Execution> {
  return async (request) => {
    let contextValue: GatewayContext | null = null;
    try {
      contextValue = await options.context(request);
      const headers = new HeaderMap();
      for (const [name, value] of request.headers) headers.set(name, value);
      const response = await options.apollo().executeOperation(
        {
          query: request.query,
          ...(request.operationName ? { operationName: request.operationName } : {}),
          ...(request.variables ? { variables: request.variables as Record<string, unknown> } : {}),
          http: { method: 'POST', headers, search: '', body: null },
        },
        { contextValue },
      );
      const body = response.body;
      // Incremental delivery (@defer) is not offered by this gateway: a single result always.
      const result: FormattedExecutionResult =
        body.kind === 'single' ? body.singleResult : { errors: options.mask(new Error('an incremental result on a stream')) ?? [] };
      return { result, touched: touchedVersions(contextValue) };
    } catch (error) {
      // A refused token (checked as the context is built) touched nothing.
      return { result: { errors: options.mask(error) ?? [] }, touched: contextValue ? touchedVersions(contextValue) : new Map() };
    }
  };
}

/**
 * The feed version each subgraph the run touched answered from: the one it said
 * (`FEED_VERSION_HEADER`), else the one it had as the run started (null: no feed). A run
 * whose subgraph answered from an older version than the gateway knew is thereby not yet
 * current, and runs again.
 */
function touchedVersions(context: GatewayContext): ReadonlyMap<string, string | null | undefined> {
  return new Map(
    [...context.touched].map((subgraph) => {
      const atStart = context.versions.has(subgraph) ? context.versions.get(subgraph) : null;
      // Only a subgraph with a known feed version is compared by version later on.
      return [subgraph, typeof atStart === 'string' ? (context.answered?.get(subgraph) ?? atStart) : atStart];
    }),
  );
}
