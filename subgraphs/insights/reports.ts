/**
 * Where insights learns of reports, for `Subscription.reportAccepted` / `reportRejected`:
 * each built-in cluster subgraph's `GET /feed/events` stream (its feed version, on connect and
 * on every change), then, on each new version, that subgraph's own `FeedStatus` entity over
 * `/graphql` (`current` and `lastRejected`). Why these and not the files or the gateway's
 * versions: the version stream is what a cluster subgraph already publishes for every
 * accepted or refused report, and its `FeedStatus` is the public-safe account of one (the
 * file's name, date and row count, or its first problems): insights needs no access to feed
 * folders or stores, and says nothing a `feeds` query would not.
 *
 * "Current state": the latest report of each cluster, accepted and refused apart, is kept
 * (as the first status read found it, or the latest event since), and a new subscriber gets
 * it first (`replayed: true`), so a client reconnecting after a gap knows where each feed
 * stands before any new event.
 */
import { FEED_EVENTS_PATH } from '../../schema/wire.js';

/** How many of a refused report's problems an event carries (the rest are counted). */
export const EVENT_ERRORS = 5;
/** Subscribers insights serves at once (each gateway subscription is one). */
export const MAX_SUBSCRIBERS = 1000;
/** The longest `/feed/events` line read, and the longest status answer. */
const MAX_LINE_BYTES = 64 * 1024;
const READ_TIMEOUT_MS = 3000;
const RECONNECT_MS = 1000;

export type ReportKind = 'accepted' | 'rejected';

/** One report as a subscription event. */
export interface ReportEvent {
  readonly kind: ReportKind;
  readonly cluster: { readonly id: string };
  readonly subgraph: string;
  readonly file: string;
  readonly asOf: string | null;
  readonly rows: number | null;
  /** The releases an accepted report covers, as references (programme resolves them); none for refused ones. */
  readonly releases: readonly { readonly code: string }[];
  readonly errorCount: number;
  readonly errors: readonly { line: number | null; path: string | null; field: string; message: string }[];
  readonly replayed: boolean;
}

/** A cluster subgraph followed: its name, `/graphql` URL and `FeedStatus` entity type. */
export interface FollowedCluster {
  readonly name: string;
  readonly url: string;
  readonly statusType: string;
}

interface Status {
  cluster: { id: string };
  current: { file: string; asOf: string; rows: number; checksum: string; releases?: { code: string }[] } | null;
  lastRejected: {
    file: string;
    rejectedAt: string;
    errorCount: number;
    errors: { line: number | null; path: string | null; field: string; message: string }[];
  } | null;
}

interface Subscriber {
  readonly kind: ReportKind;
  readonly cluster: string | null;
  readonly queue: ReportEvent[];
  wake: (() => void) | null;
  done: boolean;
}

/** The report events of the followed clusters, as async iterators for subscription resolvers. */
export class ReportFeed {
  readonly #clusters: readonly FollowedCluster[];
  readonly #log: (line: string) => void;
  /** The latest report of each subgraph, by kind, and the key it was recognised by. */
  readonly #latest = new Map<
    string,
    { accepted: ReportEvent | null; rejected: ReportEvent | null; acceptedKey: string; rejectedKey: string }
  >();
  readonly #subscribers = new Set<Subscriber>();
  readonly #aborts = new Set<AbortController>();
  /** The published clusters followed now, by name, each with what ends its stream. */
  readonly #published = new Map<string, { url: string; abort: AbortController }>();
  #stopped = false;

  constructor(clusters: readonly FollowedCluster[], log: (line: string) => void = () => {}) {
    this.#clusters = clusters;
    this.#log = log;
  }

  /**
   * Follows exactly these published clusters (from the registry) besides the built-in ones:
   * a new one (or one whose URL changed) is followed, one no longer listed is dropped, its
   * latest report forgotten (a new subscriber is not told of a withdrawn cluster).
   */
  followPublished(clusters: readonly FollowedCluster[]): void {
    if (this.#stopped) return;
    const wanted = new Map(clusters.filter((c) => !this.#clusters.some((b) => b.name === c.name)).map((c) => [c.name, c]));
    for (const [name, followed] of this.#published) {
      if (wanted.get(name)?.url === followed.url) continue;
      followed.abort.abort();
      this.#published.delete(name);
      this.#latest.delete(name);
    }
    for (const [name, cluster] of wanted) {
      if (this.#published.has(name)) continue;
      const abort = new AbortController();
      this.#published.set(name, { url: cluster.url, abort });
      void this.#follow(cluster, abort.signal);
    }
  }

  /** Subscribers open now (what a test counts to see that nothing is left behind). */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Follows every cluster's version stream (reconnecting while not stopped). */
  start(): void {
    for (const cluster of this.#clusters) void this.#follow(cluster);
  }

  /** Ends every subscription (they complete) and stops following. */
  stop(): void {
    this.#stopped = true;
    for (const abort of this.#aborts) abort.abort();
    for (const followed of this.#published.values()) followed.abort.abort();
    for (const subscriber of [...this.#subscribers]) this.#leave(subscriber);
  }

  /** The events of `kind` (of one cluster id, or all), the latest of each cluster first. */
  iterate(kind: ReportKind, cluster: string | null): AsyncIterableIterator<ReportEvent> {
    if (this.#subscribers.size >= MAX_SUBSCRIBERS)
      throw new Error(`insights already serves ${MAX_SUBSCRIBERS} report subscriptions, the most it takes`);
    const subscriber: Subscriber = { kind, cluster, queue: [], wake: null, done: this.#stopped };
    for (const latest of this.#latest.values()) {
      const event = latest[kind];
      if (event && (cluster === null || event.cluster.id === cluster)) subscriber.queue.push({ ...event, replayed: true });
    }
    if (!subscriber.done) this.#subscribers.add(subscriber);
    const iterator: AsyncIterableIterator<ReportEvent> = {
      next: async () => {
        while (!subscriber.done && subscriber.queue.length === 0) await new Promise<void>((resolve) => (subscriber.wake = resolve));
        const event = subscriber.queue.shift();
        return event ? { done: false, value: event } : { done: true, value: undefined };
      },
      return: async () => {
        this.#leave(subscriber);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  #leave(subscriber: Subscriber): void {
    subscriber.done = true;
    subscriber.queue.length = 0;
    this.#subscribers.delete(subscriber);
    subscriber.wake?.();
    subscriber.wake = null;
  }

  #emit(event: ReportEvent): void {
    for (const subscriber of this.#subscribers) {
      if (subscriber.kind !== event.kind || (subscriber.cluster !== null && subscriber.cluster !== event.cluster.id)) continue;
      // A gateway that does not read keeps only the newest few, never an unbounded queue.
      if (subscriber.queue.length >= 16) subscriber.queue.shift();
      subscriber.queue.push(event);
      subscriber.wake?.();
      subscriber.wake = null;
    }
  }

  /** Reads one cluster's `/feed/events` until it ends, then reconnects (unless stopped). */
  async #follow(cluster: FollowedCluster, until?: AbortSignal): Promise<void> {
    // Logged once per outage, not on every retry.
    let logged = false;
    const ended = () => this.#stopped || until?.aborted === true;
    while (!ended()) {
      const abort = new AbortController();
      const end = () => abort.abort();
      until?.addEventListener('abort', end, { once: true });
      this.#aborts.add(abort);
      try {
        const response = await fetch(new URL(FEED_EVENTS_PATH, cluster.url), { signal: abort.signal });
        const reader = response.body?.getReader();
        if (response.ok) logged = false;
        let buffered = '';
        const decoder = new TextDecoder();
        for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
          buffered += decoder.decode(read.value, { stream: true });
          if (buffered.length > MAX_LINE_BYTES) throw new Error(`${cluster.name}'s feed events sent an event over ${MAX_LINE_BYTES} bytes`);
          let end: number;
          while ((end = buffered.indexOf('\n\n')) >= 0) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            if (/^event: version$/m.test(block) && !ended()) await this.#read(cluster);
          }
        }
      } catch (error) {
        if (!ended() && !logged)
          this.#log(`insights: ${cluster.name}'s feed events: ${(error as Error).message}; reconnecting every ${RECONNECT_MS} ms`);
        logged = true;
      } finally {
        until?.removeEventListener('abort', end);
        this.#aborts.delete(abort);
      }
      if (!ended()) await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS).unref());
    }
  }

  /** Reads the cluster's feed status and emits what is new since the last read. */
  async #read(cluster: FollowedCluster): Promise<void> {
    let status: Status;
    try {
      status = await readStatus(cluster);
    } catch (error) {
      this.#log(`insights: cannot read ${cluster.name}'s feed status: ${(error as Error).message}`);
      return;
    }
    const accepted = status.current;
    const rejected = status.lastRejected;
    const acceptedKey = accepted ? `${accepted.file}@${accepted.checksum}` : '';
    const rejectedKey = rejected ? `${rejected.file}@${rejected.rejectedAt}` : '';
    const seen = this.#latest.get(cluster.name);
    const base = { cluster: { id: status.cluster.id }, subgraph: cluster.name, replayed: false };
    const acceptedEvent: ReportEvent | null = accepted
      ? {
          ...base,
          kind: 'accepted',
          file: accepted.file,
          asOf: accepted.asOf,
          rows: accepted.rows,
          releases: (accepted.releases ?? []).map((r) => ({ code: r.code })),
          errorCount: 0,
          errors: [],
        }
      : null;
    const rejectedEvent: ReportEvent | null = rejected
      ? {
          ...base,
          kind: 'rejected',
          file: rejected.file,
          asOf: null,
          rows: null,
          releases: [],
          errorCount: rejected.errorCount,
          errors: rejected.errors.slice(0, EVENT_ERRORS),
        }
      : null;
    this.#latest.set(cluster.name, { accepted: acceptedEvent, rejected: rejectedEvent, acceptedKey, rejectedKey });
    // The first read is the state found, not news: it is only replayed to subscribers.
    if (!seen) return;
    if (acceptedEvent && acceptedKey !== seen.acceptedKey) this.#emit(acceptedEvent);
    if (rejectedEvent && rejectedKey !== seen.rejectedKey) this.#emit(rejectedEvent);
  }
}

/** The cluster's own `FeedStatus` entity, read from its `/graphql`. */
async function readStatus(cluster: FollowedCluster): Promise<Status> {
  const query = `query ReportStatus($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${cluster.statusType} {
    cluster { id } current { file asOf rows checksum releases { code } }
    lastRejected { file rejectedAt errorCount errors { line path field message } } } } }`;
  const response = await fetch(cluster.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables: { representations: [{ __typename: cluster.statusType, id: cluster.name }] } }),
    signal: AbortSignal.timeout(READ_TIMEOUT_MS),
  });
  const text = await response.text();
  if (text.length > 16 * MAX_LINE_BYTES) throw new Error(`the answer is over ${16 * MAX_LINE_BYTES} bytes`);
  const body = JSON.parse(text) as { data?: { _entities?: (Status | null)[] } };
  const status = body.data?._entities?.[0];
  if (!response.ok || !status?.cluster) throw new Error(`HTTP ${response.status}, no ${cluster.statusType}`);
  return status;
}
