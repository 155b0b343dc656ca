import { Redis } from 'ioredis';
import { FEED_CHANNEL, FEED_EVENTS_PATH, FEED_VERSION_PATH, type FeedVersionEvent } from '../schema/wire.js';
import { fetchSubgraph } from './subgraph-fetch.js';

/** Longest server-sent event accepted from a subgraph's `/feed/events` (a supplier's, too). */
const MAX_EVENT_CHARS = 64 * 1024;

/** What the gateway knows of one subgraph's feed. */
type State = { readonly kind: 'tracking'; readonly version: string } | { readonly kind: 'unknown' } | { readonly kind: 'none' };

/**
 * The current feed version of every subgraph that has a feed, so caches can key by it and
 * never answer from an old report. Without Redis it follows each subgraph's
 * `/feed/events` stream; with Redis, the feed channel that every cluster subgraph replica
 * announces on (so every gateway replica learns a change at once). A subgraph that answers
 * 404 has no feed versions: its answers are cached only as its own `Cache-Control` allows
 * (`cache-policy.ts`). While a feed subgraph's version is unknown (its stream is down),
 * `version()` says so and caches must not be used for it.
 */
export class FeedVersions {
  readonly #states = new Map<string, State>();
  /** When each subgraph's current feed version first reached this gateway (ms since epoch). */
  readonly #since = new Map<string, { version: string; at: number }>();
  readonly #log: (line: string) => void;
  readonly #aborts = new Set<AbortController>();
  readonly #listeners = new Set<() => void>();
  #subscriber: Redis | null = null;
  #closed = false;
  #subgraphs: readonly { readonly name: string; readonly url: string }[];
  readonly #redisUrl: string | null;
  /** The stream followed for each subgraph, so a swap to another URL can end the old one. */
  readonly #streams = new Map<string, { readonly url: string; readonly abort: AbortController }>();

  constructor(
    subgraphs: readonly { readonly name: string; readonly url: string }[],
    options: { redisUrl: string | null; log?: (line: string) => void },
  ) {
    this.#log = options.log ?? (() => {});
    this.#subgraphs = subgraphs;
    this.#redisUrl = options.redisUrl;
    for (const subgraph of subgraphs) this.#states.set(subgraph.name, { kind: 'unknown' });
    if (options.redisUrl) this.#subscribe(options.redisUrl);
    else for (const subgraph of subgraphs) void this.#follow(subgraph.name, subgraph.url);
  }

  /** The subgraph's current feed version; null when it has no feed; undefined when unknown. */
  version(subgraph: string): string | null | undefined {
    const state = this.#states.get(subgraph);
    if (!state || state.kind === 'none') return null;
    return state.kind === 'tracking' ? state.version : undefined;
  }

  /**
   * Follows the subgraphs of a new supergraph (a registry swap): new ones start unknown and
   * are followed; ones no longer routed to are forgotten. Those in `streamed` (subgraphs
   * published by suppliers, which need not announce on this gateway's Redis) are followed on
   * their own `/feed/events` stream even with Redis.
   */
  track(subgraphs: readonly { readonly name: string; readonly url: string }[], streamed: ReadonlySet<string> = new Set()): void {
    const known = new Map(this.#subgraphs.map((s) => [s.name, s.url]));
    this.#subgraphs = subgraphs;
    let forgotten = false;
    for (const name of [...this.#states.keys()]) {
      if (subgraphs.some((s) => s.name === name)) continue;
      this.#states.delete(name);
      this.#stopStream(name);
      forgotten = true;
    }
    // A withdrawn subgraph is a change too: the dashboard drops its column on it.
    if (forgotten) for (const listener of this.#listeners) listener();
    for (const subgraph of subgraphs) {
      const following = this.#streams.get(subgraph.name)?.url === subgraph.url || (this.#redisUrl !== null && !streamed.has(subgraph.name));
      if (known.get(subgraph.name) === subgraph.url && this.#states.has(subgraph.name) && following) continue;
      this.#states.set(subgraph.name, { kind: 'unknown' });
      this.#stopStream(subgraph.name);
      if (this.#redisUrl && !streamed.has(subgraph.name)) void this.#fetchVersion(subgraph);
      else void this.#follow(subgraph.name, subgraph.url);
    }
  }

  #stopStream(name: string): void {
    this.#streams.get(name)?.abort.abort();
    this.#streams.delete(name);
  }

  /** The names of the subgraphs followed (those of the supergraph served). */
  subgraphs(): string[] {
    return [...this.#states.keys()];
  }

  /** Every subgraph's `version()` now. */
  snapshot(): ReadonlyMap<string, string | null | undefined> {
    return new Map([...this.#states.keys()].map((name) => [name, this.version(name)]));
  }

  /** Resolves once every subgraph's state is known (or after `ms`). */
  async ready(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while ([...this.#states.values()].some((s) => s.kind === 'unknown') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Seconds since each feed subgraph's current version arrived (null while unknown), for metrics. */
  ages(): ReadonlyMap<string, number | null> {
    const now = Date.now();
    const ages = new Map<string, number | null>();
    for (const [name, state] of this.#states) {
      if (state.kind === 'none') continue;
      const since = this.#since.get(name);
      ages.set(name, state.kind === 'tracking' && since ? (now - since.at) / 1000 : null);
    }
    return ages;
  }

  /** Calls `listener` whenever a subgraph's `version()` changes; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(subgraph: string, state: State): void {
    if (!this.#states.has(subgraph)) return;
    const before = this.version(subgraph);
    this.#states.set(subgraph, state);
    if (state.kind === 'tracking' && this.#since.get(subgraph)?.version !== state.version)
      this.#since.set(subgraph, { version: state.version, at: Date.now() });
    if (this.version(subgraph) !== before) for (const listener of this.#listeners) listener();
  }

  /** Follows one subgraph's server-sent events, reconnecting with backoff. */
  async #follow(subgraph: string, subgraphUrl: string): Promise<void> {
    let delay = 200;
    const url = new URL(FEED_EVENTS_PATH, subgraphUrl);
    const stream = { url: subgraphUrl, abort: new AbortController() };
    this.#streams.set(subgraph, stream);
    // A swap that removed the subgraph, or moved it elsewhere, ends this stream.
    const current = () => this.#streams.get(subgraph) === stream;
    while (!this.#closed && current()) {
      const abort = new AbortController();
      // Removed in `finally`: a subgraph that stays down reconnects for hours, one listener each time.
      const forward = () => abort.abort();
      stream.abort.signal.addEventListener('abort', forward, { once: true });
      this.#aborts.add(abort);
      try {
        const response = await fetchSubgraph(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } }, null);
        if (response.status === 404) {
          if (current()) this.#set(subgraph, { kind: 'none' });
          return;
        }
        if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}`);
        delay = 200;
        let buffer = '';
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += value;
          // Events are a few hundred bytes; a stream that never ends one would fill memory.
          if (buffer.length > MAX_EVENT_CHARS) throw new Error(`an event over ${MAX_EVENT_CHARS} characters`);
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const message = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = /^data: (.*)$/m.exec(message)?.[1];
            if (data && current()) this.#set(subgraph, { kind: 'tracking', version: (JSON.parse(data) as FeedVersionEvent).version });
          }
        }
        throw new Error('stream ended');
      } catch (error) {
        if (this.#closed || !current()) return;
        if (this.version(subgraph) !== undefined)
          this.#log(`gateway: lost the feed version of ${subgraph} (${(error as Error).message}); not caching its data until it is back`);
        this.#set(subgraph, { kind: 'unknown' });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      } finally {
        abort.abort(); // this connection is over: close it, whatever ended it
        stream.abort.signal.removeEventListener('abort', forward);
        this.#aborts.delete(abort);
      }
    }
  }

  #subscribe(redisUrl: string): void {
    const subscriber = new Redis(redisUrl, { retryStrategy: (times) => Math.min(200 * times, 2000), maxRetriesPerRequest: null });
    this.#subscriber = subscriber;
    subscriber.on('message', (_channel: string, message: string) => {
      const event = JSON.parse(message) as FeedVersionEvent;
      this.#set(event.subgraph, { kind: 'tracking', version: event.version });
    });
    subscriber.on('error', () => {});
    // (Re)subscribed: read every subgraph's version, as announcements may have been missed.
    subscriber.on('ready', () => {
      void subscriber.subscribe(FEED_CHANNEL).then(() => Promise.all(this.#subgraphs.map((s) => this.#fetchVersion(s))));
    });
    subscriber.on('close', () => {
      if (this.#closed) return;
      for (const s of this.#subgraphs) if (this.version(s.name) !== null) this.#set(s.name, { kind: 'unknown' });
    });
  }

  async #fetchVersion(subgraph: { readonly name: string; readonly url: string }): Promise<void> {
    try {
      const response = await fetchSubgraph(new URL(FEED_VERSION_PATH, subgraph.url));
      if (response.status === 404) this.#set(subgraph.name, { kind: 'none' });
      else if (response.ok) this.#set(subgraph.name, { kind: 'tracking', version: ((await response.json()) as FeedVersionEvent).version });
    } catch {
      setTimeout(() => void this.#fetchVersion(subgraph), 500).unref();
    }
  }

  close(): void {
    this.#closed = true;
    for (const abort of this.#aborts) abort.abort();
    this.#subscriber?.disconnect();
  }
}
