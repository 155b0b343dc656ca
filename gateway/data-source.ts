import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { subgraphErrorCodes, type ErrorCode } from '../schema/errors.js';
import { FEED_VERSION_HEADER, PIN_HEADER } from '../schema/wire.js';
import { inflightKey } from './cache-key.js';
import { feedAnswer, hintHeader, subgraphHint, type SubgraphHint } from './cache-policy.js';
import { EntityBatcher, type Fetched } from './entity-batch.js';
import { isEntitiesFetch, type EntityCache } from './entity-cache.js';
import { copyJson } from './json-copy.js';
import { EntityDocuments } from './entity-merge.js';
import { REQUEST_ID_HEADER } from './logger.js';
import { ATTEMPT_HEADER, poolFetcher, startAttempt, type HeaderReader, type SubgraphPool } from './pool-fetcher.js';
import type { Epochs } from './mutation-epochs.js';
import type { Caller } from './caller.js';
import { fetchNote, type FetchTracing } from './tracing.js';
import type { SubgraphHeaderRules } from './headers.js';
import { failureReason, isSubgraphFailure, unavailableAnswer, type FailureReason, type SubgraphResilience } from './resilience.js';

/** Per-operation context of the gateway. */
export interface GatewayContext {
  /** The operation's start: the snapshot pin sent with every subgraph fetch. */
  readonly pin: string;
  /** The subgraphs this operation fetched from, for the response cache. */
  readonly touched: Set<string>;
  /** Headers sent with every subgraph fetch of the operation (e.g. the clusters its supergraph has). */
  readonly subgraphHeaders?: Readonly<Record<string, string>>;
  /** Each subgraph's feed version as the operation started (undefined: unknown; null: no feed). */
  readonly versions: ReadonlyMap<string, string | null | undefined>;
  /**
   * The feed version each subgraph said it answered from (`FEED_VERSION_HEADER`), where it
   * said; one that differs from `versions` wins, so a live query knows its run was behind.
   */
  readonly answered?: Map<string, string>;
  /** The subgraphs whose own answers marked this operation's data public. */
  readonly markedPublic: Set<string>;
  /** Each subgraph's mutation epoch as the operation started; absent when no cache is on. */
  readonly epochs?: Epochs;
  /** The request's id, sent on to every subgraph (`x-request-id`). */
  readonly requestId?: string;
  /** Who is asking (token subject, scopes, claims, client name); absent: anonymous. */
  readonly caller?: Caller;
  /** The HTTP response's locals, where plugins leave the operation name and outcome for metrics and logs. */
  readonly locals?: Record<string, unknown>;
  /**
   * The run of a `@live` query (`gateway/live/`): executed on its own, never joined with an
   * identical operation under way (`operation-dedupe.ts`), as its re-runs follow what its own
   * execution touched.
   */
  readonly live?: boolean;
}

/** What a data source reports to the metrics. */
export interface FetchObserver {
  /** One subgraph fetch ended (after retries): its time and how it ended. */
  fetched(subgraph: string, seconds: number, failure: FailureReason | null): void;
  /** Entity-cache lookups of one entity fetch. */
  entityCache(hits: number, misses: number): void;
}

type Processed = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/** What a subgraph said of an answer's cacheability: its `Cache-Control` and the feed version it answered from. */
interface AnswerHeaders {
  readonly cacheControl: string | null;
  readonly answered: string | null;
}

export interface DataSourceOptions {
  readonly name: string;
  readonly url: string;
  /** Keep-alive connection pool shared by every subgraph fetch. */
  readonly agent: SubgraphPool;
  /** Seconds an answer without `max-age` is kept when the subgraph announces feed versions. */
  readonly defaultMaxAge: number;
  /** Whether identical in-flight fetches are merged into one. */
  readonly dedupe: boolean;
  /** Largest subgraph answer read, in bytes; a larger one is a subgraph failure. */
  readonly maxResponseBytes: number;
  readonly log?: (line: string) => void;
  /** Whether the subgraph serves feed snapshots (then fetches carry the operation's pin). */
  readonly hasFeed: () => boolean;
  /** Caches entity lookups per entity, or null. */
  readonly entityCache: EntityCache | null;
  /** Timeout, retries and circuit breaker of this subgraph (none: fetch as is). */
  readonly resilience?: SubgraphResilience;
  /** `Type.field`s clients cannot see, in the current supergraph. */
  readonly hiddenFields?: () => ReadonlySet<string>;
  readonly observer?: FetchObserver;
  /** A span per fetch, whose context every subgraph request carries (`tracing.ts`); none when tracing is off. */
  readonly tracing?: FetchTracing | undefined;
  /** Which client headers this subgraph receives (`PROPAGATE_HEADERS`); none: only the gateway's own. */
  readonly headers?: SubgraphHeaderRules;
  /** Whether an operation's entity fetches of one plan stage go out as one request (entity-batch.ts); absent: no. */
  readonly entityBatching?: boolean;
}

/** Whether a subgraph fetch is a query (the only kind retried or merged). */
const isQueryText = (text: string) => /^\s*(query\b|\{)/.test(text);

/** Whether the fetch belongs to a mutation through the gateway (never merged, never answered from a cache). */
const inMutation = (options: GraphQLDataSourceProcessOptions<GatewayContext>) =>
  options.kind === 'incoming operation' && options.incomingRequestContext.operation?.operation === 'mutation';

/** Longest part of a subgraph's failure message the log repeats, in characters. */
const LOG_MESSAGE_LIMIT = 2000;
const excerpt = (message: string) =>
  message.length > LOG_MESSAGE_LIMIT ? `${message.slice(0, LOG_MESSAGE_LIMIT)}… (${message.length} characters)` : message;

/** Most errors of one subgraph answer passed on: each is masked, logged and sent, so a supplier's server could multiply them. */
export const MAX_SUBGRAPH_ERRORS = 100;

/**
 * A subgraph's answer as the gateway passes it on. Only the codes a subgraph may give
 * (`subgraphErrorCodes`): any other code is moved to `extensions.subgraphCode` (kept for the
 * log), so the error mask treats the error as unknown. At most `MAX_SUBGRAPH_ERRORS` errors:
 * the rest become one (masked) error that counts them, since 50,000 errors in a 3 MB answer
 * cost 2.5 s, a 7 MB response and 60 MB of log lines. Applied to what the subgraph sent,
 * before the gateway adds its own `SUBGRAPH_UNAVAILABLE` answers, which are never rewritten.
 */
function passedOn(answer: Processed, subgraph: string): Processed {
  const all = answer.errors;
  if (!all?.some((e) => !subgraphErrorCodes.has(e.extensions?.['code'] as ErrorCode)) && (all?.length ?? 0) <= MAX_SUBGRAPH_ERRORS)
    return answer;
  const kept = all!.slice(0, MAX_SUBGRAPH_ERRORS).map((error) => {
    const code = error.extensions?.['code'];
    if (code === undefined || subgraphErrorCodes.has(code as ErrorCode)) return error;
    const { code: _code, ...extensions } = error.extensions ?? {};
    return { ...error, extensions: { ...extensions, subgraphCode: code } };
  });
  const dropped = all!.length - kept.length;
  const errors =
    dropped > 0
      ? [
          ...kept,
          { message: `Subgraph ${subgraph} answered ${dropped} errors more than the ${MAX_SUBGRAPH_ERRORS} passed on`, extensions: {} },
        ]
      : kept;
  return { ...answer, errors } as Processed;
}

/**
 * How the gateway fetches from a subgraph: over a keep-alive pool; with the operation's
 * snapshot pin (to subgraphs with a feed); merging identical in-flight queries (same
 * document and variables, and for a feed subgraph the same pin, so a merged answer never
 * mixes snapshots; never within a mutation, and never across one); and recording which
 * subgraphs an operation touched. Each answer's cacheability is decided by `subgraphHint`,
 * against the feed version its subgraph says it answered from (`FEED_VERSION_HEADER`).
 */
export class GatewayDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #name: string;
  readonly #dedupe: boolean;
  readonly #defaultMaxAge: number;
  /** Each answer's cacheability, for the entity cache (set when the answer arrives). */
  readonly #hints = new WeakMap<object, SubgraphHint>();
  /** What each answer's subgraph said, for operations that join its fetch (judged by their own versions). */
  readonly #said = new WeakMap<object, AnswerHeaders>();
  readonly #hasFeed: () => boolean;
  readonly #entityCache: EntityCache | null;
  readonly #log: (line: string) => void;
  readonly #inFlight = new Map<string, Promise<Processed>>();
  /** The number of each fetch's attempt under way, for `willSendRequest`. */
  readonly #attemptOf = new WeakMap<object, string>();
  readonly #resilience: SubgraphResilience | undefined;
  readonly #hiddenFields: () => ReadonlySet<string>;
  readonly #observer: FetchObserver | undefined;
  readonly #tracing: FetchTracing | undefined;
  readonly #headers: SubgraphHeaderRules | null;
  /** What each operation sends this subgraph of its client's headers (worked out once per operation). */
  readonly #propagatedTo = new WeakMap<GatewayContext, Readonly<Record<string, string>>>();
  /** The entity documents this subgraph's fetches have, and their merges (null: no batching). */
  readonly #documents: EntityDocuments | null;
  /** Each operation's batcher, keyed by its request context: never shared between operations. */
  readonly #batchers = new WeakMap<object, EntityBatcher>();

  constructor(options: DataSourceOptions) {
    super({ url: options.url });
    this.#name = options.name;
    this.#dedupe = options.dedupe;
    this.#log = options.log ?? console.error;
    const agent = options.agent;
    this.#defaultMaxAge = options.defaultMaxAge;
    this.#hasFeed = options.hasFeed;
    this.#entityCache = options.entityCache;
    this.fetcher = poolFetcher(agent, options.maxResponseBytes);
    this.#resilience = options.resilience;
    this.#hiddenFields = options.hiddenFields ?? (() => new Set());
    this.#observer = options.observer;
    this.#tracing = options.tracing;
    this.#headers = options.headers && options.headers.rules.length > 0 ? options.headers : null;
    this.#documents = options.entityBatching ? new EntityDocuments() : null;
  }

  /**
   * The client's headers this subgraph receives for the operation, after the rules (null:
   * none configured). Part of every key that merges or caches its answers, since they may
   * change them (headers.ts).
   */
  #propagated(options: GraphQLDataSourceProcessOptions<GatewayContext>): Readonly<Record<string, string>> | null {
    if (!this.#headers || options.kind !== 'incoming operation') return null;
    let sent = this.#propagatedTo.get(options.context);
    if (!sent) {
      sent = this.#headers.apply(options.incomingRequestContext.request.http?.headers ?? new Map(), options.context.caller);
      this.#propagatedTo.set(options.context, sent);
    }
    return sent;
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const { request, context } = options;
    const attempt = this.#attemptOf.get(options);
    if (attempt) request.http?.headers.set(ATTEMPT_HEADER, attempt);
    for (const [name, value] of Object.entries(this.#propagated(options) ?? {})) request.http?.headers.set(name, value);
    // Only subgraphs with a feed have snapshots to pin.
    if (context.pin && this.#hasFeed()) request.http?.headers.set(PIN_HEADER, context.pin);
    if (context.requestId) request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    for (const [name, value] of Object.entries<string>(context.subgraphHeaders ?? {})) request.http?.headers.set(name, value);
    // The subgraph continues the trace from this fetch's span.
    this.#tracing?.inject(request.http?.headers);
    context.touched?.add(this.#name);
  }

  override didReceiveResponse<T>(input: { response: T; context: GatewayContext }): T {
    const response = input.response as T & { http?: { headers: HeaderReader; status: number; url: string } };
    const http = response.http;
    const said = { cacheControl: http?.headers.get('cache-control') ?? null, answered: http?.headers.get(FEED_VERSION_HEADER) ?? null };
    const hint = this.#judge(said, input.context);
    if (http) {
      // Apollo reads the cache hint from `response.http` after this hook: give it headers
      // that carry the decided hint.
      const given = http.headers;
      const cacheControl = hintHeader(hint);
      const headers: HeaderReader = { get: (name) => (name.toLowerCase() === 'cache-control' ? cacheControl : given.get(name)) };
      response.http = { headers, status: http.status, url: http.url };
    }
    this.#hints.set(response as object, hint);
    this.#said.set(response as object, said);
    return response;
  }

  /**
   * The answer's cacheability for one operation (`cache-policy.ts`), against the feed version
   * that operation keys its caches by; notes in its context what the subgraph said.
   */
  #judge(said: AnswerHeaders, context: GatewayContext): SubgraphHint {
    const expected = context.versions?.get(this.#name);
    const hint = subgraphHint(said.cacheControl, feedAnswer(expected, said.answered), this.#defaultMaxAge);
    // Marked public by the subgraph itself: cacheable even for authorised requests.
    if (hint.markedPublic) context.markedPublic?.add(this.#name);
    // A version other than the operation's wins over one equal to it: that run was behind.
    if (said.answered && (said.answered !== expected || !context.answered?.has(this.#name)))
      context.answered?.set(this.#name, said.answered);
    return hint;
  }

  /**
   * Fetches under the subgraph's timeout, retries (queries only) and circuit breaker. A
   * subgraph that cannot answer gives `SUBGRAPH_UNAVAILABLE` errors on the fields it owns
   * in this fetch, and the rest of the operation is still answered; the cause stays in the log.
   */
  async #fetch(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Processed> {
    const started = performance.now();
    const isQuery = isQueryText(options.request.query ?? '');
    try {
      const answer = this.#resilience
        ? await this.#resilience.run(isQuery, (signal) => this.#attempt(options, signal))
        : await this.#attempt(options, null);
      this.#observer?.fetched(this.#name, (performance.now() - started) / 1000, null);
      return passedOn(answer, this.#name);
    } catch (error) {
      if (!isSubgraphFailure(error)) throw error;
      const reason = failureReason(error);
      this.#observer?.fetched(this.#name, (performance.now() - started) / 1000, reason);
      fetchNote()?.failed(reason);
      // An open circuit was logged when it opened; each request need not say it again.
      // Bounded: Apollo puts a non-JSON answer's whole body in the message (up to SUBGRAPH_MAX_RESPONSE_BYTES).
      if (reason !== 'circuit-open') this.#log(`gateway: subgraph ${this.#name} failed (${reason}): ${excerpt((error as Error).message)}`);
      const document = options.kind === 'incoming operation' ? options.document : undefined;
      return unavailableAnswer(this.#name, reason, options.request, this.#hiddenFields(), document) as unknown as Processed;
    }
  }

  /** One attempt of a fetch (counted on its trace span), which `signal` aborts (the fetcher finds it through ATTEMPT_HEADER); none: no policy. */
  #attempt(options: GraphQLDataSourceProcessOptions<GatewayContext>, signal: AbortSignal | null): Promise<Processed> {
    fetchNote()?.attempt();
    if (!signal) return super.process(options);
    const { attempt, done } = startAttempt(signal);
    this.#attemptOf.set(options, attempt);
    return super.process(options).finally(done);
  }

  override process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Processed> {
    return this.#tracing
      ? this.#tracing.fetch(this.#name, this.#resilience?.state ?? null, () => this.#process(options))
      : this.#process(options);
  }

  #process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Processed> {
    const { query = '', variables } = options.request;
    if (inMutation(options)) {
      // Fetches that started before the mutation must not answer queries that start after it.
      return this.#fetch(options).finally(() => this.#inFlight.clear());
    }
    if (this.#entityCache && isEntitiesFetch(query, variables)) {
      const version = options.context.versions?.get(this.#name);
      const epoch = options.context.epochs?.get(this.#name);
      // An unknown feed version (its stream is down) or epoch: no entity cache for this subgraph.
      if (version !== undefined && typeof epoch === 'string') return this.#entities(options, this.#entityCache, version, epoch);
    }
    return this.#lookup(options);
  }

  /** An entity fetch through the operation's batcher (when batching is on); any other fetch as it is. */
  #lookup(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Processed> {
    if (!this.#documents || options.kind !== 'incoming operation' || !Array.isArray(options.request.variables?.['representations']))
      return this.#merged(options);
    let batcher = this.#batchers.get(options.incomingRequestContext);
    if (!batcher) {
      const send = async (request: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Fetched> => {
        const answer = await this.#merged(request);
        return { answer: answer as Fetched['answer'], hint: this.#hints.get(answer) };
      };
      batcher = new EntityBatcher(this.#documents, send);
      this.#batchers.set(options.incomingRequestContext, batcher);
    }
    const loaded = batcher.load(options);
    if (!loaded) return this.#merged(options);
    return loaded.then(({ answer, hint }) => {
      if (hint) this.#hints.set(answer, hint);
      return answer as Processed;
    });
  }

  /** Entity lookups: cached entities are answered from the cache, only the others fetched. */
  async #entities(
    options: GraphQLDataSourceProcessOptions<GatewayContext>,
    cache: EntityCache,
    version: string | null,
    epoch: string,
  ): Promise<Processed> {
    const query = options.request.query ?? '';
    const variables = options.request.variables ?? {};
    const representations = variables['representations'] as unknown[];
    const keys = cache.keys(this.#name, version, epoch, query, variables, this.#propagated(options));
    if (!keys) return this.#lookup(options);
    const found = await cache.get(keys);
    const cached = found.map((entry) => entry?.entity);
    const missing = representations.flatMap((_, i) => (found[i] === undefined ? [i] : []));
    this.#observer?.entityCache(representations.length - missing.length, missing.length);
    fetchNote()?.entityCache(representations.length - missing.length, missing.length);
    // The entities answered from the cache restrict the operation's cache policy to what is
    // left of their lifetime (the fetched ones restrict it through their answer's hint).
    const left = found.flatMap((entry) => (entry ? [entry.maxAge] : []));
    if (left.length > 0 && options.kind === 'incoming operation')
      options.incomingRequestContext.overallCachePolicy?.restrict({ maxAge: Math.min(...left) });
    if (missing.length === 0) {
      options.context.touched?.add(this.#name);
      return { data: { _entities: cached } };
    }
    const partial = missing.length < representations.length;
    const fetched = await this.#lookup(
      partial
        ? {
            ...options,
            request: { ...options.request, variables: { ...variables, representations: missing.map((i) => representations[i]) } },
          }
        : options,
    );
    const entities = (fetched.data as { _entities?: unknown[] } | null | undefined)?._entities;
    if (fetched.errors?.length || !Array.isArray(entities) || entities.length !== missing.length) {
      // Errors carry paths into the list that was sent: answer the whole lookup uncached.
      return partial ? this.#lookup(options) : fetched;
    }
    // Kept only as long as the answer's own hint allows (not at all when it allows nothing).
    const hint = this.#hints.get(fetched);
    if (hint && hint.maxAge > 0)
      await cache.set(
        missing.map((index, j) => [keys[index]!, entities[j]] as const),
        hint.maxAge,
      );
    if (!partial) return fetched;
    const merged = [...cached];
    missing.forEach((index, j) => (merged[index] = entities[j]));
    return { ...fetched, data: { ...fetched.data, _entities: merged } };
  }

  /** Merges identical in-flight queries. */
  #merged(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<Processed> {
    const query = options.request.query ?? '';
    if (!this.#dedupe || !isQueryText(query)) return this.#fetch(options);
    // Answers of a subgraph without a feed do not depend on the pin: merge across operations.
    const key = inflightKey(
      query,
      options.request.variables ?? null,
      this.#hasFeed() ? (options.context.pin ?? null) : null,
      options.context.subgraphHeaders ?? null,
      this.#propagated(options),
    );
    // Variables too deep to key: fetched on their own.
    if (!key) return this.#fetch(options);
    const running = this.#inFlight.get(key);
    if (running) {
      options.context.touched?.add(this.#name);
      fetchNote()?.merged();
      // The gateway merges each answer into its operation's result in place: every operation
      // that joins an in-flight fetch gets its own copy.
      return running.then((shared) => {
        const copy = copyJson(shared);
        // The answer arrived for the first operation only: what its subgraph said is judged
        // against this one's versions too (nothing said, e.g. a failure: not cacheable).
        const said = this.#said.get(shared);
        const hint = said ? this.#judge(said, options.context as GatewayContext) : { maxAge: 0, markedPublic: false };
        this.#hints.set(copy, hint);
        if (options.kind === 'incoming operation') options.incomingRequestContext.overallCachePolicy?.restrict({ maxAge: hint.maxAge });
        return copy;
      });
    }
    const fetching = this.#fetch(options).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, fetching);
    return fetching;
  }
}
