import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLResponse } from '@apollo/server';
import type { NextFunction, Request, Response } from 'express';
import type { GatewayCache } from './cache.js';
import type { GatewayContext } from './data-source.js';
import type { FeedVersions } from './feed-versions.js';

/** What the response cache keeps beside an answer's data. */
interface EntryMeta {
  /** The feed version of every subgraph the operation touched, when it was answered. */
  readonly versions: Readonly<Record<string, string | null>>;
  readonly storedAt: number;
  readonly maxAge: number;
  /** Every subgraph it came from marked its answer public: it may serve authorised requests. */
  readonly markedPublic: boolean;
}

/** An entry as read back: its metadata and its `data` still serialised. */
interface StoredEntry {
  readonly meta: EntryMeta;
  readonly dataJson: string;
}

export interface ResponseCacheOptions {
  readonly cache: GatewayCache;
  readonly feedVersions: FeedVersions;
  /** Changes whenever the supergraph changes. */
  readonly supergraphVersion: () => string;
  /** Told of every hit the fast path answers (before Apollo, whose plugins never see it). */
  readonly onHit?: (req: Request, operationName: string | null, query: string) => void;
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

/**
 * The response cache's rules, shared by the Apollo plugin (which stores answers and serves
 * hits for any request) and the fast path (which serves hits before Apollo parses anything).
 */
class ResponseCache {
  constructor(private readonly options: ResponseCacheOptions) {}

  /** The entry key: supergraph version, operation name and text as sent, canonical variables. */
  key(operationName: string | null | undefined, query: string, variables: unknown): string {
    const material = JSON.stringify([this.options.supergraphVersion(), operationName ?? null, query, canonical(variables ?? {})]);
    return `rc:${createHash('sha256').update(material).digest('hex')}`;
  }

  /** A usable entry: fresh, from the current feed versions, and allowed for this request. */
  async read(key: string, authorised: boolean): Promise<{ entry: StoredEntry; age: number } | 'bypass' | null> {
    const stored = await this.options.cache.get(key);
    if (!stored) return null;
    const newline = stored.indexOf('\n');
    const meta = JSON.parse(stored.slice(0, newline)) as EntryMeta;
    const age = Math.floor((Date.now() - meta.storedAt) / 1000);
    const current = Object.entries(meta.versions).every(([subgraph, version]) => this.options.feedVersions.version(subgraph) === version);
    if (age >= meta.maxAge || !current) return null;
    if (authorised && !meta.markedPublic) return 'bypass';
    return { entry: { meta, dataJson: stored.slice(newline + 1) }, age };
  }

  async write(key: string, data: unknown, meta: EntryMeta): Promise<void> {
    await this.options.cache.set(key, `${JSON.stringify(meta)}\n${JSON.stringify(data)}`, { ttl: meta.maxAge });
  }
}

const cacheControl = (meta: EntryMeta, age: number) => `max-age=${meta.maxAge - age}, public`;

type Context = GraphQLRequestContext<GatewayContext>;

/**
 * Whole-response caching for queries. An entry is keyed by the supergraph version, the
 * operation and its variables, and holds the feed version of every subgraph the operation
 * touched: it is used only while all of those are still current, so a new report or schema
 * is never answered from an old entry. Responses with errors and mutations are never cached;
 * a request with an `Authorization` header only shares entries that its subgraphs marked
 * public themselves (`Cache-Control: …, public`), never ones public by our default.
 * The TTL is the operation's cache policy (subgraph hints, or the configured default). Adds
 * `Cache-Control` and `Age` headers and `extensions.cache` (`HIT` / `MISS` / `BYPASS`).
 */
export function responseCache(options: ResponseCacheOptions): {
  plugin: ApolloServerPlugin<GatewayContext>;
  fastPath: (req: Request, res: Response, next: NextFunction) => void;
} {
  const cache = new ResponseCache(options);

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      let key: string | null = null;
      let status: 'HIT' | 'MISS' | 'BYPASS' = 'BYPASS';
      let authorised = false;
      return {
        async responseForOperation(rc: Context): Promise<GraphQLResponse | null> {
          if (rc.operation?.operation !== 'query') return null;
          authorised = Boolean(rc.request.http?.headers.get('authorization'));
          key = cache.key(rc.request.operationName, rc.source ?? '', rc.request.variables);
          status = 'MISS';
          const found = await cache.read(key, authorised);
          if (found === 'bypass') status = 'BYPASS';
          if (!found || found === 'bypass') return null;
          status = 'HIT';
          rc.response.http.headers.set('age', String(found.age));
          rc.response.http.headers.set('cache-control', cacheControl(found.entry.meta, found.age));
          return {
            http: rc.response.http,
            body: { kind: 'single', singleResult: { data: JSON.parse(found.entry.dataJson) as Record<string, unknown> } },
          };
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
          await cache.write(key, result.data, { versions, storedAt: Date.now(), maxAge: policy.maxAge, markedPublic });
        },
      };
    },
  };

  /**
   * Serves a hit before Apollo Server parses, validates and serialises anything: the stored
   * data is sent as the bytes it was stored as. Only for requests Apollo would accept as they
   * are (a JSON POST, or a GET that carries the preflight header); anything else, and every
   * miss, goes on to Apollo, whose plugin applies the same rules.
   */
  const fastPath = (req: Request, res: Response, next: NextFunction): void => {
    let query: unknown;
    let variables: unknown;
    let operationName: unknown;
    if (req.method === 'POST' && req.is('application/json') && req.body && typeof req.body === 'object' && !Array.isArray(req.body)) {
      ({ query, variables, operationName } = req.body as Record<string, unknown>);
    } else if (req.method === 'GET' && req.headers['apollo-require-preflight']) {
      ({ query, operationName } = req.query as Record<string, unknown>);
      try {
        variables = typeof req.query['variables'] === 'string' ? JSON.parse(req.query['variables']) : undefined;
      } catch {
        return next();
      }
    } else {
      return next();
    }
    if (typeof query !== 'string' || (operationName !== undefined && operationName !== null && typeof operationName !== 'string'))
      return next();
    const key = cache.key(operationName as string | null | undefined, query, variables);
    cache.read(key, Boolean(req.headers.authorization)).then(
      (found) => {
        if (!found || found === 'bypass') return next();
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.setHeader('cache-control', cacheControl(found.entry.meta, found.age));
        res.setHeader('age', String(found.age));
        res.end(`{"data":${found.entry.dataJson},"extensions":{"cache":{"status":"HIT"}}}`);
        options.onHit?.(req, (operationName as string | null | undefined) ?? null, query);
      },
      () => next(),
    );
  };

  return { plugin, fastPath };
}
