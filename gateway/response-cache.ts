import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLResponse } from '@apollo/server';
import type { NextFunction, Request, Response } from 'express';
import { NO_IDENTITY } from './auth/authenticate.js';
import type { Identity } from './auth/jwt.js';
import type { GatewayCache } from './cache.js';
import { cacheKey } from './cache-key.js';
import { storableResult } from './cache-policy.js';
import type { GatewayContext } from './data-source.js';
import type { FeedVersions } from './feed-versions.js';
import { clientHeaders, type ClientHeaders } from './headers.js';
import { MutationEpochs, type Epochs } from './mutation-epochs.js';

/** What the response cache keeps beside an answer's data. */
interface EntryMeta {
  /** The feed version of every subgraph the operation touched, when it was answered. */
  readonly versions: Readonly<Record<string, string | null>>;
  /** The mutation epoch of every subgraph the operation touched, as it started. */
  readonly epochs: Readonly<Record<string, string>>;
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
  readonly epochs: MutationEpochs;
  /** Changes whenever the supergraph changes. */
  readonly supergraphVersion: () => string;
  /** Told of every hit the fast path answers (before Apollo, whose plugins never see it). */
  readonly onHit?: (req: Request, operationName: string | null, query: string) => void;
  /**
   * What else an answer depends on: the client headers the subgraphs receive (`headers.ts`'s
   * `cacheVary`); null or absent: nothing.
   */
  readonly vary?: (headers: ClientHeaders) => unknown;
  /**
   * What the supergraph's authorization makes of the caller for this operation (`auth/`): a
   * key part, so answers cut for one caller never serve another who may see more, nor the
   * reverse; empty when the operation touches no restricted field; null: do not cache.
   */
  readonly access?: {
    key(query: string, operationName: string | null | undefined, identity: Identity): string | null;
    /** The identity authentication left for a request (the fast path runs before any context). */
    identityFrom(res: Pick<Response, 'locals'>): Identity;
  };
}

/**
 * The content types Apollo Server chooses between for a single result, in its order of
 * preference: a hit is sent with the one a miss would get (Express's `req.accepts` negotiates
 * exactly as Apollo does, with the same library).
 */
const RESULT_TYPES = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
];

/**
 * The response cache's rules, shared by the Apollo plugin (which stores answers and serves
 * hits for any request) and the fast path (which serves hits before Apollo parses anything).
 */
class ResponseCache {
  constructor(private readonly options: ResponseCacheOptions) {}

  /**
   * The entry key (null: not keyable, e.g. variables nested too deep): supergraph version,
   * operation name and text as sent, variables, the propagated headers when any are, and what
   * access decided for the caller.
   */
  key(
    operationName: string | null | undefined,
    query: string,
    variables: unknown,
    headers: () => ClientHeaders,
    identity: Identity,
  ): string | null {
    const access = this.options.access ? this.options.access.key(query, operationName, identity) : '';
    if (access === null) return null;
    const vary = this.options.vary?.(headers()) ?? null;
    return cacheKey(
      'rc',
      this.options.supergraphVersion(),
      operationName ?? null,
      query,
      variables ?? {},
      ...(vary === null ? [] : [{ vary }]),
      ...(access ? [{ access }] : []),
    );
  }

  /** A usable entry: fresh, from the current feed versions and mutation epochs, and allowed for this request. */
  usable(stored: string | undefined, authorised: boolean, epochs: Epochs): { entry: StoredEntry; age: number } | 'bypass' | null {
    if (!stored) return null;
    const newline = stored.indexOf('\n');
    const meta = JSON.parse(stored.slice(0, newline)) as EntryMeta;
    const age = Math.floor((Date.now() - meta.storedAt) / 1000);
    const current =
      Object.entries(meta.versions).every(([subgraph, version]) => this.options.feedVersions.version(subgraph) === version) &&
      Object.entries(meta.epochs).every(([subgraph, epoch]) => epochs.get(subgraph) === epoch);
    if (age >= meta.maxAge || !current) return null;
    if (authorised && !meta.markedPublic) return 'bypass';
    return { entry: { meta, dataJson: stored.slice(newline + 1) }, age };
  }

  async write(key: string, data: unknown, meta: EntryMeta): Promise<void> {
    await this.options.cache.set(key, `${JSON.stringify(meta)}\n${JSON.stringify(data)}`, { ttl: meta.maxAge });
  }
}

/** Headers of a hit, the same on both paths. */
function hitHeaders(found: { entry: StoredEntry; age: number }): [string, string][] {
  return [
    ['cache-control', `max-age=${found.entry.meta.maxAge - found.age}, public`],
    ['age', String(found.age)],
  ];
}

type Context = GraphQLRequestContext<GatewayContext>;

/**
 * Whole-response caching for queries. An entry is keyed by the supergraph version, the
 * operation and its variables, and holds the feed version and mutation epoch of every
 * subgraph the operation touched: it is used only while all of those are still current, so
 * a new report, a new schema or a mutation through the gateway is never answered from an old
 * entry. An answer is kept only when every subgraph behind it allowed it (`cache-policy.ts`),
 * without errors or extensions a client must see, and never for a mutation; a request with
 * an `Authorization` header only shares entries that its subgraphs marked public themselves
 * (`Cache-Control: …, public`). Adds `Cache-Control`, `Age`, `Vary: Accept` and
 * `extensions.cache` (`HIT` / `MISS` / `BYPASS`).
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
          const epochs = rc.contextValue.epochs;
          if (rc.operation?.operation !== 'query' || !epochs) return null;
          authorised = Boolean(rc.request.http?.headers.get('authorization'));
          key = cache.key(
            rc.request.operationName,
            rc.source ?? '',
            rc.request.variables,
            () => rc.request.http?.headers ?? new Map(),
            rc.contextValue.caller ?? NO_IDENTITY,
          );
          if (!key) return null;
          status = 'MISS';
          const found = cache.usable(await options.cache.get(key), authorised, epochs);
          if (found === 'bypass') status = 'BYPASS';
          if (!found || found === 'bypass') return null;
          status = 'HIT';
          // A hit came from the subgraphs its entry did: a live query re-runs when one of them changes.
          for (const subgraph of Object.keys(found.entry.meta.versions)) rc.contextValue.touched.add(subgraph);
          for (const [name, value] of hitHeaders(found)) rc.response.http.headers.set(name, value);
          // Apollo negotiates the content type from `Accept`, as for any answer.
          return {
            http: rc.response.http,
            body: { kind: 'single', singleResult: { data: JSON.parse(found.entry.dataJson) as Record<string, unknown> } },
          };
        },

        async willSendResponse(rc: Context) {
          const body = rc.response.body;
          if (!body || body.kind !== 'single') return;
          const result = body.singleResult;
          const storable = storableResult(result);
          result.extensions = { ...result.extensions, cache: { status } };
          if (status !== 'MISS' || !key || !storable) return;
          const policy = rc.overallCachePolicy.policyIfCacheable();
          // PRIVATE: the subgraph meant it for one client, and entries are not keyed by client.
          if (!policy || policy.maxAge <= 0 || policy.scope === 'PRIVATE') return;
          const versions: Record<string, string | null> = {};
          const epochs: Record<string, string> = {};
          // Versions and epochs as the operation started: its answer reflects at least these
          // (reports are announced only once visible to operations that start later).
          const atStart = rc.contextValue.versions;
          for (const subgraph of rc.contextValue.touched) {
            const version = atStart.has(subgraph) ? atStart.get(subgraph) : null;
            const epoch = rc.contextValue.epochs?.get(subgraph);
            // An unknown version (its stream is down) or epoch: do not cache what might be stale.
            if (version === undefined || typeof epoch !== 'string') return;
            versions[subgraph] = version;
            epochs[subgraph] = epoch;
          }
          const touched = rc.contextValue.touched;
          const markedPublic = touched.size > 0 && [...touched].every((s) => rc.contextValue.markedPublic.has(s));
          // An authorised request's answer is kept only when its subgraphs marked it public.
          if (authorised && !markedPublic) {
            result.extensions = { ...result.extensions, cache: { status: 'BYPASS' } };
            return;
          }
          await cache.write(key, result.data, { versions, epochs, storedAt: Date.now(), maxAge: policy.maxAge, markedPublic });
        },
      };
    },
  };

  /**
   * Serves a hit before Apollo Server parses, validates and serialises anything: the stored
   * data is sent as the bytes it was stored as, with the content type a miss would get. Only
   * for requests Apollo would accept as they are (a JSON POST, or a GET that carries the
   * preflight header, accepting a type Apollo can send); anything else, and every miss, goes
   * on to Apollo, whose plugin applies the same rules.
   */
  const fastPath = (req: Request, res: Response, next: NextFunction): void => {
    // Hits and misses alike: the content type follows `Accept`.
    res.vary('Accept');
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
    const identity = options.access ? options.access.identityFrom(res) : NO_IDENTITY;
    const key = cache.key(operationName as string | null | undefined, query, variables, () => clientHeaders(req.headers), identity);
    // Not acceptable to Apollo either: it answers the 406.
    const contentType = req.accepts(RESULT_TYPES);
    // A mutation's bump that has not reached the cache yet: Apollo's path makes it first.
    if (!key || !contentType || options.epochs.pending) return next();
    // The entry and the epochs it is checked against, in one lookup.
    const subgraphs = options.feedVersions.subgraphs();
    options.cache.getMany([key, ...subgraphs.map(MutationEpochs.key)]).then(
      ([stored, ...values]) => {
        const found = cache.usable(stored, Boolean(req.headers.authorization), options.epochs.fromValues(subgraphs, values));
        if (!found || found === 'bypass') return next();
        res.setHeader('content-type', contentType);
        for (const [name, value] of hitHeaders(found)) res.setHeader(name, value);
        res.end(`{"data":${found.entry.dataJson},"extensions":{"cache":{"status":"HIT"}}}`);
        options.onHit?.(req, (operationName as string | null | undefined) ?? null, query);
      },
      () => next(),
    );
  };

  return { plugin, fastPath };
}
