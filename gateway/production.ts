/**
 * What makes the gateway fit for production, gathered so `server.ts` wires it in a few lines:
 * subgraph resilience (timeouts, retries, circuit breakers, partial answers), operation
 * limits, error masking, GraphQL-over-HTTP status codes, rate limiting, CORS, request ids and
 * access logs, `/ready` and `/metrics`.
 */
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import cors from 'cors';
import type { Express, Request, RequestHandler, Response } from 'express';
import { errorMasking } from '../schema/error-mask.js';
import type { GatewayCache } from './cache.js';
import type { GatewayConfig } from './config.js';
import type { DataSourceOptions, GatewayContext } from './data-source.js';
import type { FeedVersions } from './feed-versions.js';
import { knownOperationPlugin, limitCode, operationLimits } from './limits.js';
import { requestLogging, type Logger } from './logger.js';
import { GatewayMetrics, outcomePlugin } from './metrics.js';
import { requestErrorStatusPlugin } from './http-status.js';
import { graphqlRefusal, RateLimit, registryRefusal, type RateVerdict } from './rate-limit.js';
import { supergraphVersionOf } from './supergraph-version.js';
import { readinessRoute, type ReadinessSources } from './readiness.js';
import { SubgraphResilience, inaccessibleFields, unavailablePathsPlugin, type BreakerState } from './resilience.js';
import { GRAPHQL_PATH } from '../schema/wire.js';

/** The routed subgraphs of a supergraph (server.ts's `routedSubgraphs`). */
type Router = (supergraphSdl: string) => { name: string; url: string }[];

export interface ProductionOptions {
  readonly supergraphSdl: string;
  readonly routedSubgraphs: Router;
  readonly feedVersions: FeedVersions;
  readonly cache: GatewayCache;
  readonly log: (line: string) => void;
  /** Access logs go here; none when null (tests). */
  readonly logger: Logger | null;
  /** The registry's supergraph version, when a registry serves it (else a hash of the supergraph). */
  readonly registryVersion?: () => string;
  /** Streams open now (`/events`, …), for the metrics. */
  readonly openStreams?: () => number;
  /** Distinct live operations open now, for the metrics. */
  readonly liveOperations?: () => number;
  readonly upstreamSubscriptions?: () => number;
  /** The JWKS's state, for `/ready` (`auth/authenticate.ts`). */
  readonly jwks?: ReadinessSources['jwks'];
}

type ApolloOptions = Pick<
  ApolloServerOptions<GatewayContext>,
  | 'introspection'
  | 'includeStacktraceInErrorResponses'
  | 'allowBatchedHttpRequests'
  | 'csrfPrevention'
  | 'validationRules'
  | 'parseOptions'
  | 'formatError'
>;

export interface Production {
  /** Resilience, hidden fields and metrics for one subgraph's data source. */
  dataSource(name: string): Pick<DataSourceOptions, 'resilience' | 'hiddenFields' | 'observer'>;
  /** Apollo Server options: introspection, stack traces, batching, CSRF, limits, error codes. */
  readonly apollo: ApolloOptions;
  readonly plugins: ApolloServerPlugin<GatewayContext>[];
  /** Records the supergraph served (at load and on every hot swap). */
  supergraphChanged(supergraphSdl: string): void;
  /** The per-request context fields: request id and the response's locals. */
  context(res: Pick<Response, 'locals'>): Pick<GatewayContext, 'requestId' | 'locals'>;
  /** What live answers report to the metrics. */
  readonly liveMetrics: Pick<GatewayMetrics, 'livePushed' | 'liveExecuted'>;
  /** What the merging of identical in-flight operations reports to the metrics. */
  readonly operationMetrics: Pick<GatewayMetrics, 'operationJoined'>;
  /** What the safelist and the plan warm-up report to the metrics. */
  readonly planMetrics: Pick<GatewayMetrics, 'unsafelisted' | 'plansWarmed'>;
  /** Counts a request the `/graphql` middleware does not see (a WebSocket upgrade) against its budget. */
  graphqlRate(req: Request): Promise<RateVerdict | null>;
  /** App-wide middleware and routes: request ids, access logs, metrics, CORS, rate limits, /ready, /metrics. */
  before(app: Express): void;
  /**
   * Runs, for a `/graphql` request answered before Express (a response-cache hit), the very
   * middleware `before` mounts for it: request id and access log, metrics, CORS, the rate
   * limit. True when the request may be answered; false when one of them answered it (429);
   * at once when none of them waits for anything (`runMiddleware`).
   */
  graphqlEdge(req: Request, res: Response): boolean | Promise<boolean>;
  close(): void;
}

export function production(config: GatewayConfig, options: ProductionOptions): Production {
  const { log, feedVersions, cache } = options;
  // A hash of the supergraph only where no registry version names it (the server gives one,
  // made once per supergraph): hashing every swapped supergraph again here bought nothing.
  const describe = (sdl: string) => ({
    version: options.registryVersion ? null : supergraphVersionOf(sdl),
    subgraphs: options.routedSubgraphs(sdl),
    hidden: inaccessibleFields(sdl),
  });
  let served = describe(options.supergraphSdl);
  const servedVersion = options.registryVersion ?? (() => served.version!);
  const metrics = new GatewayMetrics({
    feedAges: () => feedVersions.ages(),
    registryVersion: servedVersion,
    openStreams: options.openStreams ?? (() => 0),
    clientNames: config.metricsClientNames,
    ...(options.liveOperations ? { liveOperations: options.liveOperations } : {}),
    ...(options.upstreamSubscriptions ? { upstreamSubscriptions: options.upstreamSubscriptions } : {}),
  });
  const breakers = new Map<string, SubgraphResilience>();
  const resilienceOf = (name: string) => {
    let policies = breakers.get(name);
    if (!policies) {
      policies = new SubgraphResilience(name, config.resilience, (state: BreakerState) => {
        metrics.breaker(name, state);
        log(`gateway: circuit of subgraph ${name} is ${state}`);
      });
      metrics.breaker(name, 'closed');
      breakers.set(name, policies);
    }
    return policies;
  };
  const rateLimit = new RateLimit({
    windowSeconds: config.rateLimitWindowSeconds,
    apiKeys: config.rateLimitApiKeys,
    redisUrl: config.redisUrl,
    log,
  });
  const graphqlBudget = { name: 'graphql', requests: config.rateLimitRequests, refuse: graphqlRefusal };
  const graphqlRate = rateLimit.counter(graphqlBudget);
  // The registry's reads (listings, history, the clusters and SDLs every subgraph and insights
  // poll) and its changes (publishes, checks, withdrawals, registrations) count apart: the
  // polls of the subgraphs on a supplier's host never use up the budget its publish needs.
  const registryReads = rateLimit.middleware({
    name: 'registry-reads',
    label: '/registry reads',
    requests: config.registryReadRateLimitRequests,
    refuse: registryRefusal,
  });
  const registryChanges = rateLimit.middleware({ name: 'registry', requests: config.registryRateLimitRequests, refuse: registryRefusal });
  const registryBudgets: RequestHandler = (req, res, next) =>
    (req.method === 'GET' || req.method === 'HEAD' ? registryReads : registryChanges)(req, res, next);
  // What every /graphql request passes through, in this order, on either path (`graphqlEdge`).
  const observe = [requestLogging(options.logger), metrics.middleware()];
  const corsHeaders = cors({ origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false });
  const graphqlLimit = rateLimit.middleware(graphqlBudget, graphqlRate);
  const graphqlEdge = [...observe, corsHeaders, graphqlLimit];
  const limits = operationLimits(config.limits);
  // One mask for every error a client gets (subgraphs/kit/errors.ts); the log gets each in full.
  const masking = errorMasking<GatewayContext>({
    service: 'gateway',
    log,
    includeStacktrace: config.includeStacktrace,
    rewrite: limitCode,
    requestId: (rc) => rc.contextValue.requestId,
    subgraphs: () => served.subgraphs,
  });
  return {
    dataSource: (name) => ({ resilience: resilienceOf(name), hiddenFields: () => served.hidden, observer: metrics }),
    apollo: {
      // Named settings, never NODE_ENV: analysts explore the schema, stack traces stay in logs.
      introspection: config.introspection,
      includeStacktraceInErrorResponses: config.includeStacktrace,
      allowBatchedHttpRequests: config.batching,
      // Apollo's CSRF prevention stays on (its default): GETs need a preflight-forcing header.
      csrfPrevention: true,
      validationRules: limits.validationRules,
      parseOptions: limits.parseOptions,
      formatError: masking.formatError,
    },
    plugins: [masking.plugin, requestErrorStatusPlugin(), knownOperationPlugin(), unavailablePathsPlugin(), outcomePlugin(metrics)],
    supergraphChanged: (sdl) => {
      served = describe(sdl);
    },
    context: (res) => ({ requestId: res.locals['requestId'] as string | undefined, locals: res.locals }),
    graphqlRate,
    liveMetrics: metrics,
    operationMetrics: metrics,
    planMetrics: metrics,
    before: (app) => {
      app.set('trust proxy', config.trustProxy);
      // Express would hash every body it sends for an ETag (SHA-1 of each GraphQL answer, 1% of
      // the CPU on Guild workload B) that no client of a POST revalidates with.
      app.set('etag', false);
      app.use(...observe);
      app.use(corsHeaders);
      // A budget each: a dashboard fleet's /graphql traffic never blocks a supplier's publish.
      app.use(GRAPHQL_PATH, graphqlLimit);
      app.use('/registry', registryBudgets);
      metrics.routes(app);
      readinessRoute(app, {
        supergraphVersion: servedVersion,
        subgraphs: () => served.subgraphs,
        breaker: (name) => breakers.get(name)?.state ?? null,
        cache: () => cache.health(),
        rateLimiter: () => rateLimit.redisHealth(),
        ...(options.jwks ? { jwks: options.jwks } : {}),
      });
    },
    graphqlEdge: (req, res) => runMiddleware(graphqlEdge, req, res),
    close: () => rateLimit.close(),
  };
}

/**
 * Runs middleware in order, as Express would for one request: true once the last calls
 * `next()`, false when one answers instead (or fails, answered as Express's default handler
 * would: a 500 without details). At once when every handler calls `next()` before it returns
 * (the usual case: logging, metrics, CORS and a budget that is off), with a promise when one
 * of them goes on later (a rate limit counting).
 */
function runMiddleware(handlers: readonly RequestHandler[], req: Request, res: Response): boolean | Promise<boolean> {
  let i = 0;
  let outcome: boolean | undefined;
  let settle: ((passed: boolean) => void) | undefined;
  const next = (error?: unknown) => {
    if (outcome !== undefined) return;
    if (error) {
      if (!res.headersSent) res.status(500).end();
      outcome = false;
    } else {
      const handler = handlers[i++];
      if (handler) return void handler(req, res, next);
      outcome = true;
    }
    settle?.(outcome);
  };
  next();
  if (outcome !== undefined) return outcome;
  if (res.writableEnded) return false;
  return new Promise((resolve) => {
    // A handler that answers never calls next(): its response ending says so.
    const answered = () => {
      if (outcome !== undefined) return;
      outcome = false;
      settle?.(false);
    };
    res.once('close', answered);
    settle = (passed) => {
      res.removeListener('close', answered);
      resolve(passed);
    };
  });
}
