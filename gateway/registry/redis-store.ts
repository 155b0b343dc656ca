/**
 * The registry in Redis, shared by every gateway replica: the current state under one key,
 * its version under another, the history as a list, recorded operations in a hash. A change
 * is one Lua script (compare the version, write, keep history, publish), so replicas racing
 * cannot lose a publish, and every replica hears of it on the channel at once. With Redis down
 * or slow, every call fails within about a second (`RegistryUnavailableError`) instead of
 * queueing: a queued write could land long after its caller was told it failed.
 */
import { Redis } from 'ioredis';
import {
  EMPTY_REGISTRY,
  HISTORY_LIMIT,
  mergeOperations,
  operationKey,
  parseState,
  type RecordedOperation,
  type RegistryState,
  type RegistryStore,
  RegistryUnavailableError,
} from './store.js';

/** How long a call waits for Redis to (re)connect, and for an answer, before it fails. */
const UNAVAILABLE_MS = 1000;

const WITHDRAW = `
local version = tonumber(redis.call('GET', KEYS[1]) or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('SET', KEYS[2], ARGV[3])
end
local head = redis.call('LINDEX', KEYS[3], 0)
if head and cjson.decode(head).version == tonumber(ARGV[1]) then redis.call('LPOP', KEYS[3]) end
redis.call('PUBLISH', KEYS[4], ARGV[2])
return 1
`;

const COMPARE_AND_SET = `
local version = tonumber(redis.call('GET', KEYS[1]) or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('LPUSH', KEYS[3], ARGV[3])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
redis.call('PUBLISH', KEYS[4], ARGV[2])
return 1
`;

export class RedisRegistryStore implements RegistryStore {
  readonly backend = 'REDIS' as const;
  readonly #redis: Redis;
  #subscriber: Redis | null = null;
  readonly #listeners = new Set<() => void>();
  readonly #keys: { version: string; state: string; history: string; channel: string; operations: string };

  constructor(url: string, prefix: string) {
    this.#redis = new Redis(url, {
      retryStrategy: (times) => Math.min(200 * times, 2000),
      enableOfflineQueue: false,
      commandTimeout: UNAVAILABLE_MS,
    });
    this.#redis.on('error', () => {}); // reconnects by itself; callers see failed commands
    this.#keys = {
      version: `${prefix}version`,
      state: `${prefix}state`,
      history: `${prefix}history`,
      channel: `${prefix}changed`,
      operations: `${prefix}operations`,
    };
  }

  /** Runs `command` once Redis is connected (waiting at most `UNAVAILABLE_MS`); its failure is `RegistryUnavailableError`. */
  async #call<T>(command: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.#redis.status !== 'ready') {
      const redis = this.#redis;
      const ready = await new Promise<boolean>((resolve) => {
        const onReady = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          redis.off('ready', onReady);
          resolve(false);
        }, UNAVAILABLE_MS);
        redis.once('ready', onReady);
      });
      if (!ready) throw new RegistryUnavailableError(`Redis (registry) is not connected (${redis.status})`);
    }
    try {
      return await command(this.#redis);
    } catch (error) {
      throw new RegistryUnavailableError(`Redis (registry): ${(error as Error).message}`);
    }
  }

  async current(): Promise<RegistryState> {
    const stored = await this.#call((r) => r.get(this.#keys.state));
    return stored ? parseState(stored, `Redis key ${this.#keys.state}`) : EMPTY_REGISTRY;
  }

  async history(): Promise<RegistryState[]> {
    const stored = await this.#call((r) => r.lrange(this.#keys.history, 0, -1));
    return stored.map((s, i) => parseState(s, `Redis list ${this.#keys.history} item ${i}`));
  }

  async withdraw(made: RegistryState, previous: RegistryState): Promise<boolean> {
    const { version, state, history, channel } = this.#keys;
    const done = await this.#call((r) =>
      r.eval(WITHDRAW, 4, version, state, history, channel, String(made.version), String(previous.version), JSON.stringify(previous)),
    );
    return done === 1;
  }

  async compareAndSet(expected: number, next: RegistryState): Promise<boolean> {
    const { version, state, history, channel } = this.#keys;
    const done = await this.#call((r) =>
      r.eval(
        COMPARE_AND_SET,
        4,
        version,
        state,
        history,
        channel,
        String(expected),
        String(next.version),
        JSON.stringify(next),
        String(HISTORY_LIMIT),
      ),
    );
    return done === 1;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (!this.#subscriber) {
      const subscriber = this.#redis.duplicate();
      this.#subscriber = subscriber;
      subscriber.on('error', () => {});
      subscriber.on('message', () => {
        for (const l of this.#listeners) l();
      });
      // (Re)subscribed: a change may have been missed while away.
      subscriber.on('ready', () => {
        void subscriber.subscribe(this.#keys.channel).then(() => {
          for (const l of this.#listeners) l();
        });
      });
    }
    return () => this.#listeners.delete(listener);
  }

  async recordOperations(operations: readonly RecordedOperation[], perClient: number): Promise<void> {
    if (operations.length === 0) return;
    const key = this.#keys.operations;
    await this.#call((r) => r.hset(key, Object.fromEntries(operations.map((op) => [operationKey(op), JSON.stringify(op)]))));
    // Records past their client's bound go (records from before clients are under their bare name).
    const stored = Object.entries(await this.#call((r) => r.hgetall(key))).map(([field, json]) => ({
      field,
      op: JSON.parse(json) as RecordedOperation,
    }));
    const kept = new Set(
      mergeOperations(
        [],
        stored.map((s) => s.op),
        perClient,
      ),
    );
    const dropped = stored.filter((s) => !kept.has(s.op)).map((s) => s.field);
    if (dropped.length > 0) await this.#call((r) => r.hdel(key, ...dropped));
  }

  async recentOperations(): Promise<RecordedOperation[]> {
    const all = (await this.#call((r) => r.hvals(this.#keys.operations))).map((s) => JSON.parse(s) as RecordedOperation);
    return all.sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    this.#subscriber?.disconnect();
    this.#redis.disconnect();
  }
}
