import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadTracingConfig, type TracingConfig } from '../schema/telemetry.js';
import { ConfigError, host, httpUrl, parseEnv, port, redisUrl } from '../schema/env.js';
import { HeaderRules, NO_HEADER_RULES, parseHeaderRules } from './headers.js';
import { DEFAULT_ALLOWED_HOSTS, parseAllowedHosts, type HostPolicy } from './registry/url-policy.js';
import type { CheckSettings } from './registry/worker.js';
import type { SafelistStage } from './persisted-operations.js';

/**
 * The built-in subgraphs, known by URL only (`<NAME>_URL`, else `<NAME>_PORT` on `HOST`): the
 * gateway composes what each serves (built-ins.ts), never their code.
 */
export const SUBGRAPH_NAMES = ['programme', 'south', 'london', 'insights'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** The gateway's settings, parsed once at start-up. */
export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  /** Serve this supergraph file as it is, instead of composing the built-in subgraphs. */
  readonly supergraphPath: string | null;
  /** Where each built-in subgraph answers. */
  readonly subgraphUrls: Readonly<Record<SubgraphName, string>>;
  /** How long a starting gateway waits for the built-ins to serve their SDL before it starts on the committed supergraph. */
  readonly subgraphSdlWaitMs: number;
  /** Redis for the cache and feed-version announcements, or null for memory. */
  readonly redisUrl: string | null;
  /** Bound of the in-memory cache, in bytes. */
  readonly cacheMaxBytes: number;
  /** Whole responses of queries are cached (keyed by feed versions). */
  readonly responseCache: boolean;
  /** Entity lookups of subgraph fetches are cached per entity (keyed by feed versions). */
  readonly entityCache: boolean;
  /** Cache TTL, in seconds, of answers of subgraphs with feed versions that state no `max-age`. */
  readonly cacheDefaultMaxAge: number;
  /** Operations outside the persisted-operation manifest: served (`off`), served and logged (`log`), or refused (`enforce`). */
  readonly safelist: SafelistStage;
  /** Plan warm-up at start and before each swap: its time budget in ms (0: off), and how many operations at most. */
  readonly planWarmup: { readonly budgetMs: number; readonly max: number };
  /** Identical in-flight subgraph fetches are merged. */
  readonly dedupe: boolean;
  /** Identical in-flight query operations are executed once (`operation-dedupe.ts`). */
  readonly operationDedupe: boolean;
  /** An operation's entity fetches of one plan stage to one subgraph go out as one request, each entity asked once. */
  readonly entityBatching: boolean;
  /** Size of the query-plan cache, in MiB. */
  readonly queryPlanCacheMiB: number;
  /** Schema introspection is answered (analysts explore the graph). */
  readonly introspection: boolean;
  /** Error responses carry stack traces (they always go to the log). */
  readonly includeStacktrace: boolean;
  /** Several operations may be sent in one HTTP request (a JSON array). */
  readonly batching: boolean;
  /** Browser origins allowed to call the gateway (CORS); empty: same origin only. */
  readonly corsOrigins: readonly string[];
  /** Largest request body accepted, in bytes. */
  readonly bodyLimitBytes: number;
  /** Largest subgraph answer the gateway reads, in bytes (`SUBGRAPH_MAX_RESPONSE_BYTES`). */
  readonly subgraphMaxResponseBytes: number;
  /** Operation limits, each refused before any subgraph is called. */
  readonly limits: OperationLimits;
  /** Requests per client key (API key or IP) per window; 0 turns rate limiting off. */
  readonly rateLimitRequests: number;
  readonly rateLimitWindowSeconds: number;
  /** SHA-256 digests (hex) of the API keys counted as clients of their own; others count by IP. */
  readonly rateLimitApiKeys: ReadonlySet<string>;
  /** Changes (POST, DELETE, …) per client key per window on `/registry`, a budget apart from `/graphql`'s; 0: off. */
  readonly registryRateLimitRequests: number;
  /** Reads (GET, HEAD) per client key per window on `/registry`, apart from its changes; 0: off. */
  readonly registryReadRateLimitRequests: number;
  /** Bounds on long-lived streams (`/events`, and any streaming endpoint). */
  readonly streams: StreamsConfig;
  /** Most operations recorded for schema checks per identified client (API key or registry token). */
  readonly recordedOperationsPerClient: number;
  /** Subgraph fetch timeout, retries (queries only) and circuit breaker. */
  readonly resilience: ResilienceConfig;
  /** pino log level. */
  readonly logLevel: LogLevel;
  /** Proxies in front of the gateway whose `X-Forwarded-For` is trusted (hops), for client IPs. */
  readonly trustProxy: number;
  /** The dashboards' persisted operations (Apollo's manifest format). */
  readonly persistedOperationsFile: string | null;
  /** The supplier registry (off when `SUPERGRAPH_PATH` fixes the supergraph). */
  readonly registry: RegistryConfig;
  /** OpenTelemetry tracing (the standard `OTEL_*` variables, `schema/telemetry.ts`); off without an endpoint. */
  readonly tracing: TracingConfig;
  /** Which client headers each subgraph receives (`PROPAGATE_HEADERS` or `PROPAGATE_HEADERS_FILE`; none by default). */
  readonly headerRules: HeaderRules;
  /** The client names the metrics label by name (`METRICS_CLIENT_NAMES`); empty: the first names seen. */
  readonly metricsClientNames: readonly string[];
  /** JWT authentication and the supergraph's authorization directives (`gateway/auth/`). */
  readonly auth: AuthConfig;
}

/** How callers prove who they are: a JWT checked against a JWKS, and what a refusal does. */
export interface AuthConfig {
  /** Where the signing keys are: a JWKS URL (fetched, cached, refreshed on an unknown `kid`) or file; null: tokens are not accepted. */
  readonly jwks: { readonly url: string } | { readonly file: string } | null;
  /** The `iss` a token must carry, or null for any. */
  readonly issuer: string | null;
  /** The `aud` a token must carry, or null for any. */
  readonly audience: string | null;
  /** A request without a token is refused (401); otherwise it runs as anonymous. */
  readonly required: boolean;
  /** The claim holding the scopes (space-separated string or array). */
  readonly scopesClaim: string;
  /** An operation touching anything the caller may not see is refused whole, instead of answered with nulls. */
  readonly rejectUnauthorized: boolean;
}

/** Where the supplier registry keeps its state. */
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
  /** The hosts a published routing URL may name (`REGISTRY_ALLOWED_HOSTS`). */
  readonly allowedHosts: HostPolicy;
  /** The bounds of a published SDL and of the worker that checks and composes it. */
  readonly checks: CheckSettings;
}

/**
 * Reads the bounds of a publish: `REGISTRY_SDL_MAX_BYTES` (256 KiB), `REGISTRY_SDL_MAX_TYPES`
 * (300) and `REGISTRY_SDL_MAX_FIELDS` (3000), some ten to twenty times the largest built-in
 * subgraph (south: 14.8 KB, 31 types, 137 fields, the contract included); and the check
 * worker's `REGISTRY_CHECK_TIMEOUT_MS` (30000) and `REGISTRY_CHECK_MAX_MB` (256; a check of
 * the built-in supergraph plus one cluster needs under 64).
 */
export function loadRegistryCheckSettings(env: NodeJS.ProcessEnv = process.env): CheckSettings {
  const parsed = parseEnv(
    {
      REGISTRY_SDL_MAX_BYTES: count(256 * 1024, 1024),
      REGISTRY_SDL_MAX_TYPES: count(300, 1),
      REGISTRY_SDL_MAX_FIELDS: count(3000, 1),
      REGISTRY_CHECK_TIMEOUT_MS: count(30_000, 1),
      REGISTRY_CHECK_MAX_MB: count(256, 16),
    },
    env,
  );
  return {
    sdl: { maxBytes: parsed.REGISTRY_SDL_MAX_BYTES, maxTypes: parsed.REGISTRY_SDL_MAX_TYPES, maxFields: parsed.REGISTRY_SDL_MAX_FIELDS },
    worker: { timeoutMs: parsed.REGISTRY_CHECK_TIMEOUT_MS, maxMb: parsed.REGISTRY_CHECK_MAX_MB },
  };
}

/** `REGISTRY_ALLOWED_HOSTS`: comma-separated names, `*.domain`, IP addresses, CIDR ranges. */
const allowedHosts = z
  .string()
  .default(DEFAULT_ALLOWED_HOSTS)
  .transform((text, ctx) => {
    try {
      return parseAllowedHosts(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/**
 * Reads `REGISTRY` (default on), `REGISTRY_DIR` (default `.data/registry`),
 * `REGISTRY_REDIS_PREFIX` (default `msg:registry:`) and `REDIS_URL` (insights follows the
 * registry over HTTP, at a gateway).
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

/**
 * Reads `JWT_JWKS_URL` or `JWT_JWKS_FILE` (not both), `JWT_ISSUER`, `JWT_AUDIENCE`,
 * `JWT_REQUIRED` (false), `JWT_SCOPES_CLAIM` (`scope`) and `JWT_REJECT_UNAUTHORIZED` (false).
 */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const parsed = parseEnv(
    {
      JWT_JWKS_URL: httpUrl.optional(),
      JWT_JWKS_FILE: z.string().min(1).optional(),
      JWT_ISSUER: z.string().min(1).optional(),
      JWT_AUDIENCE: z.string().min(1).optional(),
      JWT_REQUIRED: flag(false),
      JWT_SCOPES_CLAIM: z
        .string()
        .regex(/^[\w.:-]+$/, 'must be a claim name such as scope or scp')
        .default('scope'),
      JWT_REJECT_UNAUTHORIZED: flag(false),
    },
    env,
  );
  if (parsed.JWT_JWKS_URL && parsed.JWT_JWKS_FILE)
    throw new ConfigError(
      `Invalid configuration:\n  JWT_JWKS_FILE=${JSON.stringify(parsed.JWT_JWKS_FILE)}: set JWT_JWKS_URL or JWT_JWKS_FILE, not both`,
    );
  if (parsed.JWT_REQUIRED && !parsed.JWT_JWKS_URL && !parsed.JWT_JWKS_FILE)
    throw new ConfigError('Invalid configuration:\n  JWT_REQUIRED="true": needs JWT_JWKS_URL or JWT_JWKS_FILE to check tokens against');
  return {
    jwks: parsed.JWT_JWKS_URL ? { url: parsed.JWT_JWKS_URL } : parsed.JWT_JWKS_FILE ? { file: parsed.JWT_JWKS_FILE } : null,
    issuer: parsed.JWT_ISSUER ?? null,
    audience: parsed.JWT_AUDIENCE ?? null,
    required: parsed.JWT_REQUIRED,
    scopesClaim: parsed.JWT_SCOPES_CLAIM,
    rejectUnauthorized: parsed.JWT_REJECT_UNAUTHORIZED,
  };
}

/** Limits on one operation. */
export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxTokens: number;
  readonly maxDirectives: number;
  /** Largest estimated cost (fields times list sizes). */
  readonly maxCost: number;
  /** List size assumed by the cost estimate for a list field without a size argument. */
  readonly costListSize: number;
}

/** Bounds on long-lived streams, per client (the rate limiter's key) and in total. */
export interface StreamsConfig {
  /** Open streams one client may hold; more are refused with 429. */
  readonly maxPerClient: number;
  /** Open streams the gateway holds at most, all clients together. */
  readonly maxTotal: number;
  /** Seconds between heartbeats (an SSE comment line) on a stream. */
  readonly heartbeatSeconds: number;
  /** A stream with nothing to send for this long is closed (the client reconnects). */
  readonly idleSeconds: number;
  /** A stream is closed after this long whatever it does (the client reconnects). */
  readonly maxLifetimeSeconds: number;
}

/** How subgraph fetches behave when a subgraph is slow or down. */
export interface ResilienceConfig {
  /** One attempt's limit, in ms. */
  readonly timeoutMs: number;
  /** Per-subgraph limits that replace `timeoutMs`, by subgraph name. */
  readonly timeoutsMs: Readonly<Record<string, number>>;
  /** Further attempts of a failed query fetch (never of a mutation). */
  readonly retries: number;
  /** First retry delay, in ms; it doubles each time (exponential backoff, with jitter). */
  readonly retryDelayMs: number;
  /** Consecutive failures that open a subgraph's circuit. */
  readonly breakerFailures: number;
  /** How long an open circuit refuses fetches before one trial fetch, in ms. */
  readonly breakerResetMs: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Per-subgraph timeouts, `name=ms` pairs separated by commas: `london=2000,south=5000`. */
const timeouts = z
  .string()
  .refine(
    (v) => v.split(',').every((pair) => /^\s*[A-Za-z_][\w-]*\s*=\s*\d+\s*$/.test(pair)),
    'must be name=ms pairs such as london=2000,south=5000',
  )
  .transform((v) =>
    Object.fromEntries(
      v
        .split(',')
        .map((pair) => pair.split('=').map((x) => x.trim()))
        .map(([k, ms]) => [k!, Math.max(10, Number(ms))]),
    ),
  );

/** Browser origins, comma-separated: each `http(s)://host[:port]`, no path. */
/** A comma-separated list of SHA-256 digests in hex (so no key is kept in plain text). */
const sha256List = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean),
  )
  .refine((digests) => digests.every((d) => /^[0-9a-f]{64}$/.test(d)), {
    message: 'must be SHA-256 digests in hex, separated by commas (printf %s "$KEY" | sha256sum)',
  });

const origins = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  )
  .refine(
    (list) => list.every((o) => /^https?:\/\/[A-Za-z0-9.[\]:-]+$/.test(o)),
    'must be comma-separated origins such as https://dash.example.org',
  );

/** Header propagation rules (gateway/headers.ts), from JSON text. */
const headerRulesJson = z.string().transform((text, ctx) => {
  try {
    return parseHeaderRules(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** The same rules from a JSON file. */
const headerRulesFile = z.string().transform((path, ctx) => {
  try {
    return parseHeaderRules(readFileSync(path, 'utf8'));
  } catch (error) {
    const message = (error as NodeJS.ErrnoException).code ? `cannot be read: ${(error as Error).message}` : (error as Error).message;
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  }
});

/** Client names, comma-separated, each as `apollographql-client-name` may carry it. */
const clientNames = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  )
  .refine(
    (names) => names.every((n) => /^[A-Za-z0-9._:@/+-]{1,64}$/.test(n)),
    'must be comma-separated client names such as board-dashboard,explorer',
  );

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', 'on', 'off', '1', '0'], { error: 'must be true or false' })
    .transform((v) => v === 'true' || v === 'on' || v === '1')
    .default(fallback);
/** `PERSISTED_OPERATIONS_ONLY`: a flag as before (true refuses, false serves), or `log`. */
const safelistStage = z
  .enum(['true', 'false', 'on', 'off', '1', '0', 'log'], { error: 'must be true, false or log' })
  .transform((v): SafelistStage => (v === 'log' ? 'log' : v === 'true' || v === 'on' || v === '1' ? 'enforce' : 'off'))
  .default('off');
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
 * `<NAME>_URL` or else `<NAME>_PORT` (defaults 4001-4004) on `HOST`, `SUBGRAPH_SDL_WAIT_MS` (5000), and the cache settings:
 * `REDIS_URL`, `CACHE_MAX_BYTES` (64 MiB), `RESPONSE_CACHE` (true), `ENTITY_CACHE` (true), `CACHE_DEFAULT_MAX_AGE`
 * (60 s), `PERSISTED_OPERATIONS_ONLY` (false; or log), `PLAN_WARMUP_MS` (2000), `PLAN_WARMUP_MAX` (200), `SUBGRAPH_DEDUPE` (true), `OPERATION_DEDUPE` (true),
 * `ENTITY_BATCHING` (true),
 * `QUERY_PLAN_CACHE_MIB` (30), `PERSISTED_OPERATIONS_FILE` (the shipped manifest), and the
 * registry's: those of `loadRegistryStoreConfig`, `REGISTRY_TOKENS_FILE` (default
 * `<REGISTRY_DIR>/tokens.json`), `REGISTRY_SWAP_TIMEOUT_MS` (10000) and `REGISTRY_ALLOWED_HOSTS`
 * (`localhost,127.0.0.1,::1`); and the production settings
 * documented in the README (introspection, limits, rate limiting, CORS, body size, subgraph
 * resilience, logging) and the `OTEL_*` tracing settings of `loadTracingConfig`.
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
    PERSISTED_OPERATIONS_ONLY: safelistStage,
    PLAN_WARMUP_MS: count(2000, 0),
    PLAN_WARMUP_MAX: count(200, 1),
    SUBGRAPH_DEDUPE: flag(true),
    OPERATION_DEDUPE: flag(true),
    ENTITY_BATCHING: flag(true),
    QUERY_PLAN_CACHE_MIB: count(30, 1),
    INTROSPECTION: flag(true),
    INCLUDE_STACKTRACE: flag(false),
    BATCHING: flag(false),
    CORS_ORIGINS: origins.optional(),
    BODY_LIMIT: count(1024 * 1024, 1024),
    // A supplier's server answers here: bounded well under the Dockerfile's 256 MiB heap.
    SUBGRAPH_MAX_RESPONSE_BYTES: count(16 * 1024 * 1024, 1024),
    MAX_DEPTH: count(12, 1),
    MAX_ALIASES: count(30, 0),
    MAX_TOKENS: count(3000, 50),
    MAX_DIRECTIVES: count(20, 0),
    MAX_COST: count(200_000, 1),
    COST_LIST_SIZE: count(10, 1),
    // 300 dashboards behind one address, each load 10 requests, every 30 s: 6,000 a minute; twice that (README).
    RATE_LIMIT_REQUESTS: count(12_000, 0),
    RATE_LIMIT_WINDOW_SECONDS: count(60, 1),
    RATE_LIMIT_API_KEYS: sha256List.optional(),
    REGISTRY_RATE_LIMIT_REQUESTS: count(120, 0),
    REGISTRY_READ_RATE_LIMIT_REQUESTS: count(1200, 0),
    // 300 dashboards behind one address hold two live streams each (600), with room for reloads.
    STREAMS_MAX_PER_CLIENT: count(1000, 1),
    STREAMS_MAX_TOTAL: count(2000, 1),
    STREAMS_HEARTBEAT_SECONDS: count(15, 1),
    STREAMS_IDLE_SECONDS: count(600, 1),
    STREAMS_MAX_LIFETIME_SECONDS: count(3600, 1),
    RECORDED_OPERATIONS_PER_CLIENT: count(50, 1),
    SUBGRAPH_TIMEOUT_MS: count(10_000, 10),
    SUBGRAPH_TIMEOUTS: timeouts.optional(),
    SUBGRAPH_RETRIES: count(2, 0),
    SUBGRAPH_RETRY_DELAY_MS: count(50, 0),
    BREAKER_FAILURES: count(5, 1),
    BREAKER_RESET_MS: count(5000, 100),
    TRUST_PROXY: count(0, 0),
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    PERSISTED_OPERATIONS_FILE: z.string().min(1).optional(),
    REGISTRY_TOKENS_FILE: z.string().min(1).optional(),
    REGISTRY_SWAP_TIMEOUT_MS: count(10_000, 100),
    SUBGRAPH_SDL_WAIT_MS: count(5000, 0),
    REGISTRY_ALLOWED_HOSTS: allowedHosts,
    PROPAGATE_HEADERS: headerRulesJson.optional(),
    PROPAGATE_HEADERS_FILE: headerRulesFile.optional(),
    METRICS_CLIENT_NAMES: clientNames.optional(),
    ...Object.fromEntries(
      SUBGRAPH_NAMES.flatMap((n) => [
        [`${upper(n)}_PORT`, port(SUBGRAPH_PORTS[n])],
        [`${upper(n)}_URL`, httpUrl.optional()],
      ]),
    ),
  };
  const parsed = parseEnv(shape, env) as Record<string, unknown>;
  const listenHost = parsed['HOST'] as string;
  if (parsed['PROPAGATE_HEADERS'] && parsed['PROPAGATE_HEADERS_FILE'])
    throw new ConfigError('Invalid configuration:\n  PROPAGATE_HEADERS and PROPAGATE_HEADERS_FILE are both set: give the rules one way');
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
    subgraphSdlWaitMs: parsed['SUBGRAPH_SDL_WAIT_MS'] as number,
    redisUrl: (parsed['REDIS_URL'] as string | undefined) ?? null,
    cacheMaxBytes: parsed['CACHE_MAX_BYTES'] as number,
    responseCache: parsed['RESPONSE_CACHE'] as boolean,
    entityCache: parsed['ENTITY_CACHE'] as boolean,
    cacheDefaultMaxAge: parsed['CACHE_DEFAULT_MAX_AGE'] as number,
    safelist: parsed['PERSISTED_OPERATIONS_ONLY'] as SafelistStage,
    planWarmup: { budgetMs: parsed['PLAN_WARMUP_MS'] as number, max: parsed['PLAN_WARMUP_MAX'] as number },
    dedupe: parsed['SUBGRAPH_DEDUPE'] as boolean,
    operationDedupe: parsed['OPERATION_DEDUPE'] as boolean,
    entityBatching: parsed['ENTITY_BATCHING'] as boolean,
    queryPlanCacheMiB: parsed['QUERY_PLAN_CACHE_MIB'] as number,
    introspection: parsed['INTROSPECTION'] as boolean,
    includeStacktrace: parsed['INCLUDE_STACKTRACE'] as boolean,
    batching: parsed['BATCHING'] as boolean,
    corsOrigins: (parsed['CORS_ORIGINS'] as string[] | undefined) ?? [],
    bodyLimitBytes: parsed['BODY_LIMIT'] as number,
    subgraphMaxResponseBytes: parsed['SUBGRAPH_MAX_RESPONSE_BYTES'] as number,
    limits: {
      maxDepth: parsed['MAX_DEPTH'] as number,
      maxAliases: parsed['MAX_ALIASES'] as number,
      maxTokens: parsed['MAX_TOKENS'] as number,
      maxDirectives: parsed['MAX_DIRECTIVES'] as number,
      maxCost: parsed['MAX_COST'] as number,
      costListSize: parsed['COST_LIST_SIZE'] as number,
    },
    rateLimitRequests: parsed['RATE_LIMIT_REQUESTS'] as number,
    rateLimitWindowSeconds: parsed['RATE_LIMIT_WINDOW_SECONDS'] as number,
    rateLimitApiKeys: new Set((parsed['RATE_LIMIT_API_KEYS'] as string[] | undefined) ?? []),
    registryRateLimitRequests: parsed['REGISTRY_RATE_LIMIT_REQUESTS'] as number,
    registryReadRateLimitRequests: parsed['REGISTRY_READ_RATE_LIMIT_REQUESTS'] as number,
    streams: {
      maxPerClient: parsed['STREAMS_MAX_PER_CLIENT'] as number,
      maxTotal: parsed['STREAMS_MAX_TOTAL'] as number,
      heartbeatSeconds: parsed['STREAMS_HEARTBEAT_SECONDS'] as number,
      idleSeconds: parsed['STREAMS_IDLE_SECONDS'] as number,
      maxLifetimeSeconds: parsed['STREAMS_MAX_LIFETIME_SECONDS'] as number,
    },
    recordedOperationsPerClient: parsed['RECORDED_OPERATIONS_PER_CLIENT'] as number,
    resilience: {
      timeoutMs: parsed['SUBGRAPH_TIMEOUT_MS'] as number,
      timeoutsMs: (parsed['SUBGRAPH_TIMEOUTS'] as Record<string, number> | undefined) ?? {},
      retries: parsed['SUBGRAPH_RETRIES'] as number,
      retryDelayMs: parsed['SUBGRAPH_RETRY_DELAY_MS'] as number,
      breakerFailures: parsed['BREAKER_FAILURES'] as number,
      breakerResetMs: parsed['BREAKER_RESET_MS'] as number,
    },
    logLevel: parsed['LOG_LEVEL'] as LogLevel,
    trustProxy: parsed['TRUST_PROXY'] as number,
    persistedOperationsFile: (parsed['PERSISTED_OPERATIONS_FILE'] as string | undefined) ?? null,
    registry: {
      ...store,
      enabled: store.enabled && !parsed['SUPERGRAPH_PATH'],
      tokensFile: (parsed['REGISTRY_TOKENS_FILE'] as string | undefined) ?? join(store.dir, 'tokens.json'),
      swapTimeoutMs: parsed['REGISTRY_SWAP_TIMEOUT_MS'] as number,
      allowedHosts: parsed['REGISTRY_ALLOWED_HOSTS'] as HostPolicy,
      checks: loadRegistryCheckSettings(env),
    },
    tracing: loadTracingConfig(env, { name: 'gateway' }),
    headerRules: ((parsed['PROPAGATE_HEADERS'] ?? parsed['PROPAGATE_HEADERS_FILE']) as HeaderRules | undefined) ?? NO_HEADER_RULES,
    metricsClientNames: (parsed['METRICS_CLIENT_NAMES'] as string[] | undefined) ?? [],
    auth: loadAuthConfig(env),
  };
}
