import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLResponse } from '@apollo/server';
import type { NextFunction, Request, Response } from 'express';
import { ANONYMOUS, type Caller } from './caller.js';
import type { GatewayCache } from './cache.js';
import { cacheKey, canonicalJson } from './cache-key.js';
import { storableResult } from './cache-policy.js';
import type { GatewayContext } from './data-source.js';
import type { FeedVersions } from './feed-versions.js';
import type { ClientHeaders } from './headers.js';
import { MutationEpochs, type Epochs } from './mutation-epochs.js';

/** What the response cache keeps beside an answer's body. */
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

/**
 * An entry as read back: its metadata and the body of a hit, serialised once when it was
 * stored (`{"data":…,"extensions":{"cache":{"status":"HIT"}}}`) and encoded once when it was
 * first read (`ParsedEntries`), sent as it is.
 */
interface StoredEntry {
  readonly meta: EntryMeta;
  readonly body: Buffer;
  /** The same body as text (a slice of the stored value), parsed by Apollo's path without decoding `body`. */
  readonly text: string;
  /** `meta.versions` and `meta.epochs` as lists, checked on every hit. */
  readonly versions: readonly (readonly [string, string | null])[];
  readonly epochs: readonly (readonly [string, string])[];
}

/**
 * Entries as read back, by key, each parsed once: a hit then costs no `JSON.parse` of its
 * metadata and no UTF-8 encoding of its body (in the socket's write) per answer. The cache's
 * value is what counts: a parsed entry is used only for the very value it was parsed from
 * (with the in-memory cache, the same string; with Redis, an equal one), so nothing here
 * outlives or overrides the cache. Bounded (`MAX_PARSED`, `MAX_PARSED_BYTES`, counting the
 * value and the body kept): a fleet of dashboards asks for a few answers over and over; the
 * rest are parsed again as they come.
 */
class ParsedEntries {
  readonly #byKey = new Map<string, { readonly stored: string; readonly entry: StoredEntry }>();
  #bytes = 0;

  entry(key: string, stored: string): StoredEntry {
    const known = this.#byKey.get(key);
    if (known?.stored === stored) return known.entry;
    const newline = stored.indexOf('\n');
    const meta = JSON.parse(stored.slice(0, newline)) as EntryMeta;
    const text = stored.slice(newline + 1);
    const entry: StoredEntry = {
      meta,
      body: Buffer.from(text),
      text,
      versions: Object.entries(meta.versions),
      epochs: Object.entries(meta.epochs),
    };
    if (known) this.#forget(key, known);
    const bytes = stored.length + entry.body.length;
    if (bytes > MAX_PARSED_ENTRY_BYTES) return entry;
    while (this.#byKey.size >= MAX_PARSED || this.#bytes + bytes > MAX_PARSED_BYTES) {
      const [oldest, old] = this.#byKey.entries().next().value!;
      this.#forget(oldest, old);
    }
    this.#byKey.set(key, { stored, entry });
    this.#bytes += bytes;
    return entry;
  }

  #forget(key: string, kept: { readonly stored: string; readonly entry: StoredEntry }): void {
    this.#byKey.delete(key);
    this.#bytes -= kept.stored.length + kept.entry.body.length;
  }
}

/** Most entries kept parsed. */
const MAX_PARSED = 256;
/** Most bytes kept parsed (values and bodies: the cache may have let a value go that is kept here). */
const MAX_PARSED_BYTES = 4 * 1024 * 1024;
/** An entry larger than this is parsed for each hit, never kept. */
const MAX_PARSED_ENTRY_BYTES = 512 * 1024;

/** A request as the response cache keys it. */
export interface CachedOperation {
  readonly operationName: string | null | undefined;
  /** The operation's text as sent (a persisted operation's from its manifest). */
  readonly query: string;
  readonly variables: unknown;
  /** Reads one request header (lower-case name). */
  readonly header: (name: string) => string | undefined;
  /** All the request's headers (for rules that read several, e.g. header propagation's). */
  readonly headers: () => ClientHeaders;
  /** Who asks, as authentication validated it (anonymous: no subject, no scopes). */
  readonly caller: Pick<Caller, 'subject' | 'scopes' | 'claims'>;
  /**
   * An object shared by every request that asks this very operation with these very
   * variables (the fast path's parsed body): the key made for one of them is kept with it.
   */
  readonly same?: object;
}

/** A hit found for a request: what `sendHit` writes. */
export interface Hit {
  readonly entry: StoredEntry;
  readonly age: number;
}

export interface ResponseCacheOptions {
  readonly cache: GatewayCache;
  readonly feedVersions: FeedVersions;
  readonly epochs: MutationEpochs;
  /** Changes whenever the supergraph changes. */
  readonly supergraphVersion: () => string;
  /**
   * Parts of the key taken from the request besides the operation (none by default): what
   * makes two requests for the same operation get different answers (e.g. the caller's scopes).
   */
  readonly keyParts?: (operation: CachedOperation) => readonly unknown[] | null;
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

/** The `Accept` headers seen, negotiated once each (a fleet of dashboards sends a handful). */
const negotiated = new Map<string, string | false>();

/** The content type a miss would be sent with for this request's `Accept`; false: none (Apollo answers 406). */
export function resultType(req: Request): string | false {
  const accept = req.headers.accept ?? '';
  let type = negotiated.get(accept);
  if (type === undefined) {
    type = req.accepts(RESULT_TYPES);
    if (negotiated.size >= 256) negotiated.clear();
    negotiated.set(accept, type);
  }
  return type;
}

/** The stored body of a hit: the result's data and the cache status, serialised once. */
const hitBody = (data: unknown) => `{"data":${JSON.stringify(data)},"extensions":{"cache":{"status":"HIT"}}}`;

/** The part of a hit body that is its data (`hitBody`'s inverse, for Apollo's path). */
const dataOf = (text: string) => (JSON.parse(text) as { data: Record<string, unknown> }).data;

/**
 * The response cache's rules, shared by the Apollo plugin (which stores answers and serves
 * hits for any request) and the fast path (which serves hits before Express and Apollo).
 */
class ResponseCache {
  readonly #parsed = new ParsedEntries();
  /** The key made for each `CachedOperation.same`, with what else it was made from. */
  readonly #keys = new WeakMap<object, { version: string; query: string; parts: string; key: string }>();

  constructor(private readonly options: ResponseCacheOptions) {}

  /**
   * The entry key (null: not keyable, e.g. variables nested too deep): supergraph version,
   * operation name and text as sent, variables, and the request's own parts (`keyParts`).
   * `rc2`: entries hold a hit's whole body (`rc` held only its data).
   */
  key(operation: CachedOperation): string | null {
    const { operationName, query, variables, same } = operation;
    const extra = this.options.keyParts ? this.options.keyParts(operation) : [];
    // Null: this caller's answer to this operation is not to be kept (auth/).
    if (extra === null) return null;
    const version = this.options.supergraphVersion();
    // The request's own parts are usually none: then nothing is written to compare them.
    const parts = extra.length === 0 ? '' : canonicalJson(extra);
    const kept = same && this.#keys.get(same);
    if (kept && kept.version === version && kept.query === query && kept.parts === parts) return kept.key;
    const key = cacheKey('rc2', version, operationName ?? null, query, variables ?? {}, ...extra);
    if (same && key !== null && parts !== null) this.#keys.set(same, { version, query, parts, key });
    return key;
  }

  /** A usable entry: fresh, from the current feed versions and mutation epochs, and allowed for this request. */
  usable(key: string, stored: string | undefined, authorised: boolean, epochs: Epochs): Hit | 'bypass' | null {
    if (!stored) return null;
    const entry = this.#parsed.entry(key, stored);
    const age = Math.floor((Date.now() - entry.meta.storedAt) / 1000);
    if (age >= entry.meta.maxAge) return null;
    for (const [subgraph, version] of entry.versions) if (this.options.feedVersions.version(subgraph) !== version) return null;
    for (const [subgraph, epoch] of entry.epochs) if (epochs.get(subgraph) !== epoch) return null;
    if (authorised && !entry.meta.markedPublic) return 'bypass';
    return { entry, age };
  }

  /** `usable` for the fast path, which leaves all but a hit to Apollo (a bypass included). */
  hit(key: string, read: { readonly stored: string | undefined; readonly epochs: Epochs }, authorised: boolean): Hit | null {
    const found = this.usable(key, read.stored, authorised, read.epochs);
    return found === 'bypass' ? null : found;
  }

  async write(key: string, data: unknown, meta: EntryMeta): Promise<void> {
    await this.options.cache.set(key, `${JSON.stringify(meta)}\n${hitBody(data)}`, { ttl: meta.maxAge });
  }
}

/** A hit's `Cache-Control`, the same on both paths: what is left of its max-age. */
const cacheControl = (found: Hit) => `max-age=${found.entry.meta.maxAge - found.age}, public`;

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
 * `extensions.cache` (`HIT` / `MISS` / `BYPASS`). Hits are found before Express by
 * `lookup` (the fast path, `fast-path.ts`) or in Apollo by the plugin, by the same rules.
 */
export function responseCache(options: ResponseCacheOptions): {
  plugin: ApolloServerPlugin<GatewayContext>;
  /**
   * The hit for an operation as the fast path read it; null for a miss or anything else
   * (Apollo decides). Answered at once with the in-memory cache, with a promise otherwise.
   */
  lookup(operation: CachedOperation): Hit | null | Promise<Hit | null>;
  /** `Vary: Accept` on every `/graphql` answer Express sends (hits and misses alike: the content type follows `Accept`). */
  varyAccept: (req: Request, res: Response, next: NextFunction) => void;
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
          const headers = rc.request.http?.headers;
          key = cache.key({
            operationName: rc.request.operationName,
            query: rc.source ?? '',
            variables: rc.request.variables,
            header: (name) => headers?.get(name),
            headers: () => headers ?? new Map<string, string>(),
            caller: rc.contextValue.caller ?? ANONYMOUS,
          });
          if (!key) return null;
          status = 'MISS';
          const found = cache.usable(key, await options.cache.get(key), authorised, epochs);
          if (found === 'bypass') status = 'BYPASS';
          if (!found || found === 'bypass') return null;
          status = 'HIT';
          // A hit came from the subgraphs its entry did: a live query re-runs when one of them changes.
          for (const [subgraph] of found.entry.versions) rc.contextValue.touched.add(subgraph);
          rc.response.http.headers.set('cache-control', cacheControl(found));
          rc.response.http.headers.set('age', String(found.age));
          // Apollo negotiates the content type from `Accept`, as for any answer.
          return {
            http: rc.response.http,
            body: { kind: 'single', singleResult: { data: dataOf(found.entry.text) } },
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

  const lookup = (operation: CachedOperation): Hit | null | Promise<Hit | null> => {
    const key = cache.key(operation);
    // A mutation's bump that has not reached the cache yet: Apollo's path makes it first.
    if (!key || options.epochs.pending) return null;
    const authorised = operation.header('authorization') !== undefined;
    // In this process's memory, the entry and the epochs are read at once, without a promise
    // (nor a function made for this request to take it).
    const now = options.epochs.entryNow(key);
    if (now) return cache.hit(key, now, authorised);
    return options.epochs.withEntry(key, options.feedVersions.subgraphs()).then((read) => cache.hit(key, read, authorised));
  };

  const varyAccept = (_req: Request, res: Response, next: NextFunction): void => {
    res.vary('Accept');
    next();
  };

  return { plugin, lookup, varyAccept };
}

/**
 * Writes a hit as the bytes it was stored as, with the content type a miss would get
 * (`resultType`), `Cache-Control`, `Age` and `Vary: Accept`, after whatever headers the
 * request's middleware set (request id, CORS, rate limit).
 */
export function sendHit(res: Response, hit: Hit, contentType: string): void {
  // As `res.vary` writes it (and after CORS's `Origin`, when CORS set one).
  if (res.hasHeader('vary')) res.vary('Accept');
  else res.setHeader('Vary', 'Accept');
  res.setHeader('content-type', contentType);
  res.setHeader('cache-control', cacheControl(hit));
  res.setHeader('age', String(hit.age));
  res.end(hit.entry.body);
}
