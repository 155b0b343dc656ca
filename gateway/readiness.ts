/**
 * `GET /ready`: whether this replica should get traffic, with what an operator needs to see
 * why not: the supergraph served and its version, every subgraph's state (answering now,
 * its circuit breaker) and Redis (cache and rate limiter). A subgraph or Redis being down
 * makes the replica `degraded`, still 200: it keeps answering with partial data or without
 * cache, and another replica would be no better. Only a replica without a supergraph is 503.
 */
import type { Express } from 'express';
import type { CacheHealth } from './cache.js';
import type { BreakerState } from './resilience.js';
import { fetchSubgraph } from './subgraph-fetch.js';

export interface ReadinessSources {
  /** The supergraph version served, or null before one is loaded. */
  readonly supergraphVersion: () => string | null;
  readonly subgraphs: () => readonly { readonly name: string; readonly url: string }[];
  readonly breaker: (subgraph: string) => BreakerState | null;
  readonly cache: () => CacheHealth;
  readonly rateLimiter: () => { configured: boolean; available: boolean; problem: string | null };
  /** The JWKS tokens are checked against (null: no JWKS configured); an unavailable one makes the replica not ready. */
  readonly jwks?: () => Promise<{ readonly source: string; readonly available: boolean; readonly problem: string | null } | null>;
  /** How long a subgraph probe may take, in ms. */
  readonly probeMs?: number;
}

/** Asks a subgraph for `{ __typename }`: any GraphQL server answers it, ours or a supplier's. */
async function probe(url: string, ms: number): Promise<{ reachable: boolean; problem: string | null }> {
  try {
    const response = await fetchSubgraph(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
      signal: AbortSignal.timeout(ms),
    });
    await response.arrayBuffer();
    return response.ok ? { reachable: true, problem: null } : { reachable: false, problem: `answered HTTP ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { reachable: false, problem: cause ?? (error as Error).name };
  }
}

export function readinessRoute(app: Express, sources: ReadinessSources): void {
  app.get('/ready', async (_req, res) => {
    const version = sources.supergraphVersion();
    const subgraphs = await Promise.all(
      sources
        .subgraphs()
        .map(async ({ name, url }) => ({ name, ...(await probe(url, sources.probeMs ?? 1000)), breaker: sources.breaker(name) })),
    );
    const cache = sources.cache();
    const limiter = sources.rateLimiter();
    const redisConfigured = cache.backend === 'REDIS' || limiter.configured;
    const redis = {
      configured: redisConfigured,
      cache: cache.backend === 'REDIS' ? (cache.available ? 'up' : 'down') : 'memory',
      rateLimiter: limiter.configured ? (limiter.available ? 'up' : 'down') : 'memory',
      problem: cache.message ?? limiter.problem,
    };
    const degraded = subgraphs.some((s) => !s.reachable) || redis.cache === 'down' || redis.rateLimiter === 'down';
    const jwks = (await sources.jwks?.()) ?? null;
    const ready = version !== null && (jwks === null || jwks.available);
    const status = !ready ? 'not-ready' : degraded ? 'degraded' : 'ready';
    res
      .status(ready ? 200 : 503)
      .json({ status, supergraph: { loaded: version !== null, version }, subgraphs, redis, ...(jwks ? { jwks } : {}) });
  });
}
