import { readFile } from 'node:fs/promises';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { Request } from 'express';
import { PrefixingKeyValueCache } from '@apollo/utils.keyvaluecache';
import { createService, type Service } from '../subgraphs/kit/http.js';
import { supergraphSubgraphs, type SubgraphSource } from '../subgraphs/catalog.js';
import { createCache } from './cache.js';
import { CompositionError, composeSupergraph } from './compose.js';
import type { GatewayConfig } from './config.js';
import { GatewayDataSource, subgraphAgent, type GatewayContext } from './data-source.js';
import { dashboard } from './dashboard.js';
import { EntityCache } from './entity-cache.js';
import { explorerLandingPage, mountExplorer } from './explorer.js';
import { FeedVersions } from './feed-versions.js';
import { MutationEpochs } from './mutation-epochs.js';
import { loadPersistedOperations, persistedOperationsMiddleware } from './persisted-operations.js';
import { responseCache } from './response-cache.js';
import { enforceContractScalars } from './scalars.js';
import { gatewayLogs, type Logger } from './logger.js';
import { production } from './production.js';
import { mountWebAssets } from './web-assets.js';
import { LiveSupergraph, supergraphVersionOf } from './registry/live-supergraph.js';
import { SUBGRAPHS_HEADER } from '../subgraphs/insights/live-schema.js';
import { recordOperations } from './registry/operations.js';
import { clientKey } from './rate-limit.js';
import { StreamLimits } from './streams.js';
import { disabledRegistryRoutes, registryRoutes } from './registry/routes.js';
import { openRegistryStore } from './registry/store.js';

export type { GatewayContext } from './data-source.js';

/** Options a test or an embedding program can add to the configuration. */
export interface GatewayOptions {
  /** Cluster subgraphs to compose besides the built-in ones (e.g. a third supplier). */
  readonly extraClusters?: readonly SubgraphSource[];
  /** Where the gateway's messages go; pino (JSON on stdout) by default. */
  readonly log?: (line: string) => void;
  /** The structured logger (access logs); by default a pino logger, none when only `log` is given. */
  readonly logger?: Logger;
}

/** The supergraph the gateway serves: a given file, or the built-in subgraphs composed locally. */
export async function loadSupergraph(config: GatewayConfig, options: GatewayOptions = {}): Promise<string> {
  if (config.supergraphPath) {
    try {
      return await readFile(config.supergraphPath, 'utf8');
    } catch (error) {
      throw new Error(`SUPERGRAPH_PATH=${JSON.stringify(config.supergraphPath)} cannot be read: ${(error as Error).message}`);
    }
  }
  const result = composeSupergraph(supergraphSubgraphs(config.subgraphUrls, options.extraClusters));
  if (!result.ok) throw new CompositionError(result.errors);
  return result.supergraphSdl;
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
  // With the registry, the supergraph follows it and is hot-swapped; otherwise it is fixed.
  const registry = config.registry.enabled ? await startRegistry(config, options.extraClusters ?? [], log) : null;
  const supergraphSdl = registry ? registry.live.sdl : await loadSupergraph(config, options);
  const fixedVersion = supergraphVersionOf(supergraphSdl);
  const supergraphVersion = registry ? () => registry.live.version() : () => fixedVersion;
  const cache = createCache({ redisUrl: config.redisUrl, maxBytes: config.cacheMaxBytes, log });
  const feedVersions = new FeedVersions(routedSubgraphs(supergraphSdl), { redisUrl: config.redisUrl, log });
  const agent = subgraphAgent();
  const entityCache = config.entityCache ? new EntityCache(cache) : null;
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
  });
  // Insights answers only for the subgraphs of the supergraph an operation is planned on.
  const routed = {
    names: routedSubgraphs(supergraphSdl)
      .map((s) => s.name)
      .join(','),
  };
  // Published subgraphs announce new reports on their own stream (they need not share our Redis).
  if (registry) feedVersions.track(routedSubgraphs(supergraphSdl), registry.live.published);
  registry?.live.onSwap((sdl) => {
    feedVersions.track(routedSubgraphs(sdl), registry.live.published);
    routed.names = routedSubgraphs(sdl)
      .map((s) => s.name)
      .join(',');
  });
  const gateway = new ApolloGateway({
    supergraphSdl: registry ? registry.live.hook : supergraphSdl,
    experimental_approximateQueryPlanStoreMiB: config.queryPlanCacheMiB,
    buildService: ({ name, url }) =>
      new GatewayDataSource({
        name,
        url: url ?? '',
        agent,
        defaultMaxAge: config.cacheDefaultMaxAge,
        dedupe: config.dedupe,
        maxResponseBytes: config.subgraphMaxResponseBytes,
        log,
        // Unknown (stream down) counts as having a feed: pin, and never merge across operations.
        hasFeed: () => feedVersions.version(name) !== null,
        entityCache,
        ...prod.dataSource(name),
      }),
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    enforceContractScalars(apiSchema);
    prod.supergraphChanged(coreSupergraphSdl);
  });
  const operations = loadPersistedOperations(config.persistedOperationsFile ?? undefined);
  const recorder = registry
    ? recordOperations(registry.store, {
        identities: { apiKeys: config.rateLimitApiKeys, tokensFile: config.registry.tokensFile },
        perClient: config.recordedOperationsPerClient,
        log,
      })
    : null;
  // A hit answered before Apollo is a use of its operation too: the recorder hears of it.
  const onHit = recorder
    ? (req: Request, operationName: string | null, query: string) => recorder.hit((name) => req.get(name), operationName, query)
    : undefined;
  const responses =
    config.responseCache && epochs ? responseCache({ cache, feedVersions, epochs, supergraphVersion, ...(onHit ? { onHit } : {}) }) : null;
  // Caches keyed by feed versions need to know them: wait briefly for the first ones.
  await feedVersions.ready(3000);
  const board = dashboard(feedVersions, streams);
  const registryRoutesOf = registry
    ? registryRoutes({
        ...registry,
        tokensFile: config.registry.tokensFile,
        checks: config.registry.checks,
        builtInUrls: config.subgraphUrls,
        persisted: operations,
        allowedHosts: config.registry.allowedHosts,
        log,
      })
    : disabledRegistryRoutes(
        config.supergraphPath
          ? `The gateway serves the fixed supergraph SUPERGRAPH_PATH=${config.supergraphPath}; the registry is off`
          : 'The registry is off (REGISTRY=false)',
      );
  const service = await createService<GatewayContext>({
    name: 'gateway',
    apollo: (drain) =>
      new ApolloServer<GatewayContext>({
        gateway,
        cache,
        persistedQueries: config.persistedOperationsOnly ? false : { cache: new PrefixingKeyValueCache(cache, 'apq:') },
        // Introspection, stack traces, batching, CSRF, limits: named settings (production.ts).
        ...prod.apollo,
        // The runner handles SIGTERM/SIGINT for every service at once (kit/main.ts).
        stopOnTerminationSignals: false,
        plugins: [
          drain,
          // Apollo's default landing page loads from a CDN and is blank offline: ours is local.
          explorerLandingPage(),
          streams.plugin(),
          ...(responses ? [responses.plugin] : []),
          ...(epochs ? [epochs.plugin()] : []),
          ...prod.plugins,
          ...(recorder ? [recorder.plugin] : []),
        ],
      }),
    // Every subgraph fetch of this operation answers from the snapshots visible now.
    context: async ({ res }) => ({
      pin: new Date().toISOString(),
      touched: new Set<string>(),
      versions: feedVersions.snapshot(),
      markedPublic: new Set<string>(),
      ...(epochs ? { epochs: await epochs.read(feedVersions.subgraphs()) } : {}),
      ...prod.context(res),
      subgraphHeaders: { [SUBGRAPHS_HEADER]: routed.names },
    }),
    bodyLimitBytes: config.bodyLimitBytes,
    before: prod.before,
    // The explorer at / and /explorer, the dashboard at /dashboard, their files, /events;
    // the supplier registry under /registry.
    routes: (app) => {
      mountWebAssets(app);
      mountExplorer(app);
      board.mount(app);
      registryRoutesOf(app);
    },
    graphqlMiddleware: [
      persistedOperationsMiddleware(operations, config.persistedOperationsOnly),
      ...(responses ? [responses.fastPath] : []),
    ],
    onStop: async () => {
      await registry?.live.stop();
      await recorder?.close();
      await registry?.store.close();
      feedVersions.close();
      prod.close();
      await cache.close();
      await agent.close();
    },
  });
  registry?.live.follow();
  return service;
}

/** The registry's store and the supergraph that follows it. */
async function startRegistry(config: GatewayConfig, extraClusters: readonly SubgraphSource[], log: (line: string) => void) {
  const store = openRegistryStore(config.registry);
  const live = await LiveSupergraph.start({
    builtInUrls: config.subgraphUrls,
    extraClusters,
    store,
    swapTimeoutMs: config.registry.swapTimeoutMs,
    checks: config.registry.checks,
    log,
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  return { store, live };
}
