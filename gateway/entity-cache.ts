import type { GatewayCache } from './cache.js';
import { cacheKey } from './cache-key.js';

/** Whether a subgraph fetch is an entity lookup (`_entities(representations: …)`). */
export function isEntitiesFetch(query: string, variables: Record<string, unknown> | undefined): boolean {
  return Array.isArray(variables?.['representations']) && /\b_entities\s*\(\s*representations\s*:/.test(query);
}

/** A cached entity and how many more seconds it may be used. */
export interface CachedEntity {
  readonly entity: unknown;
  readonly maxAge: number;
}

/** As stored: the entity and when it expires (ms since epoch). */
interface Stored {
  readonly entity: unknown;
  readonly expires: number;
}

/**
 * Entity results of subgraph fetches, one entry per entity: keyed by the subgraph, its feed
 * version and mutation epoch (as the operation started), the selection and other variables,
 * and the entity's representation. So a query that misses the response cache still skips the
 * subgraph work it has done before, and neither a new report (a new version) nor a mutation
 * through the gateway (a new epoch) is answered from an old entry. An entity is kept for as
 * long as the subgraph answer it came in allows (`cache-policy.ts`), and a hit restricts the
 * operation's cache policy to what is left of that.
 */
export class EntityCache {
  readonly #cache: GatewayCache;

  constructor(cache: GatewayCache) {
    this.#cache = cache;
  }

  /**
   * The cache keys of a fetch's representations, in order; null when they cannot be keyed.
   * `headers`: the client headers the subgraph receives with the fetch (`headers.ts`), which may change its answer.
   */
  keys(
    subgraph: string,
    version: string | null,
    epoch: string,
    query: string,
    variables: Record<string, unknown>,
    headers: Readonly<Record<string, string>> | null = null,
  ): string[] | null {
    const { representations, ...rest } = variables;
    const selection = headers === null ? cacheKey('sel', query, rest) : cacheKey('sel', query, rest, headers);
    if (!selection) return null;
    const keys = (representations as unknown[]).map((representation) =>
      cacheKey('ec', subgraph, version, epoch, selection, representation),
    );
    return keys.every((key) => key !== null) ? (keys as string[]) : null;
  }

  /** The cached entity of each key, or undefined where there is none (or it has expired). */
  async get(keys: readonly string[]): Promise<(CachedEntity | undefined)[]> {
    const now = Date.now();
    return (await this.#cache.getMany(keys)).map((value) => {
      if (value === undefined) return undefined;
      const stored = JSON.parse(value) as Stored;
      const maxAge = Math.floor((stored.expires - now) / 1000);
      return maxAge > 0 ? { entity: stored.entity, maxAge } : undefined;
    });
  }

  /** Keeps entities for `maxAge` seconds. */
  async set(entries: readonly (readonly [string, unknown])[], maxAge: number): Promise<void> {
    if (maxAge <= 0) return;
    const expires = Date.now() + maxAge * 1000;
    await this.#cache.setMany(
      entries.map(([key, entity]) => [key, JSON.stringify({ entity, expires } satisfies Stored)] as const),
      { ttl: maxAge },
    );
  }
}
