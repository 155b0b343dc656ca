import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLResponse } from '@apollo/server';
import type { GatewayCache } from './cache.js';
import type { GatewayContext } from './data-source.js';
import type { FeedVersions } from './feed-versions.js';

/** What the response cache keeps for one operation and its variables. */
interface Entry {
  readonly data: Record<string, unknown>;
  /** The feed version of every subgraph the operation touched, when it was answered. */
  readonly versions: Readonly<Record<string, string | null>>;
  readonly storedAt: number;
  readonly maxAge: number;
  /** Every subgraph it came from marked its answer public: it may serve authorised requests. */
  readonly markedPublic: boolean;
}

export interface ResponseCacheOptions {
  readonly cache: GatewayCache;
  readonly feedVersions: FeedVersions;
  /** Changes whenever the supergraph changes. */
  readonly supergraphVersion: () => string;
}

/** Sorts object keys, so `{a,b}` and `{b,a}` variables share an entry. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

type Context = GraphQLRequestContext<GatewayContext>;

/**
 * Whole-response caching for queries. An entry is keyed by the supergraph version, the
 * operation and its variables, and holds the feed version of every subgraph the operation
 * touched: it is used only while all of those are still current, so a new report or schema
 * is never answered from an old entry. Responses with errors and mutations are never cached;
 * a request with an `Authorization` header only shares entries that its subgraphs marked
 * public themselves (`Cache-Control: …, public`), never ones public by our default. The TTL is the operation's cache policy
 * (subgraph hints, or the configured default). Adds `Cache-Control` and `Age` headers and
 * `extensions.cache` (`HIT` / `MISS` / `BYPASS`).
 */
export function responseCachePlugin(options: ResponseCacheOptions): ApolloServerPlugin<GatewayContext> {
  const { cache, feedVersions } = options;
  const current = (versions: Readonly<Record<string, string | null>>) =>
    Object.entries(versions).every(([subgraph, version]) => feedVersions.version(subgraph) === version);

  return {
    async requestDidStart() {
      let key: string | null = null;
      let status: 'HIT' | 'MISS' | 'BYPASS' = 'BYPASS';
      let authorised = false;
      return {
        async responseForOperation(rc: Context): Promise<GraphQLResponse | null> {
          if (rc.operation?.operation !== 'query') return null;
          authorised = Boolean(rc.request.http?.headers.get('authorization'));
          key = `rc:${createHash('sha256')
            .update(
              JSON.stringify([
                options.supergraphVersion(),
                rc.operationName ?? null,
                rc.source ?? '',
                canonical(rc.request.variables ?? {}),
              ]),
            )
            .digest('hex')}`;
          status = 'MISS';
          const json = await cache.get(key);
          if (!json) return null;
          const entry = JSON.parse(json) as Entry;
          const age = Math.floor((Date.now() - entry.storedAt) / 1000);
          if (age >= entry.maxAge || !current(entry.versions)) return null;
          if (authorised && !entry.markedPublic) {
            status = 'BYPASS';
            return null;
          }
          status = 'HIT';
          rc.response.http.headers.set('age', String(age));
          rc.response.http.headers.set('cache-control', `max-age=${entry.maxAge - age}, public`);
          return { http: rc.response.http, body: { kind: 'single', singleResult: { data: entry.data } } };
        },

        async willSendResponse(rc: Context) {
          const body = rc.response.body;
          if (!body || body.kind !== 'single') return;
          const result = body.singleResult;
          result.extensions = { ...result.extensions, cache: { status } };
          if (status !== 'MISS' || !key || result.errors?.length || !result.data) return;
          const policy = rc.overallCachePolicy.policyIfCacheable();
          if (!policy || policy.maxAge <= 0) return;
          const versions: Record<string, string | null> = {};
          // Versions as the operation started: its answer reflects at least these (reports
          // are announced only once visible to operations that start later).
          const atStart = rc.contextValue.versions;
          for (const subgraph of rc.contextValue.touched) {
            const version = atStart.has(subgraph) ? atStart.get(subgraph) : null;
            // An unknown version (its stream is down): do not cache what might be stale.
            if (version === undefined) return;
            versions[subgraph] = version;
          }
          const touched = rc.contextValue.touched;
          const markedPublic = touched.size > 0 && [...touched].every((s) => rc.contextValue.markedPublic.has(s));
          // An authorised request's answer is kept only when its subgraphs marked it public.
          if (authorised && !markedPublic) {
            result.extensions = { ...result.extensions, cache: { status: 'BYPASS' } };
            return;
          }
          const entry: Entry = { data: result.data, versions, storedAt: Date.now(), maxAge: policy.maxAge, markedPublic };
          await cache.set(key, JSON.stringify(entry), { ttl: policy.maxAge });
        },
      };
    },
  };
}
