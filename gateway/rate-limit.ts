/**
 * Rate limiting per client key: the `x-api-key` header when it is one of the known keys
 * (`RATE_LIMIT_API_KEYS`, kept as SHA-256 digests), else the client's IP, so a client cannot
 * buy itself a fresh budget by sending a new made-up key with each request. Each endpoint
 * family has a budget of its own (`/graphql`: `RATE_LIMIT_REQUESTS`; `/registry`'s changes:
 * `REGISTRY_RATE_LIMIT_REQUESTS`, its reads: `REGISTRY_READ_RATE_LIMIT_REQUESTS`), so a busy dashboard fleet behind one address never
 * blocks a supplier's publish from it, and each refuses in its own body shape. Counted in
 * Redis when `REDIS_URL` is set, so every gateway replica shares one budget per client; in
 * memory otherwise. Redis going away never fails a request: the count falls back to memory
 * (logged once, through `RedisLink`) until it is back. Over the limit: HTTP 429 with
 * `Retry-After` and a `RATE_LIMITED` error.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ErrorCode } from '../schema/errors.js';
import { sendError } from '../schema/http.js';
import { RedisLink } from '../schema/redis-link.js';

export interface RateLimitOptions {
  readonly windowSeconds: number;
  /** SHA-256 digests (hex) of the API keys that are clients of their own. */
  readonly apiKeys?: ReadonlySet<string>;
  readonly redisUrl: string | null;
  readonly log?: (line: string) => void;
}

/** How a budget answers a refused request: the endpoint's own error shape, status 429. */
export type Refusal = (res: Response, code: ErrorCode, message: string) => void;

/** One endpoint family's budget. */
export interface Budget {
  /** Its name: the Redis keys it counts under, and the message. */
  readonly name: string;
  /** Requests per client key per window; 0 turns it off. */
  readonly requests: number;
  /** What its refusal calls it (`/<name>` by default). */
  readonly label?: string;
  readonly refuse: Refusal;
}

/** `/graphql`'s refusal: a GraphQL error response. */
export const graphqlRefusal: Refusal = (res, code, message) => sendError(res, 429, code, message);

/** `/registry`'s refusal: the registry's `{ error: { code, message } }` (gateway/registry/routes.ts). */
export const registryRefusal: Refusal = (res, code, message) => {
  res.status(429).json({ error: { code, message } });
};

/** The client key of a known API key (`key:<digest>`), or null when `apiKey` is none of them. */
export function knownApiKey(apiKey: string | undefined, apiKeys: ReadonlySet<string>): string | null {
  if (!apiKey) return null;
  const digest = createHash('sha256').update(apiKey).digest('hex');
  return apiKeys.has(digest) ? `key:${digest.slice(0, 24)}` : null;
}

/**
 * The address a client is counted under. An IPv6 client holds a whole /64 (its privacy
 * addresses change at will): counted per address, it would open `STREAMS_MAX_PER_CLIENT`
 * streams (and spend a rate budget) from each of 2^64 addresses, so an IPv6 address counts as
 * its /64. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) counts as the IPv4 address it is.
 */
export function addressKey(address: string): string {
  const bare = address.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const before = groups(head);
  const after = groups(tail);
  const all = tail === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return `${all
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** The key a request is counted under: a known API key's digest, else the client's address (an IPv6 one by its /64). */
export function clientKey(req: Request, apiKeys: ReadonlySet<string> = new Set()): string {
  const apiKey = req.headers['x-api-key'];
  return (
    knownApiKey(Array.isArray(apiKey) ? apiKey[0] : apiKey, apiKeys) ?? `ip:${addressKey(req.ip ?? req.socket.remoteAddress ?? 'unknown')}`
  );
}

/** One request counted: allowed (with what is left), or refused for how long. */
export type RateVerdict =
  | { readonly allowed: true; readonly remaining: number }
  | { readonly allowed: false; readonly retryAfterSeconds: number; readonly message: string };

/** One budget's counters: in Redis while it is there, in memory otherwise. */
interface Counters {
  readonly memory: RateLimiterMemory;
  readonly redis: RateLimiterRedis | null;
}

export class RateLimit {
  readonly #options: RateLimitOptions;
  #link: RedisLink | null = null;

  constructor(options: RateLimitOptions) {
    this.#options = options;
  }

  /** The Redis connection, opened by the first budget that counts (none while every budget is off). */
  #redis(): RedisLink | null {
    const { redisUrl, log } = this.#options;
    if (redisUrl) this.#link ??= new RedisLink(redisUrl, { what: 'gateway rate limiter', ...(log ? { log } : {}) });
    return this.#link;
  }

  /** Whether Redis is configured for the limiter, and its problem if any (for `/ready`). */
  redisHealth(): { configured: boolean; available: boolean; problem: string | null } {
    return { configured: this.#link !== null, available: this.#link?.available ?? false, problem: this.#link?.problem ?? null };
  }

  async #consume(counters: Counters, key: string): Promise<RateLimiterRes> {
    if (counters.redis && this.#link?.available) {
      try {
        return await counters.redis.consume(key);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw error;
        this.#link.failed(error as Error);
      }
    }
    return counters.memory.consume(key);
  }

  /**
   * Counts every request against `budget`, per client key; past it, the budget's refusal.
   * `count` is the budget's counter when something else counts against it too.
   */
  middleware(budget: Budget, count = this.counter(budget)): RequestHandler {
    return (req, res, next) => {
      // An idle budget lets the request on at once (a response-cache hit is then answered at once).
      if (req.method === 'OPTIONS' || budget.requests === 0) return next();
      count(req).then((verdict) => {
        if (verdict === null) return next();
        res.setHeader('x-ratelimit-limit', String(budget.requests));
        if (verdict.allowed) {
          res.setHeader('x-ratelimit-remaining', String(verdict.remaining));
          return next();
        }
        res.setHeader('retry-after', String(verdict.retryAfterSeconds));
        res.setHeader('x-ratelimit-remaining', '0');
        budget.refuse(res, ErrorCode.RATE_LIMITED, verdict.message);
      });
    };
  }

  /**
   * Counts one request against `budget` and says whether it may go on (null: the budget is
   * off, or the limiter failed, which never refuses). The middleware uses it, and so does a
   * WebSocket upgrade, which no Express middleware sees.
   */
  counter(budget: Budget): (req: Request) => Promise<RateVerdict | null> {
    const { requests } = budget;
    const { windowSeconds } = this.#options;
    // The /graphql budget keeps the keys it always had, so a rolling deploy shares the counts.
    const limits = {
      points: requests,
      duration: windowSeconds,
      keyPrefix: budget.name === 'graphql' ? 'msg:ratelimit' : `msg:ratelimit:${budget.name}`,
    };
    const link = requests > 0 ? this.#redis() : null;
    const counters: Counters = {
      memory: new RateLimiterMemory(limits),
      redis: link ? new RateLimiterRedis({ ...limits, storeClient: link.redis }) : null,
    };
    return (req) => {
      if (requests === 0) return Promise.resolve(null);
      return this.#consume(counters, clientKey(req, this.#options.apiKeys)).then(
        (result): RateVerdict => ({ allowed: true, remaining: result.remainingPoints }),
        (rejected: unknown): RateVerdict | null => {
          if (!(rejected instanceof RateLimiterRes)) return null; // never a 500 for the limiter's sake
          const seconds = Math.max(1, Math.ceil(rejected.msBeforeNext / 1000));
          return {
            allowed: false,
            retryAfterSeconds: seconds,
            message: `Rate limit of ${requests} requests per ${windowSeconds} s on ${budget.label ?? `/${budget.name}`} exceeded for this client; retry after ${seconds} s`,
          };
        },
      );
    };
  }

  close(): void {
    this.#link?.close();
  }
}
