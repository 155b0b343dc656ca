/**
 * Federated subscriptions. Apollo Gateway plans a subscription (`@apollo/query-planner`
 * gives a `SubscriptionNode`: a `primary` fetch to the one subgraph that owns the root field,
 * and the `rest` of the plan, e.g. `_entities` fetches to programme for `Cluster.name`) but
 * refuses to execute one. So:
 *
 * - `wrap(gateway)` takes over the gateway's executor for subscription operations only. Run
 *   without an event (the admission run), it plans and keeps the plan in the context; run
 *   with an event, it executes `primary` then `rest` with Apollo's own `executeQueryPlan`,
 *   the owning subgraph's data source answering `primary` with the event. Every run goes
 *   through Apollo Server's pipeline (`executeOperation`), so depth, cost and alias limits,
 *   the persisted-operation rule and the one error mask apply to a subscription as to a query.
 * - `subscribe` (the hook `operations.ts` calls) admits the operation, then subscribes to the
 *   owning subgraph with graphql-sse's client (distinct connections, no retries), and turns
 *   each upstream event into one result. When the subgraph goes away (its stream fails or
 *   ends), the client gets one `SUBGRAPH_UNAVAILABLE` error, naming the subgraph but not its
 *   URL, and the stream ends. A client going away ends the upstream subscription.
 *
 * The gateway's schema, supergraph schema and data sources are read from the gateway's
 * private fields: Apollo Gateway has no public way to run a plan of one's own, and these are
 * the ones its own executor uses (the executor is checked when wrapped, at start-up; the
 * others, set only once the gateway loads, on each subscription, which fails naming the one
 * missing rather than with a TypeError deep in Apollo's code).
 */
import { buildOperationContext, executeQueryPlan, type ApolloGateway, type GraphQLDataSource } from '@apollo/gateway';
import { operationFromDocument, type Schema } from '@apollo/federation-internals';
import type { QueryPlan, QueryPlanner, SubscriptionNode } from '@apollo/query-planner';
import type { ApolloServer } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { getOperationAST, GraphQLError, parse, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import { createClient } from 'graphql-sse';
import { ErrorCode } from '../../schema/errors.js';
import type { GatewayContext } from '../data-source.js';
import type { LiveStream, StreamRequest } from './live-queries.js';
import type { Mask, Opened } from './operations.js';

/** What a subscription run carries in its context: the plan (set by the admission run) and the event. */
interface SubscriptionState {
  plan: SubscriptionNode | null;
  event: { data?: unknown; errors?: readonly unknown[] } | null;
}
type WithSubscription = GatewayContext & { subscription?: SubscriptionState };

/** The gateway's fields its own executor uses. */
interface GatewayInternals {
  schema: GraphQLSchema;
  apiSchema: Schema;
  supergraphSchema: GraphQLSchema;
  queryPlanner: QueryPlanner;
  serviceMap: Record<string, { url?: string; dataSource: GraphQLDataSource }>;
  executor: ApolloGateway['executor'];
}

export interface FederatedSubscriptionsOptions {
  readonly apollo: () => ApolloServer<GatewayContext>;
  /** A fresh context for the request (its caller from its headers), as `/graphql` builds one. */
  readonly context: (request: StreamRequest) => Promise<GatewayContext>;
  readonly mask: Mask;
  readonly log: (line: string) => void;
  /** SUBGRAPH_MAX_RESPONSE_BYTES: the largest event a subgraph may push. */
  readonly maxEventBytes: number;
}

/** Passes an event stream through, failing it when one event (up to its blank line) is over `max` bytes. */
export function boundedEvents(max: number, subgraph: string): TransformStream<Uint8Array, Uint8Array> {
  let since = 0;
  let last = 0;
  return new TransformStream({
    transform(chunk, controller) {
      for (const byte of chunk) {
        // A blank line (two newlines in a row) ends an event.
        since = byte === 10 && last === 10 ? 0 : since + 1;
        last = byte;
        if (since > max) {
          controller.error(new Error(`${subgraph} pushed an event over ${max} bytes (SUBGRAPH_MAX_RESPONSE_BYTES)`));
          return;
        }
      }
      controller.enqueue(chunk);
    },
  });
}

/** The federated subscriptions of one gateway. */
export class FederatedSubscriptions {
  readonly #options: FederatedSubscriptionsOptions;
  #gateway: GatewayInternals | null = null;
  #upstreams = 0;

  constructor(options: FederatedSubscriptionsOptions) {
    this.#options = options;
  }

  /** Upstream subscriptions open now (to the owning subgraphs). */
  get upstreams(): number {
    return this.#upstreams;
  }

  /** Takes over the gateway's executor for subscription operations (call before it loads). */
  wrap(gateway: ApolloGateway): void {
    const internals = gateway as unknown as GatewayInternals;
    const inner = internals.executor;
    if (typeof inner !== 'function') throw new TypeError('FederatedSubscriptions.wrap: this Apollo Gateway has no executor to wrap');
    this.#gateway = internals;
    internals.executor = async (requestContext) => {
      if (requestContext.operation.operation !== 'subscription') return inner(requestContext);
      for (const field of ['schema', 'apiSchema', 'supergraphSchema', 'queryPlanner', 'serviceMap'] as const)
        if (!internals[field]) throw new TypeError(`FederatedSubscriptions: Apollo Gateway has no ${field}; subscriptions cannot run`);
      const state = (requestContext.context as WithSubscription).subscription;
      if (!state)
        return {
          errors: [
            new GraphQLError(
              'Subscriptions are served as streams: send this one with Accept: text/event-stream, or over WebSocket (graphql-transport-ws), to /graphql',
              { extensions: { code: ErrorCode.BAD_REQUEST } },
            ),
          ],
        };
      const { request, document } = requestContext;
      if (!state.event) {
        const operation = operationFromDocument(internals.apiSchema, document, { operationName: request.operationName ?? undefined });
        const plan = internals.queryPlanner.buildQueryPlan(operation);
        if (plan.node?.kind !== 'Subscription') throw new Error('A subscription was planned without a SubscriptionNode');
        state.plan = plan.node;
        return { data: null };
      }
      const node = state.plan!;
      const event = state.event;
      const serviceMap: Record<string, GraphQLDataSource> = Object.create(null);
      for (const [name, { dataSource }] of Object.entries(internals.serviceMap)) serviceMap[name] = dataSource;
      // The owning subgraph answers `primary` with the event it pushed.
      serviceMap[node.primary.serviceName] = { process: async () => ({ ...event }) as never };
      const queryPlan: QueryPlan = {
        kind: 'QueryPlan',
        node: node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary,
      };
      const operationContext = buildOperationContext({
        schema: internals.schema,
        operationDocument: document,
        operationName: request.operationName,
      });
      return executeQueryPlan(queryPlan, serviceMap, requestContext, operationContext, internals.supergraphSchema, internals.apiSchema);
    };
  }

  /** The `subscribe` hook of `operations.ts`: opens a subscription, or answers null for anything else. */
  readonly subscribe = async (request: StreamRequest): Promise<Opened | null> => {
    let kind: string | undefined;
    try {
      kind = getOperationAST(parse(request.query), request.operationName ?? undefined)?.operation;
    } catch {
      return null; // Not parsable: the one-off run answers the parse error, as for any operation.
    }
    if (kind !== 'subscription' || !this.#gateway) return null;
    const state: SubscriptionState = { plan: null, event: null };
    const admitted = await this.#run(request, state);
    if (!state.plan) return admitted;
    const primary = state.plan.primary;
    const url = this.#gateway.serviceMap[primary.serviceName]?.url;
    if (!url) return { errors: this.#options.mask(new Error(`No URL for the subgraph ${primary.serviceName}`)) };
    return this.#stream(request, state.plan, url);
  };

  /** One run of the subscription through Apollo's pipeline (admission, or one event). */
  async #run(request: StreamRequest, state: SubscriptionState): Promise<FormattedExecutionResult> {
    try {
      // Inside: a refused token (the context checks it) is answered as an error, as any.
      const contextValue: WithSubscription = { ...(await this.#options.context(request)), subscription: state };
      const headers = new HeaderMap();
      for (const [name, value] of request.headers) headers.set(name, value);
      const response = await this.#options.apollo().executeOperation(
        {
          query: request.query,
          ...(request.operationName ? { operationName: request.operationName } : {}),
          ...(request.variables ? { variables: request.variables as Record<string, unknown> } : {}),
          http: { method: 'POST', headers, search: '', body: null },
        },
        { contextValue },
      );
      if (response.body.kind === 'single') return response.body.singleResult;
      return { errors: this.#options.mask(new Error('an incremental result on a subscription')) };
    } catch (error) {
      return { errors: this.#options.mask(error) };
    }
  }

  /** Subscribes upstream and turns each event into a result; ends when either side does. */
  #stream(request: StreamRequest, plan: SubscriptionNode, url: string): LiveStream {
    const primary = plan.primary;
    const variables: Record<string, unknown> = {};
    for (const name of primary.variableUsages ?? [])
      if (request.variables && name in request.variables) variables[name] = request.variables[name];
    const max = this.#options.maxEventBytes;
    const client = createClient({
      url,
      retryAttempts: 0,
      singleConnection: false,
      // Each event is bounded as any subgraph answer is (SUBGRAPH_MAX_RESPONSE_BYTES).
      fetchFn: async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await fetch(input, init);
        if (!response.body) return response;
        return new Response(response.body.pipeThrough(boundedEvents(max, primary.serviceName)), {
          status: response.status,
          headers: response.headers,
        });
      },
    });
    const upstream = client.iterate<Record<string, unknown>>({
      query: primary.operation,
      ...(primary.operationName ? { operationName: primary.operationName } : {}),
      variables,
    });
    this.#upstreams += 1;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      this.#upstreams -= 1;
      await upstream.return?.().catch(() => undefined);
      client.dispose();
    };
    const unavailable = (): FormattedExecutionResult => ({
      errors: this.#options.mask(
        new GraphQLError(`The subgraph ${primary.serviceName} ended the subscription (it is unavailable); subscribe again later`, {
          extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, subgraph: primary.serviceName },
        }),
      ),
    });
    let ended = false;
    const stream: LiveStream = {
      next: async () => {
        if (ended || closed) return { done: true, value: undefined };
        let step: IteratorResult<unknown>;
        try {
          step = await upstream.next();
        } catch (error) {
          if (closed) return { done: true, value: undefined };
          this.#options.log(`gateway: the subscription to ${primary.serviceName} failed: ${(error as Error)?.message ?? String(error)}`);
          step = { done: true, value: undefined };
        }
        if (closed) return { done: true, value: undefined };
        if (step.done) {
          ended = true;
          await close();
          return { done: false, value: unavailable() };
        }
        const event = step.value as SubscriptionState['event'];
        return { done: false, value: await this.#run(request, { plan, event }) };
      },
      return: async () => {
        ended = true;
        await close();
        return { done: true, value: undefined };
      },
      throw: async (error: unknown) => {
        ended = true;
        await close();
        throw error;
      },
      [Symbol.asyncIterator]: () => stream,
    };
    return stream;
  }
}
