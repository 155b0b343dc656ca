import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import { Agent, fetch as undiciFetch } from 'undici';
import { GraphQLError } from 'graphql';
import { ErrorCode, GraphQLErrorWithCode } from '../schema/errors.js';
import { PIN_HEADER } from '../subgraphs/kit/pin.js';

/** Per-operation context of the gateway. */
export interface GatewayContext {
  /** The operation's start: the snapshot pin sent with every subgraph fetch. */
  readonly pin: string;
  /** The subgraphs this operation fetched from, for the response cache. */
  readonly touched: Set<string>;
}

type Processed = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

export interface DataSourceOptions {
  readonly name: string;
  readonly url: string;
  /** Keep-alive connection pool shared by every subgraph fetch. */
  readonly agent: Agent;
  /** Cache hint applied to subgraph answers that carry none, in seconds. */
  readonly defaultMaxAge: number;
  /** Whether identical in-flight fetches are merged into one. */
  readonly dedupe: boolean;
  readonly log?: (line: string) => void;
}

/** A keep-alive pool for subgraph fetches (undici), instead of a connection per request. */
export function subgraphAgent(): Agent {
  return new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: 128, pipelining: 1 });
}

/**
 * How the gateway fetches from a subgraph: over a keep-alive pool; with the operation's
 * snapshot pin; merging identical in-flight queries (same subgraph, document, variables and
 * pin, so a merged answer never mixes snapshots); and recording which subgraphs an
 * operation touched. A subgraph answer without a cache hint gets the configured default.
 */
export class GatewayDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #name: string;
  readonly #dedupe: boolean;
  readonly #log: (line: string) => void;
  readonly #inFlight = new Map<string, Promise<Processed>>();

  constructor(options: DataSourceOptions) {
    super({ url: options.url });
    this.#name = options.name;
    this.#dedupe = options.dedupe;
    this.#log = options.log ?? console.error;
    const agent = options.agent;
    const defaultHint = `max-age=${options.defaultMaxAge}, public`;
    this.fetcher = (async (url: string, init?: Parameters<typeof undiciFetch>[1]) => {
      const response = await undiciFetch(url, { ...init, dispatcher: agent });
      if (response.headers.has('cache-control')) return response;
      // A response's headers are immutable: answer with a copy that carries the default hint.
      const headers = new Headers(response.headers as unknown as Headers);
      headers.set('cache-control', defaultHint);
      return new Response(response.body as unknown as BodyInit, { status: response.status, statusText: response.statusText, headers });
    }) as unknown as Fetcher;
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (context.pin) request.http?.headers.set(PIN_HEADER, context.pin);
    context.touched?.add(this.#name);
  }

  /** Fetches, turning a subgraph that cannot be reached into `SUBGRAPH_UNAVAILABLE` (its address stays in the log). */
  async #fetch(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Processed> {
    try {
      return await super.process(options);
    } catch (error) {
      if (error instanceof GraphQLError) throw error;
      this.#log(`gateway: subgraph ${this.#name} failed: ${(error as Error).message}`);
      throw new GraphQLErrorWithCode(`The ${this.#name} subgraph is unavailable`, ErrorCode.SUBGRAPH_UNAVAILABLE, { subgraph: this.#name });
    }
  }

  override process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Processed> {
    const query = options.request.query ?? '';
    if (!this.#dedupe || !/^\s*(query\b|\{)/.test(query)) return this.#fetch(options);
    const key = JSON.stringify([query, options.request.variables ?? null, options.context.pin ?? null]);
    const running = this.#inFlight.get(key);
    if (running) {
      options.context.touched?.add(this.#name);
      return running;
    }
    const fetching = this.#fetch(options).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, fetching);
    return fetching;
  }
}
