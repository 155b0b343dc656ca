/**
 * `GET /metrics` in Prometheus format (prom-client), one registry per gateway (tests run
 * several in one process): requests and latency by operation and outcome, subgraph fetch
 * latency and failures, cache hits and misses, circuit-breaker states, feed age per
 * supplier, and the registry (supergraph) version.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Express, RequestHandler, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ClientLabels, clientOf } from './client-awareness.js';
import type { FetchObserver, GatewayContext } from './data-source.js';
import type { BreakerState, FailureReason } from './resilience.js';
import { receivedAt } from '../schema/http.js';
import { GRAPHQL_PATH } from '../schema/wire.js';

/** How a request ended, as a metric label. */
export type Outcome = 'ok' | 'partial' | 'error' | 'refused' | 'rate_limited';

/** The latency buckets of requests and of subgraph fetches alike (seconds), so the two histograms compare bucket by bucket. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Operation names are client-chosen: keep the label set bounded. */
function operationLabel(name: unknown): string {
  return typeof name === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'anonymous';
}

/**
 * Counts kept as numbers between scrapes and added to their prom-client counter when it is
 * read (its `collect`): prom-client validates and hashes the labels of every `inc`, and three
 * of those were a visible part of a response-cache hit's CPU. The exposition is the same.
 */
class Tally<Label extends string> {
  readonly #pending = new Map<string, { readonly labels: Record<Label, string>; n: number }>();
  #counter: Counter<Label> | null = null;

  /** The counter it adds to (set once the counter exists: the counter's `collect` calls `flush`). */
  set counter(counter: Counter<Label>) {
    this.#counter = counter;
  }

  /** Counts `n` under `key`, the labels' own values joined (the labels are made only the first time). */
  add(key: string, labels: () => Record<Label, string>, n = 1): void {
    const pending = this.#pending.get(key);
    if (pending) pending.n += n;
    else this.#pending.set(key, { labels: labels(), n });
  }

  flush(): void {
    for (const pending of this.#pending.values()) {
      if (pending.n > 0) this.#counter?.inc(pending.labels, pending.n);
      pending.n = 0;
    }
  }
}

export class GatewayMetrics implements FetchObserver {
  readonly registry = new Registry();
  readonly #operations = new Set<string>();
  readonly #requestTally = new Tally<'operation' | 'outcome'>();
  readonly #cacheTally = new Tally<'cache' | 'result'>();
  readonly #clientTally = new Tally<'client' | 'client_version' | 'outcome'>();
  readonly #requests = new Counter({
    name: 'gateway_requests_total',
    help: 'GraphQL requests by operation name and outcome (ok, partial, error, refused, rate_limited)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
    collect: () => this.#requestTally.flush(),
  });
  readonly #latency = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'GraphQL request latency by operation name and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #fetchLatency = new Histogram({
    name: 'gateway_subgraph_fetch_duration_seconds',
    help: 'Subgraph fetch latency (retries included) by subgraph',
    labelNames: ['subgraph'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #fetchErrors = new Counter({
    name: 'gateway_subgraph_fetch_errors_total',
    help: 'Subgraph fetches that failed for good, by subgraph and reason (timeout, circuit-open, unreachable, server-error)',
    labelNames: ['subgraph', 'reason'] as const,
    registers: [this.registry],
  });
  readonly #cache = new Counter({
    name: 'gateway_cache_requests_total',
    help: 'Response-cache and entity-cache lookups by result (hit, miss)',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
    collect: () => this.#cacheTally.flush(),
  });
  readonly #breaker = new Gauge({
    name: 'gateway_circuit_breaker_state',
    help: "Each subgraph's circuit breaker: 0 closed, 1 half-open, 2 open",
    labelNames: ['subgraph'] as const,
    registers: [this.registry],
  });
  readonly #livePushes = new Counter({
    name: 'gateway_live_pushes_total',
    help: 'New results pushed to live streams after their first (rate() gives pushes per second)',
    registers: [this.registry],
  });
  readonly #liveExecutions = new Counter({
    name: 'gateway_live_executions_total',
    help: 'Runs of live operations: one per distinct operation and change, however many streams share it',
    registers: [this.registry],
  });
  readonly #operationsDeduplicated = new Counter({
    name: 'gateway_operations_deduplicated_total',
    help: 'Query operations that joined an identical one already executing instead of executing (OPERATION_DEDUPE); executions are the requests less these',
    registers: [this.registry],
  });
  readonly #clientRequests = new Counter({
    name: 'gateway_client_requests_total',
    help: 'GraphQL requests by the client they name (apollographql-client-name, -version; bounded: other beyond the kept ones, none when unnamed) and outcome',
    labelNames: ['client', 'client_version', 'outcome'] as const,
    registers: [this.registry],
    collect: () => this.#clientTally.flush(),
  });
  readonly #clients: ClientLabels;
  readonly #unsafelisted = new Counter({
    name: 'gateway_unsafelisted_operations_total',
    help: 'Requests served with an operation not in the persisted-operation manifest (PERSISTED_OPERATIONS_ONLY=log)',
    registers: [this.registry],
  });
  readonly #plansWarmed = new Counter({
    name: 'gateway_plans_warmed_total',
    help: 'Query plans made before serving a supergraph (at start and before each swap, PLAN_WARMUP_MS)',
    registers: [this.registry],
  });
  readonly #warmupSeconds = new Gauge({
    name: 'gateway_plan_warmup_seconds',
    help: 'How long the last plan warm-up took',
    registers: [this.registry],
  });
  readonly #rateLimiter = new Gauge({
    name: 'gateway_rate_limiter_redis',
    help: 'Whether the rate limiter counts in Redis (1) or in memory (0)',
    registers: [this.registry],
  });

  constructor(options: {
    /** Each supplier's feed age in seconds (null: unknown); read at scrape time. */
    readonly feedAges: () => ReadonlyMap<string, number | null>;
    /** The supergraph (registry) version served; read at scrape time. */
    readonly registryVersion: () => string;
    /** Streams open now; read at scrape time. */
    readonly openStreams: () => number;
    /** Distinct live operations open now (each shared by its streams); read at scrape time. */
    readonly liveOperations?: () => number;
    /** Upstream subscriptions open now, to the subgraphs that own subscription fields; read at scrape time. */
    readonly upstreamSubscriptions?: () => number;
    /** The client names labelled by name (`METRICS_CLIENT_NAMES`); none: the first ones seen. */
    readonly clientNames?: readonly string[];
  }) {
    this.#clients = new ClientLabels(options.clientNames ?? []);
    this.#requestTally.counter = this.#requests;
    this.#cacheTally.counter = this.#cache;
    this.#clientTally.counter = this.#clientRequests;
    collectDefaultMetrics({ register: this.registry });
    const { feedAges, registryVersion, openStreams, liveOperations = () => 0, upstreamSubscriptions = () => 0 } = options;
    new Gauge({
      name: 'gateway_subscriptions_upstream',
      help: 'Subscriptions the gateway holds open to subgraphs now: one per client subscription, ended with it',
      registers: [this.registry],
      collect() {
        this.set(upstreamSubscriptions());
      },
    });
    new Gauge({
      name: 'gateway_live_operations',
      help: 'Distinct live operations open now (operation, variables and credentials), each run once per change for all its streams',
      registers: [this.registry],
      collect() {
        this.set(liveOperations());
      },
    });
    new Gauge({
      name: 'gateway_open_streams',
      help: 'Long-lived streams (/events, live answers over SSE and WebSocket) open now, all clients together',
      registers: [this.registry],
      collect() {
        this.set(openStreams());
      },
    });
    new Gauge({
      name: 'gateway_feed_age_seconds',
      help: "Seconds since each supplier's current feed version reached this gateway",
      labelNames: ['supplier'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [supplier, age] of feedAges()) if (age !== null) this.set({ supplier }, age);
      },
    });
    new Gauge({
      name: 'gateway_registry_version_info',
      help: 'The supergraph (registry) version served: 1 for the current version',
      labelNames: ['version'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        this.set({ version: registryVersion() }, 1);
      },
    });
  }

  /** One new result pushed to a live stream. */
  livePushed(): void {
    this.#livePushes.inc();
  }

  /** One run of a live operation (shared by all its streams). */
  liveExecuted(): void {
    this.#liveExecutions.inc();
  }

  /** One operation that joined an identical one's execution (`operation-dedupe.ts`). */
  operationJoined(): void {
    this.#operationsDeduplicated.inc();
  }

  /** One request served with an operation outside the manifest (the safelist's `log` stage). */
  unsafelisted(): void {
    this.#unsafelisted.inc();
  }

  /** One plan warm-up: how many plans it made, in how long. */
  plansWarmed(plans: number, seconds: number): void {
    this.#plansWarmed.inc(plans);
    this.#warmupSeconds.set(seconds);
  }

  /** Records one GraphQL request. */
  request(operation: unknown, outcome: Outcome, seconds: number): void {
    let label = operationLabel(operation);
    // A client inventing names cannot grow the label set without bound.
    if (!this.#operations.has(label)) {
      if (this.#operations.size >= 500) label = 'other';
      else this.#operations.add(label);
    }
    this.#requestTally.add(`${label} ${outcome}`, () => ({ operation: label, outcome }));
    this.#latency.observe({ operation: label, outcome }, seconds);
  }

  fetched(subgraph: string, seconds: number, failure: FailureReason | null): void {
    this.#fetchLatency.observe({ subgraph }, seconds);
    if (failure) this.#fetchErrors.inc({ subgraph, reason: failure });
  }

  entityCache(hits: number, misses: number): void {
    if (hits) this.#cacheTally.add('entity hit', () => ({ cache: 'entity', result: 'hit' }), hits);
    if (misses) this.#cacheTally.add('entity miss', () => ({ cache: 'entity', result: 'miss' }), misses);
  }

  /** One response-cache lookup (BYPASS is not a lookup). */
  responseCache(status: 'HIT' | 'MISS' | 'BYPASS'): void {
    if (status === 'BYPASS') return;
    const result = status === 'HIT' ? 'hit' : 'miss';
    this.#cacheTally.add(`response ${result}`, () => ({ cache: 'response', result }));
  }

  breaker(subgraph: string, state: BreakerState): void {
    this.#breaker.set({ subgraph }, BREAKER_VALUE[state]);
  }

  rateLimiterBackend(redis: boolean): void {
    this.#rateLimiter.set(redis ? 1 : 0);
  }

  /**
   * Times every `/graphql` request: the outcome comes from the GraphQL response (set in
   * `res.locals` by `outcomePlugin`) or from the HTTP status when Apollo never saw it.
   */
  middleware(): RequestHandler {
    const metrics = this;
    // One listener for every request, reading it from its response (`this`): no closure per request.
    function finished(this: Response): void {
      metrics.#finished(this);
    }
    return (req, res, next) => {
      if (req.path !== GRAPHQL_PATH) return next();
      // Timed from here when nothing timed the request from its arrival (`receivedAt`).
      res.locals['receivedAt'] = receivedAt(res);
      res.on('finish', finished);
      next();
    };
  }

  #finished(res: Response): void {
    const req = res.req;
    const seconds = Number(process.hrtime.bigint() - receivedAt(res)) / 1e9;
    let outcome = res.locals['outcome'] as Outcome | undefined;
    if (!outcome) {
      if (res.statusCode === 429) outcome = 'rate_limited';
      else if (res.statusCode >= 500) outcome = 'error';
      else if (res.statusCode >= 400) outcome = 'refused';
      else {
        outcome = 'ok';
        this.responseCache('HIT'); // served by the response cache's fast path, before Apollo
      }
    }
    const body = req.body as { operationName?: unknown; documentId?: unknown; query?: unknown } | undefined;
    // Served before Apollo (a cache hit): the name is the request's, or the document's own.
    const operation =
      res.locals['operationName'] ??
      body?.operationName ??
      body?.documentId ??
      (typeof body?.query === 'string' ? /^\s*(?:query|mutation)\s+([A-Za-z_]\w*)/.exec(body.query)?.[1] : undefined) ??
      req.query['operationName'] ??
      req.query['documentId'];
    this.request(operation, outcome, seconds);
    const client = this.#clients.of(clientOf((name) => req.headers[name]));
    this.#clientTally.add(`${client.client}\n${client.client_version}\n${outcome}`, () => ({ ...client, outcome }));
  }

  /** `GET /metrics`. */
  routes(app: Express): void {
    app.get('/metrics', async (_req, res) => {
      res.type(this.registry.contentType).send(await this.registry.metrics());
    });
  }
}

/**
 * Tells the metrics and the access log how a GraphQL request ended: its operation name and
 * outcome (`ok`; `partial`: data with errors, e.g. a subgraph down; `error`: no data;
 * `refused`: never executed, e.g. a parse error or a limit), and each response-cache lookup.
 */
export function outcomePlugin(metrics: GatewayMetrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          if (rc.contextValue.locals && rc.operationName) rc.contextValue.locals['operationName'] = rc.operationName;
        },
        async willSendResponse(rc) {
          const locals = rc.contextValue.locals;
          const body = rc.response.body;
          if (!locals || body.kind !== 'single') return;
          const result = body.singleResult;
          const status = (result.extensions?.['cache'] as { status?: 'HIT' | 'MISS' | 'BYPASS' } | undefined)?.status;
          if (status) metrics.responseCache(status);
          let outcome: Outcome = 'ok';
          if (result.errors?.length) outcome = !('data' in result) ? 'refused' : result.data ? 'partial' : 'error';
          locals['outcome'] = outcome;
        },
      };
    },
  };
}
