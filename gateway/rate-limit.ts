/**
 * Rate limiting per client key: the `x-api-key` header when it is one of the known keys
 * (`RATE_LIMIT_API_KEYS`, kept as SHA-256 digests), else the client's IP, so a client cannot
 * buy itself a fresh budget by sending a new made-up key with each request. Counted in Redis when `REDIS_URL` is set, so every
 * gateway replica shares one budget per client; in memory otherwise. Redis going away never
 * fails a request: the count falls back to memory (logged once, through `RedisLink`) until it
 * is back. Over the limit: HTTP 429 with `Retry-After` and a `RATE_LIMITED` error.
 */
import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ErrorCode } from '../schema/errors.js';
import { sendError } from '../subgraphs/kit/http.js';
import { RedisLink } from '../subgraphs/kit/redis-link.js';

export interface RateLimitOptions {
  /** Requests per client key per window; 0 turns rate limiting off. */
  readonly requests: number;
  readonly windowSeconds: number;
  /** SHA-256 digests (hex) of the API keys that are clients of their own. */
  readonly apiKeys?: ReadonlySet<string>;
  readonly redisUrl: string | null;
  readonly log?: (line: string) => void;
}

/** The key a request is counted under: a known API key's digest, else the client's address. */
export function clientKey(req: Request, apiKeys: ReadonlySet<string> = new Set()): string {
  const apiKey = req.headers['x-api-key'];
  const key = Array.isArray(apiKey) ? apiKey[0] : apiKey;
  if (key) {
    const digest = createHash('sha256').update(key).digest('hex');
    if (apiKeys.has(digest)) return `key:${digest.slice(0, 24)}`;
  }
  return `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}

export class RateLimit {
  readonly #options: RateLimitOptions;
  readonly #memory: RateLimiterMemory;
  readonly #link: RedisLink | null;
  readonly #redis: RateLimiterRedis | null;

  constructor(options: RateLimitOptions) {
    this.#options = options;
    const limits = { points: options.requests, duration: options.windowSeconds, keyPrefix: 'msg:ratelimit' };
    this.#memory = new RateLimiterMemory(limits);
    this.#link =
      options.redisUrl && options.requests > 0
        ? new RedisLink(options.redisUrl, { what: 'gateway rate limiter', ...(options.log ? { log: options.log } : {}) })
        : null;
    this.#redis = this.#link ? new RateLimiterRedis({ ...limits, storeClient: this.#link.redis }) : null;
  }

  /** Where requests are counted now: `redis`, `memory` (Redis configured but down, or none), or `off`. */
  get backend(): 'redis' | 'memory' | 'off' {
    if (this.#options.requests === 0) return 'off';
    return this.#link?.available ? 'redis' : 'memory';
  }

  /** Whether Redis is configured for the limiter, and its problem if any (for `/ready`). */
  redisHealth(): { configured: boolean; available: boolean; problem: string | null } {
    return { configured: this.#link !== null, available: this.#link?.available ?? false, problem: this.#link?.problem ?? null };
  }

  async #consume(key: string): Promise<RateLimiterRes> {
    if (this.#redis && this.#link?.available) {
      try {
        return await this.#redis.consume(key);
      } catch (error) {
        if (error instanceof RateLimiterRes) throw error;
        this.#link.failed(error as Error);
      }
    }
    return this.#memory.consume(key);
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      if (this.#options.requests === 0 || req.method === 'OPTIONS') return next();
      this.#consume(clientKey(req, this.#options.apiKeys)).then(
        (result) => {
          res.setHeader('x-ratelimit-limit', String(this.#options.requests));
          res.setHeader('x-ratelimit-remaining', String(result.remainingPoints));
          next();
        },
        (rejected: unknown) => {
          if (!(rejected instanceof RateLimiterRes)) return next(); // never a 500 for the limiter's sake
          const seconds = Math.max(1, Math.ceil(rejected.msBeforeNext / 1000));
          res.setHeader('retry-after', String(seconds));
          res.setHeader('x-ratelimit-limit', String(this.#options.requests));
          res.setHeader('x-ratelimit-remaining', '0');
          sendError(
            res,
            429,
            ErrorCode.RATE_LIMITED,
            `Rate limit of ${this.#options.requests} requests per ${this.#options.windowSeconds} s exceeded for this client; retry after ${seconds} s`,
          );
        },
      );
    };
  }

  close(): void {
    this.#link?.close();
  }
}
