import { z } from 'zod';
import { host, httpUrl, parseEnv, port, redisUrl } from '../../schema/env.js';
import { loadTracingConfig, type TracingConfig } from '../../schema/telemetry.js';

export { ConfigError, host, httpUrl, parseEnv, port, redisUrl } from '../../schema/env.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The settings every cluster subgraph has. */
export interface ClusterConfig {
  readonly host: string;
  readonly port: number;
  /** The folder of the supplier's dated report files. */
  readonly feedDir: string;
  /** A URL polled for the supplier's latest report, or null. */
  readonly feedUrl: string | null;
  /** How often to rescan the folder and poll the URL, in ms; 0 turns live reload off. */
  readonly pollMs: number;
  /** Feed files over this many bytes are refused unread. */
  readonly maxBytes: number;
  /** Reports dated more than this many days after today are refused. */
  readonly maxFutureDays: number;
  /** Redis holding the snapshots shared by every replica, or null for memory. */
  readonly redisUrl: string | null;
  /** A JSON file of trusts added to the programme's reference data (e.g. generated ones). */
  readonly extraTrustsFile: string | null;
  /** Where the programme's membership is learnt (`REGISTRY_URL`, `MEMBERSHIP_POLL_MS`). */
  readonly membership: MembershipConfig;
  /** OpenTelemetry tracing (`loadSubgraphTracing`). */
  readonly tracing: TracingConfig;
}

const whole = (fallback: number, min: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`).default(fallback);

/**
 * Reads the settings of a cluster subgraph whose variables start with `prefix`: `HOST`,
 * `<PREFIX>_PORT`, `<PREFIX>_FEED_DIR`, `<PREFIX>_FEED_URL`, and the shared `FEED_POLL_MS`
 * (default 2000), `FEED_MAX_BYTES` (default 64 MiB), `FEED_MAX_FUTURE_DAYS` (default 1) and `REDIS_URL`.
 */
export function loadClusterConfig(prefix: string, defaults: { port: number; feedDir: string }, env: Env): ClusterConfig {
  const portVar = `${prefix}_PORT`;
  const dirVar = `${prefix}_FEED_DIR`;
  const urlVar = `${prefix}_FEED_URL`;
  const parsed = parseEnv(
    {
      HOST: host,
      [portVar]: port(defaults.port),
      [dirVar]: z.string().min(1).default(defaults.feedDir),
      [urlVar]: httpUrl.optional(),
      FEED_POLL_MS: whole(2000, 0),
      FEED_MAX_BYTES: whole(64 * 1024 * 1024, 1),
      FEED_MAX_FUTURE_DAYS: whole(1, 0),
      REDIS_URL: redisUrl.optional(),
      EXTRA_TRUSTS_FILE: z.string().min(1).optional(),
    },
    env,
  ) as Record<string, unknown>;
  return {
    host: parsed.HOST as string,
    port: parsed[portVar] as number,
    feedDir: parsed[dirVar] as string,
    feedUrl: (parsed[urlVar] as string | undefined) ?? null,
    pollMs: parsed.FEED_POLL_MS as number,
    maxBytes: parsed.FEED_MAX_BYTES as number,
    maxFutureDays: parsed.FEED_MAX_FUTURE_DAYS as number,
    redisUrl: (parsed.REDIS_URL as string | undefined) ?? null,
    extraTrustsFile: (parsed.EXTRA_TRUSTS_FILE as string | undefined) ?? null,
    membership: loadMembershipConfig(env),
    tracing: loadSubgraphTracing(env),
  };
}

/**
 * A subgraph's tracing: the `OTEL_*` variables the gateway reads (`schema/telemetry.ts`) but
 * `OTEL_SERVICE_NAME`, since a subgraph's spans are named after the subgraph.
 */
export function loadSubgraphTracing(env: Env): TracingConfig {
  return loadTracingConfig(env, { name: 'subgraph', fixed: true });
}

/** The settings of a service that only listens: host and port. */
export interface ServiceConfig {
  readonly host: string;
  readonly port: number;
}

/** Reads `HOST` and the service's port variable (e.g. `PROGRAMME_PORT`). */
export function loadServiceConfig(portVar: string, defaultPort: number, env: Env): ServiceConfig {
  const parsed = parseEnv({ HOST: host, [portVar]: port(defaultPort) }, env) as Record<string, unknown>;
  return { host: parsed.HOST as string, port: parsed[portVar] as number };
}

/** The `EXTRA_TRUSTS_FILE` setting, or null. */
export function loadExtraTrustsFile(env: Env): string | null {
  return parseEnv({ EXTRA_TRUSTS_FILE: z.string().min(1).optional() }, env).EXTRA_TRUSTS_FILE ?? null;
}

/** The registry a subgraph run alone follows when `REGISTRY_URL` is unset: the gateway of `npm start`. */
export const LOCAL_REGISTRY_URL = 'http://127.0.0.1:4000';

/** Where a subgraph learns the programme's membership (kit/membership.ts). */
export interface MembershipConfig {
  /** The registry's base URL (the gateway's), or null when unset: the stack's own gateway, or `LOCAL_REGISTRY_URL` alone. */
  readonly registryUrl: string | null;
  /** How often to ask it, in ms; 0: once, at start. */
  readonly pollMs: number;
}

/** Reads `REGISTRY_URL` and `MEMBERSHIP_POLL_MS` (default 2000). */
export function loadMembershipConfig(env: Env): MembershipConfig {
  const parsed = parseEnv({ REGISTRY_URL: httpUrl.optional(), MEMBERSHIP_POLL_MS: whole(2000, 0) }, env);
  return { registryUrl: parsed.REGISTRY_URL ?? null, pollMs: parsed.MEMBERSHIP_POLL_MS };
}

/** What `npm run registry:cluster` talks to: the registry and the operator token it sends. */
export interface RegistryClientConfig {
  readonly registryUrl: string;
  readonly token: string | null;
}

/** Reads `REGISTRY_URL` (default `LOCAL_REGISTRY_URL`) and `REGISTRY_TOKEN`. */
export function loadRegistryClientConfig(env: Env): RegistryClientConfig {
  const parsed = parseEnv({ REGISTRY_URL: httpUrl.default(LOCAL_REGISTRY_URL), REGISTRY_TOKEN: z.string().min(1).optional() }, env);
  return { registryUrl: parsed.REGISTRY_URL, token: parsed.REGISTRY_TOKEN ?? null };
}
