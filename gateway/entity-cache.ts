import { createHash } from 'node:crypto';
import type { GatewayCache } from './cache.js';

/** Whether a subgraph fetch is an entity lookup (`_entities(representations: …)`). */
export function isEntitiesFetch(query: string, variables: Record<string, unknown> | undefined): boolean {
  return Array.isArray(variables?.['representations']) && /\b_entities\s*\(\s*representations\s*:/.test(query);
}

/**
 * Entity results of subgraph fetches, one entry per entity: keyed by the subgraph, its feed
 * version (as the operation started), the selection and other variables, and the entity's
 * representation. So a query that misses the response cache still skips the subgraph work
 * it has done before, and a new report (a new version) is never answered from an old entry.
 */
export class EntityCache {
  readonly #cache: GatewayCache;
  readonly #ttl: number;

  constructor(cache: GatewayCache, ttlSeconds: number) {
    this.#cache = cache;
    this.#ttl = ttlSeconds;
  }

  /** The cache keys of a fetch's representations, in order. */
  keys(subgraph: string, version: string | null, query: string, variables: Record<string, unknown>): string[] {
    const { representations, ...rest } = variables;
    const selection = createHash('sha256')
      .update(JSON.stringify([query, rest]))
      .digest('hex')
      .slice(0, 24);
    const prefix = `ec:${subgraph}:${version ?? '-'}:${selection}:`;
    return (representations as unknown[]).map((representation) => prefix + JSON.stringify(representation));
  }

  /** The cached result of each key, or undefined where there is none. */
  async get(keys: readonly string[]): Promise<unknown[]> {
    return (await this.#cache.getMany(keys)).map((value) => (value === undefined ? undefined : (JSON.parse(value) as unknown)));
  }

  async set(entries: readonly (readonly [string, unknown])[]): Promise<void> {
    if (this.#ttl <= 0) return;
    await this.#cache.setMany(
      entries.map(([key, value]) => [key, JSON.stringify(value)] as const),
      { ttl: this.#ttl },
    );
  }
}
