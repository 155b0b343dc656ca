import './apollo-exports.js';
import { readFile } from 'node:fs/promises';
import { ApolloServer } from '@apollo/server';
import type { Request, Response } from 'express';
import { PrefixingKeyValueCache } from '@apollo/utils.keyvaluecache';
import { createService, type Service } from '../schema/http.js';
import { createCache } from './cache.js';
import { authentication, unauthenticated } from './auth/authenticate.js';
import { authorization } from './auth/index.js';
import type { Identity } from './auth/jwt.js';
import { ANONYMOUS } from './caller.js';
import type { SubgraphSource } from './compose.js';
import type { GatewayConfig } from './config.js';
import { GatewayDataSource, type GatewayContext } from './data-source.js';
import { subgraphAgent } from './pool-fetcher.js';
import { dashboard } from './dashboard.js';
import { EntityCache } from './entity-cache.js';
import { explorerLandingPage, mountExplorer } from './explorer.js';
import { FeedVersions } from './feed-versions.js';
import { MutationEpochs } from './mutation-epochs.js';
import { liveAnswers } from './live/index.js';
import { persistedOperationsMiddleware, persistedResolver } from './persisted-operations.js';
import { PersistedManifest, unlistedReporter } from './safelist.js';
import { PlanWarmup } from './plan-warmup.js';
import { responseCache } from './response-cache.js';
import { requestKeyParts } from './key-parts.js';
import { OperationDedupe } from './operation-dedupe.js';
import { fastPath } from './fast-path.js';
import { enforceContractScalars } from './scalars.js';
import { gatewayLogs, type Logger } from './logger.js';
import { offlineGateway } from './offline-gateway.js';
import { production } from './production.js';
import { mountWebAssets } from './web-assets.js';
import { supergraphVersionOf } from './supergraph-version.js';
import { SUBGRAPHS_HEADER } from '../schema/wire.js';
import { withClient, type HeaderOf } from './client-awareness.js';
import { clientKey } from './rate-limit.js';
import { StreamLimits } from './streams.js';
import { gatewayTracing, noteOperationJoined } from './tracing.js';
import { disabledRegistryRoutes } from './registry/disabled.js';
import type { RegistryStore } from './registry/store.js';

export type { GatewayContext } from './data-source.js';

/** Options a test or an embedding program can add to the configuration. */
export interface GatewayOptions {
  /** Cluster subgraphs to compose besides the built-in ones, with their SDL (e.g. a third supplier in a test). */
  readonly extraClusters?: readonly SubgraphSource[];
  /** Where the gateway's messages go; pino (JSON on stdout) by default. */
  readonly log?: (line: string) => void;
  /** The structured logger (access logs); by default a pino logger, none when only `log` is given. */
  readonly logger?: Logger;
}

/** The fixed supergraph of `SUPERGRAPH_PATH`. */
async function readSupergraph(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`SUPERGRAPH_PATH=${JSON.stringify(path)} cannot be read: ${(error as Error).message}`);
  }
}

/** The subgraphs a supergraph routes to, from its `join__Graph` enum. */
export function routedSubgraphs(supergraphSdl: string): { name: string; url: string }[] {
  return [...supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g)].map((m) => ({ name: m[1]!, url: m[2]! }));
}

/**
 * Builds the gateway: Apollo Server over Apollo Gateway on a local supergraph, `/graphql`
 * and `/health`, with the cache (memory or Redis), automatic persisted queries, persisted
 * operations, the response cache keyed by feed versions, and tuned subgraph fetching.
 * Started, not listening.
 */
export async function buildGatewayService(config: GatewayConfig, options: GatewayOptions = {}): Promise<Service> {
  const { log, logger } = gatewayLogs(config.logLevel, options);
  // OpenTelemetry (OTEL_*): nothing is started without an endpoint.
  const tracing = await gatewayTracing(config.tracing);
  // Tokens (JWT_JWKS_URL / _FILE) and the supergraph's @authenticated / @requiresScopes (gateway/auth/).
  const auth = await authentication(config.auth, log);
  await auth.start();
  const access = authorization({ rejectUnauthorized: config.auth.rejectUnauthorized });
  // A given file is served as it is; otherwise the built-ins, as they serve their SDL, composed
  // with the registry's subgraphs (when it is on), and hot-swapped as either changes.
  const fixed = config.supergraphPath ? await readSupergraph(config.supergraphPath) : null;
  // The registry's code is loaded only when it is on (docs/PERFORMANCE.md, "Memory").
  const store = !fixed && config.registry.enabled ? (await import('./registry/store.js')).openRegistryStore(config.registry) : null;
  const supergraph = fixed ? null : await startSupergraph(config, store, options.extraClusters ?? [], log);
  const registry =
    supergraph && store
      ? { store, live: supergraph, membership: (await import('./registry/membership.js')).openMembershipStore(config.registry) }
      : null;
  const supergraphSdl = supergraph ? supergraph.sdl : fixed!;
  const fixedVersion = supergraphVersionOf(supergraphSdl);
  const supergraphVersion = supergraph ? () => supergraph.version() : () => fixedVersion;
  const cache = createCache({ redisUrl: config.redisUrl, maxBytes: config.cacheMaxBytes, log });
  const feedVersions = new FeedVersions(routedSubgraphs(supergraphSdl), { redisUrl: config.redisUrl, log });
  // Caches keyed by feed versions need to know them: the first ones arrive while the rest is
  // built, and the service is handed over once they have (or after 3 s). Until a version is
  // known, its subgraph's answers are never cached (response-cache.ts, entity-cache.ts).
  const versionsKnown = feedVersions.ready(3000);
  const agent = subgraphAgent();
  const entityCache = config.entityCache ? new EntityCache(tracing.cache(cache, 'entity')) : null;
  // What a mutation through the gateway touched is never answered from either cache again.
  const epochs = config.responseCache || config.entityCache ? new MutationEpochs(cache) : null;
  // Every streaming endpoint's bounds, counted per client as the rate limiter counts.
  const streams = new StreamLimits(config.streams, (req) => clientKey(req, config.rateLimitApiKeys));
  const prod = production(config, {
    supergraphSdl,
    routedSubgraphs,
    feedVersions,
    cache,
    log,
    logger,
    registryVersion: supergraphVersion,
    openStreams: () => streams.open,
    liveOperations: () => live.live.groups,
    upstreamSubscriptions: () => live.subscriptions?.upstreams ?? 0,
    jwks: () => auth.health(),
  });
  // Insights answers only for the subgraphs of the supergraph an operation is planned on.
  const routed = {
    names: routedSubgraphs(supergraphSdl)
      .map((s) => s.name)
      .join(','),
  };
  // Published subgraphs announce new reports on their own stream (they need not share our Redis).
  if (supergraph) feedVersions.track(routedSubgraphs(supergraphSdl), supergraph.published);
  supergraph?.onSwap((sdl) => {
    feedVersions.track(routedSubgraphs(sdl), supergraph.published);
    routed.names = routedSubgraphs(sdl)
      .map((s) => s.name)
      .join(',');
  });
  const gateway = offlineGateway({
    supergraphSdl: supergraph ? supergraph.hook : supergraphSdl,
    experimental_approximateQueryPlanStoreMiB: config.queryPlanCacheMiB,
    buildService: ({ name, url }) =>
      new GatewayDataSource({
        name,
        url: url ?? '',
        agent,
        defaultMaxAge: config.cacheDefaultMaxAge,
        dedupe: config.dedupe,
        entityBatching: config.entityBatching,
        maxResponseBytes: config.subgraphMaxResponseBytes,
        log,
        // Unknown (stream down) counts as having a feed: pin, and never merge across operations.
        hasFeed: () => feedVersions.version(name) !== null,
        entityCache,
        headers: config.headerRules.forSubgraph(name),
        ...prod.dataSource(name),
        tracing: tracing.fetches,
      }),
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    enforceContractScalars(apiSchema);
    access.supergraphChanged(coreSupergraphSdl, apiSchema);
    prod.supergraphChanged(coreSupergraphSdl);
  });
  // The manifest, reloaded when its file changes (safelist.ts); every consumer reads it through `manifest`.
  const manifest = new PersistedManifest({ file: config.persistedOperationsFile, log });
  const onUnlisted = unlistedReporter({ log, count: () => prod.planMetrics.unsafelisted() });
  const persisted = persistedResolver({ manifest: () => manifest.current(), stage: config.safelist, onUnlisted });
  // The persisted and the most recently recorded operations, planned before any supergraph is served.
  const warmup = new PlanWarmup(gateway, {
    ...config.planWarmup,
    persisted: () => manifest.current().operations,
    ...(registry ? { recorded: () => registry.store.recentOperations() } : {}),
    log,
    metrics: prod.planMetrics,
  });
  const recorder = registry
    ? (await import('./registry/operations.js')).recordOperations(registry.store, {
        identities: { apiKeys: config.rateLimitApiKeys, tokensFile: config.registry.tokensFile },
        perClient: config.recordedOperationsPerClient,
        log,
      })
    : null;
  // A hit answered before Apollo is a use of its operation too: the recorder hears of it.
  const onHit = recorder
    ? (req: Request, operationName: string | null, query: string) => recorder.hit((name) => req.get(name), operationName, query)
    : undefined;
  // What else makes two requests for one operation differ, for every key that shares an answer.
  const keyParts = requestKeyParts(access, config.headerRules);
  const responses =
    config.responseCache && epochs
      ? responseCache({ cache: tracing.cache(cache, 'response'), feedVersions, epochs, supergraphVersion, keyParts })
      : null;
  const board = dashboard(feedVersions, streams);
  const registryRoutesOf = registry
    ? (await import('./registry/routes.js')).registryRoutes({
        ...registry,
        tokensFile: config.registry.tokensFile,
        checks: config.registry.checks,
        builtInUrls: config.subgraphUrls,
        persisted: () => manifest.current().operations,
        allowedHosts: config.registry.allowedHosts,
        log,
      })
    : disabledRegistryRoutes(
        config.supergraphPath
          ? `The gateway serves the fixed supergraph SUPERGRAPH_PATH=${config.supergraphPath}; the registry is off`
          : 'The registry is off (REGISTRY=false)',
      );
  // Every subgraph fetch of this operation answers from the snapshots visible now.
  const contextFor = async (
    res: Pick<Response, 'locals'>,
    header: HeaderOf,
    identity: Identity = auth.identityFrom(res),
  ): Promise<GatewayContext> => {
    // Who asks, as far as the gateway knows: the access log reads it from the locals too.
    const caller = withClient({ ...ANONYMOUS, ...identity }, header);
    res.locals['caller'] = caller;
    return {
      pin: new Date().toISOString(),
      touched: new Set<string>(),
      versions: feedVersions.snapshot(),
      markedPublic: new Set<string>(),
      answered: new Map<string, string>(),
      ...(epochs ? { epochs: await epochs.read(feedVersions.subgraphs()) } : {}),
      ...prod.context(res),
      subgraphHeaders: { [SUBGRAPHS_HEADER]: routed.names },
      caller,
    };
  };
  let apollo: ApolloServer<GatewayContext> | null = null;
  // @live queries and one-off operations over SSE and WebSocket (gateway/live/).
  const live = liveAnswers({
    streams,
    feedVersions,
    onSupergraphChange: (listener) => gateway.onSchemaLoadOrUpdate(listener),
    apollo: () => apollo!,
    // A stream's own headers say who asks (a WebSocket has no Express response; a live re-run checks its token again).
    context: async (request) =>
      contextFor(
        { locals: {} },
        (name) => request.headers.get(name),
        await auth.identityOf(request.headers.get('authorization')).catch(unauthenticated),
      ),
    // Streams share a run only when their subgraphs would receive the same headers.
    ...(config.headerRules.empty ? {} : { vary: (headers) => config.headerRules.cacheVary(headers) }),
    formatError: prod.apollo.formatError!,
    log,
    maxTokens: config.limits.maxTokens,
    maxPerClient: config.streams.maxPerClient,
    maxMessageBytes: config.bodyLimitBytes,
    maxEventBytes: config.subgraphMaxResponseBytes,
    rate: prod.graphqlRate,
    persisted,
    allowedOrigins: config.corsOrigins,
    metrics: prod.liveMetrics,
    gateway,
  });
  // Identical in-flight queries executed once: inside authorization, which cuts each request itself.
  if (config.operationDedupe)
    new OperationDedupe({
      supergraphVersion,
      keyParts,
      propagatesHeaders: !config.headerRules.empty,
      onJoined: () => {
        prod.operationMetrics.operationJoined();
        noteOperationJoined();
      },
    }).wrap(gateway);
  // Outermost, after the subscriptions' wrapper (liveAnswers): every operation is cut before it is planned.
  access.wrap(gateway);
  const service = await createService<GatewayContext>({
    name: 'gateway',
    apollo: (drain) =>
      (apollo = new ApolloServer<GatewayContext>({
        gateway,
        cache,
        persistedQueries: config.safelist === 'enforce' ? false : { cache: new PrefixingKeyValueCache(cache, 'apq:') },
        // Introspection, stack traces, batching, CSRF, limits: named settings (production.ts).
        ...prod.apollo,
        // The runner handles SIGTERM/SIGINT for every service at once (kit/main.ts).
        stopOnTerminationSignals: false,
        plugins: [
          drain,
          // First: the cut's errors are in the response before the response cache judges it.
          access.plugin,
          // Apollo's default landing page loads from a CDN and is blank offline: ours is local.
          explorerLandingPage(),
          streams.plugin(),
          ...(responses ? [responses.plugin] : []),
          ...(epochs ? [epochs.plugin()] : []),
          ...prod.plugins,
          ...(recorder ? [recorder.plugin] : []),
          // Last: it reads what the response cache said of the answer.
          ...tracing.plugins,
        ],
      })),
    context: ({ req, res }) => contextFor(res, (name) => req.headers[name]),
    bodyLimitBytes: config.bodyLimitBytes,
    // The request's trace span first, so everything after runs in it.
    before: (app) => {
      tracing.before(app);
      prod.before(app);
    },
    // Response-cache hits, answered before Express with the same /graphql middleware (fast-path.ts).
    ...(responses
      ? {
          fastPath: fastPath({
            lookup: responses.lookup,
            // It may still hand a request on to Express, which reports it: it defers the
            // report to the hits it answers itself, so each request is counted once.
            persisted,
            edge: prod.graphqlEdge,
            bodyLimitBytes: config.bodyLimitBytes,
            // Tokens are checked on the Express path only (auth/): a request with one, or every
            // request when one is required, goes there.
            skip: (req) => config.auth.jwks !== null && (config.auth.required || req.headers.authorization !== undefined),
            ...(onHit ? { onHit } : {}),
          }),
        }
      : {}),
    // The explorer at / and /explorer, the dashboard at /dashboard, their files, /events;
    // the supplier registry under /registry.
    routes: (app) => {
      mountWebAssets(app);
      mountExplorer(app);
      board.mount(app);
      registryRoutesOf(app);
    },
    graphqlMiddleware: [
      // First: a bad token is refused before anything else runs (SSE streams included).
      auth.middleware,
      persistedOperationsMiddleware(persisted),
      ...live.middleware,
      ...(responses ? [responses.varyAccept] : []),
    ],
    onStop: async () => {
      await live.close();
      manifest.close();
      await supergraph?.stop();
      await recorder?.close();
      await registry?.store.close();
      await registry?.membership.close();
      feedVersions.close();
      prod.close();
      await cache.close();
      await agent.close();
      await tracing.shutdown();
    },
  });
  service.httpServer.on('upgrade', live.attach(service.app));
  // A warm-up that cannot run (Apollo's internals changed: plan-warmup.test.ts says so) only costs speed.
  await warmup.atStart().catch((error: unknown) => log(`gateway: no plan warm-up: ${(error as Error).message}`));
  supergraph?.beforeSwap((sdl) => warmup.beforeSwap(sdl));
  supergraph?.follow();
  await versionsKnown;
  return service;
}

/** The supergraph that follows the built-ins and the registry's store (closed if it cannot start). */
async function startSupergraph(
  config: GatewayConfig,
  store: RegistryStore | null,
  extraClusters: readonly SubgraphSource[],
  log: (line: string) => void,
) {
  const [{ LiveSupergraph }, { BuiltInSubgraphs }] = await Promise.all([import('./registry/live-supergraph.js'), import('./built-ins.js')]);
  return LiveSupergraph.start({
    builtIns: new BuiltInSubgraphs(config.subgraphUrls, extraClusters, log),
    startWaitMs: config.subgraphSdlWaitMs,
    store,
    swapTimeoutMs: config.registry.swapTimeoutMs,
    checks: config.registry.checks,
    log,
  }).catch(async (error: unknown) => {
    await store?.close();
    throw error;
  });
}
