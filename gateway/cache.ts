import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { RedisLink } from '../schema/redis-link.js';

/** Whether the cache answers, for `/ready` and logs. */
export interface CacheHealth {
  readonly backend: 'MEMORY' | 'REDIS';
  readonly available: boolean;
  readonly message: string | null;
}

/**
 * The gateway's one cache: Apollo's `KeyValueCache` (so Apollo Server's own features such as
 * automatic persisted queries use it too), plus its health and a way to close it. A cache
 * that fails answers "miss" and drops writes: it never fails a request.
 */
export interface GatewayCache extends KeyValueCache<string> {
  /** Several values at once, in key order (one `MGET` in Redis). */
  getMany(keys: readonly string[]): Promise<(string | undefined)[]>;
  /** Several values at once, with one TTL (one pipeline in Redis). */
  setMany(entries: readonly (readonly [string, string])[], options?: KeyValueCacheSetOptions): Promise<void>;
  /** `get` without a promise, for a cache that answers without I/O (the in-memory one); absent otherwise. */
  getNow?(key: string): string | undefined;
  health(): CacheHealth;
  close(): Promise<void>;
}

/** Any character outside Latin-1: V8 then keeps the whole string at two bytes a character. */
const TWO_BYTE = /[^\u0000-\u00ff]/;

/** The bytes V8 holds a string's characters in (one each for Latin-1 strings, else two). */
export function bytesOf(text: string): number {
  return TWO_BYTE.test(text) ? text.length * 2 : text.length;
}

/** The embedded default: an LRU in this process, bounded in bytes (`CACHE_MAX_BYTES`) as V8 stores them. */
export class MemoryCache implements GatewayCache {
  readonly #lru: InMemoryLRUCache<string>;

  constructor(maxBytes: number) {
    this.#lru = new InMemoryLRUCache<string>({
      maxSize: maxBytes,
      sizeCalculation: (value: string, key: string) => bytesOf(value) + bytesOf(key),
    });
  }

  get(key: string): Promise<string | undefined> {
    return this.#lru.get(key);
  }

  getNow(key: string): string | undefined {
    // Apollo's `InMemoryLRUCache` reads its LRU (`cache`, private in its types only) at once, behind a promise.
    return (this.#lru as unknown as { cache: { get(key: string): string | undefined } }).cache.get(key);
  }

  set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    return this.#lru.set(key, value, options);
  }

  delete(key: string): Promise<boolean | void> {
    return this.#lru.delete(key);
  }

  getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    return Promise.all(keys.map((key) => this.#lru.get(key)));
  }

  async setMany(entries: readonly (readonly [string, string])[], options?: KeyValueCacheSetOptions): Promise<void> {
    for (const [key, value] of entries) await this.#lru.set(key, value, options);
  }

  health(): CacheHealth {
    return { backend: 'MEMORY', available: true, message: null };
  }

  async close(): Promise<void> {}
}

/**
 * Redis, shared by every gateway replica. While Redis does not answer, reads miss and
 * writes are dropped (the gateway serves uncached); it logs once per outage, reconnects by
 * itself and caches again.
 */
export class RedisCache implements GatewayCache {
  readonly #link: RedisLink;
  readonly #prefix: string;

  constructor(options: { url: string; prefix: string; log?: (line: string) => void }) {
    this.#prefix = options.prefix;
    this.#link = new RedisLink(options.url, { what: 'gateway cache', ...(options.log ? { log: options.log } : {}) });
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.#link.available) return undefined;
    try {
      return (await this.#link.redis.get(this.#prefix + key)) ?? undefined;
    } catch (error) {
      this.#link.failed(error as Error);
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    if (!this.#link.available) return;
    try {
      const ttl = options?.ttl;
      if (ttl) await this.#link.redis.set(this.#prefix + key, value, 'PX', Math.max(1, Math.round(ttl * 1000)));
      else await this.#link.redis.set(this.#prefix + key, value);
    } catch (error) {
      this.#link.failed(error as Error);
    }
  }

  async delete(key: string): Promise<boolean | void> {
    if (!this.#link.available) return;
    try {
      return (await this.#link.redis.del(this.#prefix + key)) > 0;
    } catch (error) {
      this.#link.failed(error as Error);
    }
  }

  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (!this.#link.available || keys.length === 0) return keys.map(() => undefined);
    try {
      return (await this.#link.redis.mget(...keys.map((k) => this.#prefix + k))).map((v) => v ?? undefined);
    } catch (error) {
      this.#link.failed(error as Error);
      return keys.map(() => undefined);
    }
  }

  async setMany(entries: readonly (readonly [string, string])[], options?: KeyValueCacheSetOptions): Promise<void> {
    if (!this.#link.available || entries.length === 0) return;
    const ttl = options?.ttl ? Math.max(1, Math.round(options.ttl * 1000)) : null;
    const pipeline = this.#link.redis.pipeline();
    for (const [key, value] of entries) {
      if (ttl) pipeline.set(this.#prefix + key, value, 'PX', ttl);
      else pipeline.set(this.#prefix + key, value);
    }
    try {
      await pipeline.exec();
    } catch (error) {
      this.#link.failed(error as Error);
    }
  }

  health(): CacheHealth {
    return { backend: 'REDIS', available: this.#link.available, message: this.#link.problem && `${this.#link.problem}: serving uncached` };
  }

  async close(): Promise<void> {
    this.#link.close();
  }
}

/** The cache the settings ask for: Redis when a URL is given, memory otherwise. */
export function createCache(options: { redisUrl: string | null; maxBytes: number; log?: (line: string) => void }): GatewayCache {
  return options.redisUrl
    ? new RedisCache({ url: options.redisUrl, prefix: 'msg:gateway:', ...(options.log ? { log: options.log } : {}) })
    : new MemoryCache(options.maxBytes);
}
