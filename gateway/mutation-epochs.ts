import { randomUUID } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayCache } from './cache.js';
import type { GatewayContext } from './data-source.js';

/** Each subgraph's mutation epoch as an operation started; null where it could not be read. */
export type Epochs = ReadonlyMap<string, string | null>;

/**
 * Per-subgraph mutation epochs: an opaque value that changes whenever a mutation through the
 * gateway fetched from the subgraph. Response- and entity-cache entries record the epochs of
 * the subgraphs they came from and are used only while those are still current, so nothing
 * kept before a mutation is served after it. The epochs live in the cache backend, so with
 * Redis every replica sees a mutation made through any of them. An epoch that is missing
 * (never set, evicted, Redis flushed) is started afresh with a new random value, so entries
 * made before can never match it again. A bump the cache could not take (Redis down) is made
 * again as soon as it answers, before this gateway reads anything from it.
 *
 * With the in-memory cache (one process, nothing shared) the epochs are a map of this
 * object's own: read without a lookup, never evicted. With Redis they are read with the
 * entry they are checked against, in the same `MGET` (`withEntry`): a hit costs one round
 * trip, and a mutation through any replica is seen by the next lookup of every replica, with
 * no window.
 */
export class MutationEpochs {
  readonly #cache: GatewayCache;
  /** Subgraphs whose bump has not reached the cache yet. */
  readonly #pending = new Set<string>();
  /** The epochs themselves, when the cache is this process's memory; null with Redis. */
  readonly #local: Map<string, string> | null;

  constructor(cache: GatewayCache) {
    this.#cache = cache;
    this.#local = cache.health().backend === 'MEMORY' ? new Map() : null;
  }

  /** The cache key holding a subgraph's epoch. */
  static key(subgraph: string): string {
    return `me:${subgraph}`;
  }

  /**
   * The current epochs of `subgraphs`, in one lookup (an `MGET` with Redis); missing ones are
   * started first. Read as an operation starts, before any of its fetches: an epoch started
   * (or bumped by a mutation) meanwhile only turns its entries into misses.
   */
  async read(subgraphs: Iterable<string>): Promise<Epochs> {
    // A copy: the operation keeps the epochs it started with, whatever a mutation does meanwhile.
    if (this.#local) return new Map(this.#localEpochs(subgraphs));
    if (this.#pending.size > 0 && this.#cache.health().available) await this.bump(this.#pending);
    const names = [...subgraphs];
    const values = await this.#cache.getMany(names.map(MutationEpochs.key));
    const missing = names.flatMap((name, i) => (values[i] === undefined ? [[name, randomUUID()] as const] : []));
    if (missing.length > 0) await this.#set(missing);
    const started = new Map(missing);
    return new Map(names.map((name, i) => [name, values[i] ?? started.get(name)!]));
  }

  /** The local epochs of `subgraphs`, missing ones started. */
  #localEpochs(subgraphs: Iterable<string>): Epochs {
    const local = this.#local!;
    for (const name of subgraphs) if (!local.has(name)) local.set(name, randomUUID());
    return local;
  }

  /**
   * The value at `key` and the current epochs of `subgraphs`, in one lookup (one `MGET`
   * with Redis). A missing epoch is not started here: it reads as null, which no entry
   * matches.
   */
  async withEntry(key: string, subgraphs: readonly string[]): Promise<{ stored: string | undefined; epochs: Epochs }> {
    // Checked at once against the entry: the live map will do.
    if (this.#local) return { stored: await this.#cache.get(key), epochs: this.#local };
    const [stored, ...values] = await this.#cache.getMany([key, ...subgraphs.map(MutationEpochs.key)]);
    return { stored, epochs: new Map(subgraphs.map((name, i) => [name, values[i] ?? null])) };
  }

  /**
   * `withEntry` without a promise, when both the epochs and the value live in this process's
   * memory (the in-memory cache); undefined otherwise (Redis): use `withEntry`.
   */
  entryNow(key: string): { stored: string | undefined; epochs: Epochs } | undefined {
    if (!this.#local || !this.#cache.getNow) return undefined;
    return { stored: this.#cache.getNow(key), epochs: this.#local };
  }

  /** Whether a bump has yet to reach the cache: until it has, nothing may be served without `read`. */
  get pending(): boolean {
    return this.#pending.size > 0;
  }

  /** Gives each subgraph a new epoch: everything cached from it before is no longer used. */
  async bump(subgraphs: Iterable<string>): Promise<void> {
    const names = [...subgraphs];
    if (this.#local) {
      for (const name of names) this.#local.set(name, randomUUID());
      return;
    }
    await this.#set(names.map((name) => [name, randomUUID()] as const));
    const reached = this.#cache.health().available;
    for (const name of names) {
      if (reached) this.#pending.delete(name);
      else this.#pending.add(name);
    }
  }

  #set(epochs: readonly (readonly [string, string])[]): Promise<void> {
    // No TTL: an epoch must outlive every entry made under it.
    return this.#cache.setMany(epochs.map(([name, epoch]) => [MutationEpochs.key(name), epoch] as const));
  }

  /**
   * Bumps the epoch of every subgraph a mutation's plan fetched from, before its answer is
   * sent (so the client's next query never sees an entry from before), whatever the outcome.
   */
  plugin(): ApolloServerPlugin<GatewayContext> {
    return {
      requestDidStart: async () => ({
        willSendResponse: async (rc) => {
          if (rc.operation?.operation !== 'mutation' || rc.contextValue.touched.size === 0) return;
          await this.bump(rc.contextValue.touched);
        },
      }),
    };
  }
}
