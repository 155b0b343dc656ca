/**
 * OpenTelemetry traces of the gateway (`OTEL_*` settings, `schema/telemetry.ts`). With an
 * endpoint set, the gateway's tracer provider is registered globally, so Apollo Gateway's own
 * spans (`gateway.request`, `.plan`, `.execute`, `.fetch`, `.postprocessing`, `.validate`) join
 * ours: a SERVER span per `/graphql` request (and registry change) that continues the client's
 * `traceparent`, parse and validate spans, one CLIENT span per subgraph fetch (subgraph,
 * attempts, breaker state, entity-cache outcome, merged or not) whose context every subgraph
 * request carries on, cache lookups, and registry checks. Without an endpoint nothing is
 * registered and every hook below is absent: the data sources and caches run as they did.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Express } from 'express';
import {
  inSpan,
  injectTraceContext,
  serverSpans,
  startTelemetry,
  SUBGRAPH_NAME_ATTRIBUTE,
  type TracingConfig,
} from '../schema/telemetry.js';
import { GRAPHQL_PATH } from '../schema/wire.js';
import type { GatewayCache } from './cache.js';
import type { BreakerState, FailureReason } from './resilience.js';

/** The instrumentation scope of the gateway's own spans. */
const GATEWAY_SCOPE = 'millennium-supergraph/gateway';

/** Span attributes of a subgraph fetch (the `msg.` ones are this gateway's own). */
export const FETCH_ATTRIBUTES = {
  subgraph: SUBGRAPH_NAME_ATTRIBUTE,
  attempts: 'msg.subgraph.attempts',
  breaker: 'msg.subgraph.breaker',
  failure: 'msg.subgraph.failure',
  merged: 'msg.subgraph.merged',
  entityHits: 'msg.entity_cache.hits',
  entityMisses: 'msg.entity_cache.misses',
} as const;

/** What a data source tells the span of one subgraph fetch. */
export interface FetchTrace {
  /** One more attempt (HTTP request) of this fetch. */
  attempt(): void;
  /** It joined an identical fetch in flight instead of sending its own. */
  merged(): void;
  /** Entity-cache lookups of this entity fetch. */
  entityCache(hits: number, misses: number): void;
  /** It failed for good (after retries). */
  failed(reason: FailureReason): void;
}

/** The fetch span under way, for what the data source notes deep in its work. */
const current = new AsyncLocalStorage<FetchTrace>();

/** On the request's span: the operation joined an identical one's execution (`operation-dedupe.ts`). */
const OPERATION_JOINED_ATTRIBUTE = 'msg.operation.joined';

/** Marks the active (request) span as joined; nothing when no span is traced. */
export function noteOperationJoined(): void {
  trace.getActiveSpan()?.setAttribute(OPERATION_JOINED_ATTRIBUTE, true);
}

/** What the data source notes on the span of the fetch under way; undefined when none is traced. */
export const fetchNote = (): FetchTrace | undefined => current.getStore();

/** How a data source traces its fetches: `fetch` wraps one, `inject` stamps its requests. */
export interface FetchTracing {
  fetch<T>(subgraph: string, breaker: BreakerState | null, work: () => Promise<T>): Promise<T>;
  /** Writes the active fetch span's `traceparent` into a subgraph request's headers. */
  inject(headers: { set(name: string, value: string): void } | undefined): void;
}

/** The gateway's tracing, as `server.ts` wires it. */
export interface GatewayTracing {
  readonly enabled: boolean;
  /** Mounts the SERVER spans (first, before any other middleware). */
  before(app: Express): void;
  /** Parse and validate spans, and the operation and response-cache outcome on the request's span. */
  readonly plugins: ApolloServerPlugin[];
  /** For each data source (absent when off). */
  readonly fetches: FetchTracing | undefined;
  /** The cache with a span per lookup, named `<name> cache get`; the cache itself when off. */
  cache(cache: GatewayCache, name: 'response' | 'entity'): GatewayCache;
  shutdown(): Promise<void>;
}

/** Requests worth a trace: GraphQL, and the registry's changes (publishes, checks); never probes or polls. */
const traced = (req: { method: string; path: string }) =>
  req.path === GRAPHQL_PATH || (req.path.startsWith('/registry') && req.method !== 'GET' && req.method !== 'HEAD');

const OFF: GatewayTracing = {
  enabled: false,
  before: () => {},
  plugins: [],
  fetches: undefined,
  cache: (cache) => cache,
  shutdown: async () => {},
};

/**
 * Starts the gateway's tracing from its settings: nothing at all without an endpoint. The
 * provider is registered as the process's global one (Apollo Gateway takes its tracer from
 * there); a second gateway in the same process traces through the first one's.
 */
export async function gatewayTracing(config: TracingConfig): Promise<GatewayTracing> {
  const telemetry = await startTelemetry(config, GATEWAY_SCOPE);
  if (!telemetry) return OFF;
  // The OpenTelemetry API as Apollo Gateway loads it (its own pinned copy, 1.9, today), looked
  // up only when tracing is on. Its tracer was taken at load from that copy's own proxy
  // provider, which a provider registered through our copy (1.10) never reaches, and the two
  // copies cannot both register globals ("All API registration versions must match"): the
  // proxy is handed our provider directly. When npm dedupes the two, this is our copy and the
  // registration below does it. Before ours is registered, Apollo's copy answers with its own
  // proxy (the one its tracer uses).
  const apolloApi = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'))(
    '@opentelemetry/api',
  ) as typeof import('@opentelemetry/api');
  const apolloProxy = apolloApi.trace.getTracerProvider();
  if (apolloProxy instanceof apolloApi.ProxyTracerProvider) apolloProxy.setDelegate(telemetry.provider);
  trace.setGlobalTracerProvider(telemetry.provider);
  const tracer = telemetry.tracer;
  return {
    enabled: true,
    before: (app) => app.use(serverSpans(tracer, traced)),
    plugins: [operationSpans(tracer)],
    fetches: fetchTracing(tracer),
    cache: (cache, name) => tracedCache(cache, tracer, name),
    shutdown: () => telemetry.shutdown(),
  };
}

/** Subgraph fetch spans: CLIENT, named after the subgraph, the parent of the subgraph's SERVER span. */
export function fetchTracing(tracer: Tracer): FetchTracing {
  return {
    fetch: (subgraph, breaker, work) =>
      tracer.startActiveSpan(
        `subgraph ${subgraph}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { [FETCH_ATTRIBUTES.subgraph]: subgraph, ...(breaker ? { [FETCH_ATTRIBUTES.breaker]: breaker } : {}) },
        },
        async (span) => {
          let attempts = 0;
          const note: FetchTrace = {
            attempt: () => span.setAttribute(FETCH_ATTRIBUTES.attempts, ++attempts),
            merged: () => span.setAttribute(FETCH_ATTRIBUTES.merged, true),
            entityCache: (hits, misses) => {
              span.setAttribute(FETCH_ATTRIBUTES.entityHits, hits);
              span.setAttribute(FETCH_ATTRIBUTES.entityMisses, misses);
            },
            failed: (reason) => {
              span.setAttribute(FETCH_ATTRIBUTES.failure, reason);
              span.setStatus({ code: SpanStatusCode.ERROR, message: `subgraph ${subgraph} failed (${reason})` });
            },
          };
          try {
            return await current.run(note, work);
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({ code: SpanStatusCode.ERROR });
            throw error;
          } finally {
            span.end();
          }
        },
      ),
    inject: (headers) => {
      if (headers) injectTraceContext((name, value) => headers.set(name, value));
    },
  };
}

/**
 * Spans for Apollo Server's parse and validate steps, and on the request's span the
 * operation (name, type) and how the response cache answered (`extensions.cache.status`).
 */
function operationSpans(tracer: Tracer): ApolloServerPlugin {
  const ended = (span: Span) => async (error?: unknown) => {
    if (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  return {
    async requestDidStart() {
      const request = trace.getActiveSpan();
      return {
        async parsingDidStart() {
          return ended(tracer.startSpan('graphql.parse'));
        },
        async validationDidStart() {
          const span = tracer.startSpan('graphql.validate');
          return (errors?: readonly Error[]) => ended(span)(errors?.[0]);
        },
        async didResolveOperation(rc) {
          if (rc.operationName) request?.setAttribute('graphql.operation.name', rc.operationName);
          if (rc.operation) request?.setAttribute('graphql.operation.type', rc.operation.operation);
        },
        async willSendResponse(rc) {
          const body = rc.response.body;
          const status =
            body.kind === 'single' ? (body.singleResult.extensions?.['cache'] as { status?: unknown } | undefined)?.status : undefined;
          if (typeof status === 'string') request?.setAttribute('msg.response_cache', status);
        },
      };
    },
  };
}

/** A cache whose lookups are spans (`<name> cache get`, with keys and hits); writes are not traced. */
export function tracedCache(cache: GatewayCache, tracer: Tracer, name: string): GatewayCache {
  const backend = cache.health().backend === 'REDIS' ? 'redis' : 'memory';
  const lookup = <T>(keys: number, work: () => Promise<T[]>) =>
    inSpan(tracer, `${name} cache get`, { 'db.system.name': backend, 'msg.cache.keys': keys }, async (span) => {
      const values = await work();
      span?.setAttribute('msg.cache.hits', values.filter((v) => v !== undefined).length);
      return values;
    });
  return {
    get: async (key) => (await lookup(1, async () => [await cache.get(key)]))[0],
    getMany: (keys) => lookup(keys.length, () => cache.getMany(keys)),
    set: (key, value, options) => cache.set(key, value, options),
    setMany: (entries, options) => cache.setMany(entries, options),
    delete: (key) => cache.delete(key),
    health: () => cache.health(),
    close: () => cache.close(),
  };
}

/**
 * Runs a registry check in a span of the gateway's (through the global provider: nothing is
 * recorded when tracing is off), with the subgraph's name and whether the check passed.
 */
export function traceCheck<T extends { readonly report: { readonly ok: boolean } }>(
  subgraph: string,
  kind: string,
  work: () => Promise<T>,
): Promise<T> {
  return inSpan(
    trace.getTracer(GATEWAY_SCOPE),
    'registry check',
    { [FETCH_ATTRIBUTES.subgraph]: subgraph, 'msg.registry.check': kind },
    async (span) => {
      const outcome = await work();
      span?.setAttribute('msg.registry.ok', outcome.report.ok);
      return outcome;
    },
  );
}
