import { join } from 'node:path';
import { z } from 'zod';
import { host, httpUrl, parseEnv, port, redisUrl } from '../subgraphs/kit/config.js';
import { SUBGRAPH_NAMES, type SubgraphName } from '../subgraphs/catalog.js';

/** The gateway's settings, parsed once at start-up. */
export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  /** Serve this supergraph file as it is, instead of composing the built-in subgraphs. */
  readonly supergraphPath: string | null;
  /** Where each built-in subgraph answers. */
  readonly subgraphUrls: Readonly<Record<SubgraphName, string>>;
  /** Redis for the cache and feed-version announcements, or null for memory. */
  readonly redisUrl: string | null;
  /** Bound of the in-memory cache, in bytes. */
  readonly cacheMaxBytes: number;
  /** Whole responses of queries are cached (keyed by feed versions). */
  readonly responseCache: boolean;
  /** Entity lookups of subgraph fetches are cached per entity (keyed by feed versions). */
  readonly entityCache: boolean;
  /** Cache TTL, in seconds, of subgraph answers that carry no cache hint. */
  readonly cacheDefaultMaxAge: number;
  /** Only operations of the persisted-operation manifest are accepted. */
  readonly persistedOperationsOnly: boolean;
  /** Identical in-flight subgraph fetches are merged. */
  readonly dedupe: boolean;
  /** Size of the query-plan cache, in MiB. */
  readonly queryPlanCacheMiB: number;
  /** The dashboards' persisted operations (Apollo's manifest format). */
  readonly persistedOperationsFile: string | null;
  /** The supplier registry (off when `SUPERGRAPH_PATH` fixes the supergraph). */
  readonly registry: RegistryConfig;
}

/** Where the supplier registry keeps its state, as the gateway and insights both read it. */
export interface RegistryStoreConfig {
  readonly enabled: boolean;
  /** Redis shared by replicas (`REDIS_URL`), else files in `dir`. */
  readonly redisUrl: string | null;
  readonly redisPrefix: string;
  readonly dir: string;
}

/** The registry's settings at the gateway. */
export interface RegistryConfig extends RegistryStoreConfig {
  /** SHA-256 hashes of the supplier and operator tokens (`npm run registry:token`). */
  readonly tokensFile: string;
  /** How long a swap waits for insights to serve the new clusters, in ms. */
  readonly swapTimeoutMs: number;
}

/**
 * Reads `REGISTRY` (default on), `REGISTRY_DIR` (default `.data/registry`),
 * `REGISTRY_REDIS_PREFIX` (default `msg:registry:`) and `REDIS_URL`: shared by the gateway and
 * the insights subgraph, which follows the registry too.
 */
export function loadRegistryStoreConfig(env: NodeJS.ProcessEnv = process.env): RegistryStoreConfig {
  const parsed = parseEnv(
    {
      REGISTRY: flag(true),
      REGISTRY_DIR: z.string().min(1).default('.data/registry'),
      REGISTRY_REDIS_PREFIX: z.string().min(1).default('msg:registry:'),
      REDIS_URL: redisUrl.optional(),
    },
    env,
  );
  return {
    enabled: parsed.REGISTRY,
    redisUrl: parsed.REDIS_URL ?? null,
    redisPrefix: parsed.REGISTRY_REDIS_PREFIX,
    dir: parsed.REGISTRY_DIR,
  };
}

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', 'on', 'off', '1', '0'], { error: 'must be true or false' })
    .transform((v) => v === 'true' || v === 'on' || v === '1')
    .default(fallback);
const count = (fallback: number, min: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`).default(fallback);

/** Default port of each built-in subgraph. */
export const SUBGRAPH_PORTS: Readonly<Record<SubgraphName, number>> = { programme: 4001, south: 4002, london: 4003, insights: 4004 };

/** A host the gateway can call: a wildcard listen address means this machine. */
function callableHost(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '::') return '127.0.0.1';
  return listenHost.includes(':') ? `[${listenHost}]` : listenHost;
}

/**
 * Reads `HOST`, `GATEWAY_PORT` (default 4000), `SUPERGRAPH_PATH`, for each subgraph
 * `<NAME>_URL` or else `<NAME>_PORT` (defaults 4001-4004) on `HOST`, and the cache settings:
 * `REDIS_URL`, `CACHE_MAX_BYTES` (64 MiB), `RESPONSE_CACHE` (true), `ENTITY_CACHE` (true), `CACHE_DEFAULT_MAX_AGE`
 * (60 s), `PERSISTED_OPERATIONS_ONLY` (false), `SUBGRAPH_DEDUPE` (true),
 * `QUERY_PLAN_CACHE_MIB` (30), `PERSISTED_OPERATIONS_FILE` (the shipped manifest), and the
 * registry's: those of `loadRegistryStoreConfig`, `REGISTRY_TOKENS_FILE` (default
 * `<REGISTRY_DIR>/tokens.json`) and `REGISTRY_SWAP_TIMEOUT_MS` (10000).
 */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const upper = (name: SubgraphName) => name.toUpperCase();
  const shape = {
    HOST: host,
    GATEWAY_PORT: port(4000),
    SUPERGRAPH_PATH: z.string().min(1).optional(),
    REDIS_URL: redisUrl.optional(),
    CACHE_MAX_BYTES: count(64 * 1024 * 1024, 1024),
    RESPONSE_CACHE: flag(true),
    ENTITY_CACHE: flag(true),
    CACHE_DEFAULT_MAX_AGE: count(60, 0),
    PERSISTED_OPERATIONS_ONLY: flag(false),
    SUBGRAPH_DEDUPE: flag(true),
    QUERY_PLAN_CACHE_MIB: count(30, 1),
    PERSISTED_OPERATIONS_FILE: z.string().min(1).optional(),
    REGISTRY_TOKENS_FILE: z.string().min(1).optional(),
    REGISTRY_SWAP_TIMEOUT_MS: count(10_000, 100),
    ...Object.fromEntries(
      SUBGRAPH_NAMES.flatMap((n) => [
        [`${upper(n)}_PORT`, port(SUBGRAPH_PORTS[n])],
        [`${upper(n)}_URL`, httpUrl.optional()],
      ]),
    ),
  };
  const parsed = parseEnv(shape, env) as Record<string, unknown>;
  const listenHost = parsed['HOST'] as string;
  const store = loadRegistryStoreConfig(env);
  const subgraphUrls = Object.fromEntries(
    SUBGRAPH_NAMES.map((n) => [
      n,
      (parsed[`${upper(n)}_URL`] as string | undefined) ??
        `http://${callableHost(listenHost)}:${parsed[`${upper(n)}_PORT`] as number}/graphql`,
    ]),
  ) as Record<SubgraphName, string>;
  return {
    host: listenHost,
    port: parsed['GATEWAY_PORT'] as number,
    supergraphPath: (parsed['SUPERGRAPH_PATH'] as string | undefined) ?? null,
    subgraphUrls,
    redisUrl: (parsed['REDIS_URL'] as string | undefined) ?? null,
    cacheMaxBytes: parsed['CACHE_MAX_BYTES'] as number,
    responseCache: parsed['RESPONSE_CACHE'] as boolean,
    entityCache: parsed['ENTITY_CACHE'] as boolean,
    cacheDefaultMaxAge: parsed['CACHE_DEFAULT_MAX_AGE'] as number,
    persistedOperationsOnly: parsed['PERSISTED_OPERATIONS_ONLY'] as boolean,
    dedupe: parsed['SUBGRAPH_DEDUPE'] as boolean,
    queryPlanCacheMiB: parsed['QUERY_PLAN_CACHE_MIB'] as number,
    persistedOperationsFile: (parsed['PERSISTED_OPERATIONS_FILE'] as string | undefined) ?? null,
    registry: {
      ...store,
      enabled: store.enabled && !parsed['SUPERGRAPH_PATH'],
      tokensFile: (parsed['REGISTRY_TOKENS_FILE'] as string | undefined) ?? join(store.dir, 'tokens.json'),
      swapTimeoutMs: parsed['REGISTRY_SWAP_TIMEOUT_MS'] as number,
    },
  };
}
