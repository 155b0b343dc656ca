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
 * `QUERY_PLAN_CACHE_MIB` (30).
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
    ...Object.fromEntries(
      SUBGRAPH_NAMES.flatMap((n) => [
        [`${upper(n)}_PORT`, port(SUBGRAPH_PORTS[n])],
        [`${upper(n)}_URL`, httpUrl.optional()],
      ]),
    ),
  };
  const parsed = parseEnv(shape, env) as Record<string, unknown>;
  const listenHost = parsed['HOST'] as string;
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
  };
}
