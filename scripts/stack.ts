/**
 * Starts the whole supergraph in this process: programme, the cluster subgraphs, insights
 * and the gateway. `npm start` uses it with the environment; tests use it with port 0 and
 * extra cluster subgraphs.
 */
import { loadGatewayConfig } from '../gateway/config.js';
import type { Logger } from '../gateway/logger.js';
import { buildGatewayService } from '../gateway/server.js';
import type { SubgraphSource } from '../subgraphs/catalog.js';
import { loadInsightsConfig } from '../subgraphs/insights/config.js';
import { buildInsightsService } from '../subgraphs/insights/server.js';
import { buildClusterSubgraph, clusterSubgraphSdl, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening, type Service } from '../subgraphs/kit/http.js';
import { LiveReference } from '../subgraphs/kit/membership.js';
import type { ViewStore } from '../subgraphs/kit/store.js';
import { loadLondonConfig } from '../subgraphs/london/config.js';
import type { LondonExtra } from '../subgraphs/london/feed-format.js';
import { buildLondonSubgraph } from '../subgraphs/london/server.js';
import { loadProgrammeConfig } from '../subgraphs/programme/config.js';
import { buildProgrammeService } from '../subgraphs/programme/server.js';
import { loadSouthConfig } from '../subgraphs/south/config.js';
import type { SouthExtra } from '../subgraphs/south/feed-format.js';
import { buildSouthSubgraph } from '../subgraphs/south/server.js';

/**
 * Waits (at most `ms`) until the gateway serves its registry's current version: a gateway
 * that starts on stored published subgraphs serves the built-in ones until its insights,
 * which reads the registry from that gateway, can follow it.
 */
async function caughtUp(gatewayUrl: string, ms: number): Promise<void> {
  const url = new URL('/registry/subgraphs', gatewayUrl);
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const listed = (await fetch(url)
      .then((r) => r.json())
      .catch(() => null)) as { registryVersion?: number; served?: { registryVersion?: number } } | null;
    if (!listed || listed.registryVersion === undefined || listed.registryVersion === listed.served?.registryVersion) return;
  }
}

/** Settings that put every service of the stack on a free port of 127.0.0.1 (tests, the bench's start-up line). */
export const FREE_PORTS: Readonly<Record<string, string>> = {
  HOST: '127.0.0.1',
  GATEWAY_PORT: '0',
  PROGRAMME_PORT: '0',
  SOUTH_PORT: '0',
  LONDON_PORT: '0',
  INSIGHTS_PORT: '0',
};

/** A cluster subgraph from outside the built-in set, with the folder of its feed. */
export interface ExtraCluster {
  readonly definition: ClusterSubgraphDefinition<object>;
  readonly feedDir: string;
}

export interface StackOptions {
  /** Where settings are read from; `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Further cluster subgraphs, composed and compared like the built-in ones. */
  readonly extraClusters?: readonly ExtraCluster[];
  /** Where the subgraphs' feed messages go; the console by default. */
  readonly log?: (line: string) => void;
  /** The gateway's logger (its access logs and messages); JSON on stdout by default. */
  readonly logger?: Logger;
  /** Stores for the built-in cluster subgraphs (in memory by default). */
  readonly stores?: { readonly south?: ViewStore<SouthExtra>; readonly london?: ViewStore<LondonExtra> };
  /** Start the gateway too (default); false starts only the subgraphs (e.g. for benchmarks). */
  readonly withGateway?: boolean;
}

/** The running supergraph. */
export interface Stack<Gateway extends string | null = string> {
  /** Every service, in start order (the gateway last). */
  readonly services: readonly Listening[];
  readonly gatewayUrl: Gateway;
  /** Where each built-in subgraph listens. */
  readonly subgraphUrls: Readonly<Record<'programme' | 'south' | 'london' | 'insights', string>>;
  /** Stops the gateway, then the subgraphs. */
  close(): Promise<void>;
}

/**
 * Reads every setting first (a bad one stops everything before anything listens), then
 * starts the subgraphs and the gateway. The gateway routes to the addresses the subgraphs
 * actually listen on, so port 0 works everywhere.
 */
export async function startStack(options?: StackOptions & { withGateway?: true }): Promise<Stack>;
export async function startStack(options: StackOptions & { withGateway: false }): Promise<Stack<null>>;
export async function startStack(options: StackOptions = {}): Promise<Stack<string | null>> {
  const env = options.env ?? process.env;
  const log = options.log ?? console.log;
  const config = {
    programme: loadProgrammeConfig(env),
    south: loadSouthConfig(env),
    london: loadLondonConfig(env),
    insights: loadInsightsConfig(env),
    gateway: loadGatewayConfig(env),
  };
  const extras = options.extraClusters ?? [];
  const started: Listening[] = [];
  let membership: LiveReference | null = null;
  const close = async () => {
    for (const service of [...started].reverse()) await service.close();
    membership?.close();
  };
  try {
    const at = async (building: Promise<Service>, host: string, port: number, push = true) => {
      const service = await building;
      // A service built but unable to listen (port taken) is stopped too: it holds watchers.
      const listening = await listen(service, host, port).catch(async (error: unknown) => {
        await service.stop();
        throw error;
      });
      if (push) started.push(listening);
      return listening;
    };
    // Starts several at once (each `at(..., false)`), listed in the order given; each that
    // listens is closed with the rest if another fails.
    const together = async <const T extends readonly (() => Promise<Listening>)[]>(starts: T): Promise<{ [K in keyof T]: Listening }> => {
      const results = await Promise.allSettled(starts.map((s) => s()));
      for (const result of results) if (result.status === 'fulfilled') started.push(result.value);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return results.map((r) => (r as PromiseFulfilledResult<Listening>).value) as { [K in keyof T]: Listening };
    };
    // One membership for every subgraph here: the seed, EXTRA_TRUSTS_FILE, and what the registry registers.
    const reference = await LiveReference.open({ ...config.programme.membership, extraTrustsFile: config.programme.extraTrustsFile, log });
    membership = reference;
    // A built-in cluster subgraph starts on this membership, with its store when one is given.
    const clusterOptions = <Store>(store: Store | undefined) => ({ membership: reference, ...(store ? { store } : {}), log });
    const cluster = (built: Promise<{ service: Service }>, where: { host: string; port: number }) =>
      at(
        built.then((s) => s.service),
        where.host,
        where.port,
        false,
      );
    // Programme and the two cluster subgraphs need nothing of each other: they start together
    // (reading feeds, building schemas), and are listed in this order whatever finishes first.
    const [programme, south, london] = await together([
      () =>
        at(
          buildProgrammeService(reference, { redisUrl: config.programme.redisUrl, log, tracing: config.programme.tracing }),
          config.programme.host,
          config.programme.port,
          false,
        ),
      () => cluster(buildSouthSubgraph(config.south, clusterOptions(options.stores?.south)), config.south),
      () => cluster(buildLondonSubgraph(config.london, clusterOptions(options.stores?.london)), config.london),
    ]);
    const extraSources: SubgraphSource[] = [];
    for (const extra of extras) {
      const service = buildClusterSubgraph(extra.definition, {
        feedDir: extra.feedDir,
        reference: reference.feed,
        onReferenceChange: (l) => reference.onChange(l),
        log,
      }).then((s) => s.service);
      const listening = await at(service, config.gateway.host, 0);
      extraSources.push({ name: extra.definition.name, url: listening.url, sdl: clusterSubgraphSdl(extra.definition) });
    }
    // Insights learns the cluster subgraphs from where they listen, and follows this stack's
    // gateway's registry once that listens (until then it serves the built-in clusters).
    let gatewayUrl: string | null = null;
    const insights = await at(
      buildInsightsService({
        clusters: [{ name: 'south', url: south.url }, { name: 'london', url: london.url }, ...extraSources],
        registryUrl: options.withGateway === false || !config.gateway.registry.enabled ? null : () => gatewayUrl,
        pollMs: config.insights.registryPollMs,
        log,
        tracing: config.insights.tracing,
      }),
      config.insights.host,
      config.insights.port,
    );
    const subgraphUrls = { programme: programme.url, south: south.url, london: london.url, insights: insights.url };
    if (options.withGateway === false) return { services: started, gatewayUrl: null, subgraphUrls, close };
    const gatewayConfig = config.gateway.supergraphPath ? config.gateway : { ...config.gateway, subgraphUrls };
    const gateway = await at(
      // Without a given log or logger, the gateway writes its own JSON logs (pino).
      buildGatewayService(gatewayConfig, {
        extraClusters: extraSources,
        ...(options.log ? { log: options.log } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      }),
      config.gateway.host,
      config.gateway.port,
    );
    // Without REGISTRY_URL, the subgraphs follow the registry of the gateway started here.
    if (!config.programme.membership.registryUrl && gatewayConfig.registry.enabled) await reference.follow(gateway.url);
    gatewayUrl = gateway.url;
    if (gatewayConfig.registry.enabled) await caughtUp(gateway.url, gatewayConfig.registry.swapTimeoutMs + 5000);
    return { services: started, gatewayUrl: gateway.url, subgraphUrls, close };
  } catch (error) {
    await close();
    throw error;
  }
}
