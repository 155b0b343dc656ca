/**
 * Live queries: an answer kept current. Every stream on the same operation, variables and
 * credentials shares one group; the group runs the operation once, remembers the feed version
 * of every subgraph the answer came from, and runs it again (once, for all its streams) only
 * when one of those versions changes or the supergraph is swapped. A stream is sent a new
 * result only when the result differs from the last one sent: a report from a subgraph the
 * answer did not touch costs nothing, and one that leaves the answer as it was sends nothing.
 * An answer `asOf` a past date is no exception: a late report dated before it can change it.
 *
 * The gateway listens for changes only while a group is open, and a group lives exactly as
 * long as its streams: when the last one ends, nothing of it is left (no listener, no timer).
 */
import { createHash } from 'node:crypto';
import type { FormattedExecutionResult } from 'graphql';

/** An operation as a stream carries it (after persisted ids are resolved and `@live` removed). */
export interface StreamRequest {
  readonly query: string;
  readonly operationName?: string | null;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  /** The client's request headers (lower-case names), as Apollo's plugins read them. */
  readonly headers: ReadonlyMap<string, string>;
}

/** One run of an operation: its result (errors already masked) and where it came from. */
export interface Execution {
  readonly result: FormattedExecutionResult;
  /** The feed version, as the run started, of each subgraph the answer came from. */
  readonly touched: ReadonlyMap<string, string | null | undefined>;
}

/** What live queries listen to. */
export interface LiveQueriesOptions {
  /** Runs an operation as the gateway runs any (plugins, limits, caches, the error mask). */
  readonly execute: (request: StreamRequest) => Promise<Execution>;
  /** Each subgraph's feed version now (`FeedVersions`), and a way to hear when one changes. */
  readonly feedVersions: {
    version(subgraph: string): string | null | undefined;
    onChange(listener: () => void): () => void;
  };
  /** Hears of every supergraph swap; returns the unsubscribe. */
  readonly onSupergraphChange: (listener: () => void) => () => void;
  /** Told of every result pushed to a stream after its first (for the metrics). */
  readonly onPush?: () => void;
  /** Told of every run (for the metrics). */
  readonly onExecution?: () => void;
  /** What else a run's answer depends on: the client headers its subgraphs receive (`headers.ts`). */
  readonly vary?: (headers: ReadonlyMap<string, string>) => unknown;
}

/** A live stream: its first value is the current result, then one per change. */
export type LiveStream = AsyncGenerator<FormattedExecutionResult, undefined, unknown>;

/** The streams of one operation, variables and credentials, and their last shared run. */
interface Group {
  readonly key: string;
  readonly request: StreamRequest;
  readonly streams: Set<Subscriber>;
  last: Execution | null;
  lastJson: string;
  running: Promise<void> | null;
  /** A change arrived while running: run once more when done. */
  again: boolean;
  /** A run is due once the coalescing window closes. */
  due: NodeJS.Timeout | null;
  /** Runs in a row that ended behind the versions known by then (their re-runs back off). */
  behind: number;
}

/**
 * How long a change waits before its run, so reports landing together (several clusters, or
 * a swap with them) cost one run. A subgraph shows a new report only to fetches pinned
 * strictly after it became visible on its own clock (`subgraphs/kit/store.ts`), and the
 * gateway can hear of it sooner (within that millisecond, or with its clock behind): a kit
 * subgraph then says it answered from the old version (`FEED_VERSION_HEADER`), the run counts
 * as behind and runs again. The wait stays because it makes that rare for a subgraph on the
 * same clock, and because a subgraph that does not say (an older kit) has only the wait.
 */
export const COALESCE_MS = 25;

/** The longest a run that ended behind waits before the next (each one in a row doubles the wait). */
export const BEHIND_MAX_MS = 1000;

/** One stream's queue: only the newest result waits, so a slow reader never piles up old ones. */
interface Subscriber {
  pending: FormattedExecutionResult | null;
  wake: (() => void) | null;
  done: boolean;
}

/** Whether a run's result is a request error (refused, invalid): nothing to keep current. */
export function isRequestError(result: FormattedExecutionResult): boolean {
  return !('data' in result) || result.data === undefined;
}

/**
 * The live queries of one gateway. `open` starts (or joins) a group and returns its stream,
 * or the result itself when the operation is refused (nothing stays open for it).
 */
export class LiveQueries {
  readonly #options: LiveQueriesOptions;
  readonly #groups = new Map<string, Group>();
  #unlisten: (() => void) | null = null;
  #executions = 0;

  constructor(options: LiveQueriesOptions) {
    this.#options = options;
  }

  /** Distinct live operations open now. */
  get groups(): number {
    return this.#groups.size;
  }

  /** Streams open now, across every group. */
  get streams(): number {
    let count = 0;
    for (const group of this.#groups.values()) count += group.streams.size;
    return count;
  }

  /** Runs made so far, the first of each group and every re-run. */
  get executions(): number {
    return this.#executions;
  }

  /** Whether the gateway is listening for changes (only while a group is open). */
  get listening(): boolean {
    return this.#unlisten !== null;
  }

  /** Opens a live stream on `request`, or answers the refusal once. */
  async open(request: StreamRequest): Promise<LiveStream | FormattedExecutionResult> {
    const key = groupKey(request, this.#options.vary?.(request.headers) ?? null);
    let group = this.#groups.get(key);
    if (!group) {
      group = { key, request, streams: new Set(), last: null, lastJson: '', running: null, again: false, due: null, behind: 0 };
      this.#groups.set(key, group);
      this.#listen();
      this.#refresh(group);
    }
    const subscriber: Subscriber = { pending: null, wake: null, done: false };
    // Counted in the group at once, so a group is never dropped while a stream is joining it.
    group.streams.add(subscriber);
    while (!group.last && group.running) await group.running;
    const first = group.last?.result;
    if (!first || isRequestError(first)) {
      this.#leave(group, subscriber);
      return first ?? { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
    }
    subscriber.pending = first;
    return this.#stream(group, subscriber);
  }

  #stream(group: Group, subscriber: Subscriber): LiveStream {
    const leave = () => this.#leave(group, subscriber);
    const stream: LiveStream = {
      next: async () => {
        while (!subscriber.done && !subscriber.pending) await new Promise<void>((resolve) => (subscriber.wake = resolve));
        if (subscriber.done) return { done: true, value: undefined };
        const value = subscriber.pending!;
        subscriber.pending = null;
        return { done: false, value };
      },
      return: async () => {
        leave();
        return { done: true, value: undefined };
      },
      throw: async (error: unknown) => {
        leave();
        throw error;
      },
      [Symbol.asyncIterator]: () => stream,
    };
    return stream;
  }

  #leave(group: Group, subscriber: Subscriber): void {
    if (subscriber.done) return;
    subscriber.done = true;
    subscriber.pending = null;
    subscriber.wake?.();
    subscriber.wake = null;
    group.streams.delete(subscriber);
    if (group.streams.size > 0 || this.#groups.get(group.key) !== group) return;
    this.#groups.delete(group.key);
    if (group.due) clearTimeout(group.due);
    group.due = null;
    if (this.#groups.size === 0) {
      this.#unlisten?.();
      this.#unlisten = null;
    }
  }

  #listen(): void {
    if (this.#unlisten) return;
    const offFeeds = this.#options.feedVersions.onChange(() => this.#feedsChanged());
    const offSwaps = this.#options.onSupergraphChange(() => {
      for (const group of this.#groups.values()) this.#schedule(group);
    });
    this.#unlisten = () => {
      offFeeds();
      offSwaps();
    };
  }

  /** Runs again only the groups whose answer came from a subgraph whose version moved. */
  #feedsChanged(): void {
    for (const group of this.#groups.values()) {
      // A first run under way is checked when it ends (below).
      if (group.last && this.#moved(group.last)) this.#schedule(group);
    }
  }

  /**
   * Whether a subgraph the run's answer came from has another version now. One that became
   * unknown (its stream is down) counts too: the subgraph may be down, and a run says so in
   * the answer (its errors name it) where the stream would otherwise keep showing an answer
   * it can no longer vouch for; if it is only the version stream, the run gives the same
   * answer and nothing is pushed. Back (known again), it counts once more.
   */
  #moved(run: Execution): boolean {
    return [...run.touched].some(([subgraph, version]) => this.#options.feedVersions.version(subgraph) !== version);
  }

  /** A run once the coalescing window closes (one, however many changes arrive in it). */
  #schedule(group: Group, delay = COALESCE_MS): void {
    if (group.due) return;
    group.due = setTimeout(() => {
      group.due = null;
      if (this.#groups.get(group.key) === group) this.#refresh(group);
    }, delay);
  }

  /** One run for the whole group; a change during it makes one more run afterwards. */
  #refresh(group: Group): void {
    if (group.running) {
      group.again = true;
      return;
    }
    group.running = (async () => {
      do {
        group.again = false;
        this.#executions += 1;
        this.#options.onExecution?.();
        const run = await this.#options.execute(group.request);
        const json = JSON.stringify(run.result);
        const first = group.last === null;
        group.last = run;
        if (json === group.lastJson) continue;
        group.lastJson = json;
        if (first) continue;
        for (const subscriber of group.streams) {
          if (subscriber.done) continue;
          subscriber.pending = run.result;
          subscriber.wake?.();
          subscriber.wake = null;
          this.#options.onPush?.();
        }
      } while (group.again && group.streams.size > 0);
    })().finally(() => {
      group.running = null;
      if (!group.last || this.#groups.get(group.key) !== group) return;
      // A report that landed while the run read its snapshot (after its versions were taken),
      // or a subgraph that answered from an older version than the gateway knew: no change
      // event will come again for it, so look now. A subgraph that stays behind (its clock far
      // ahead, a replica that lags) is asked again less and less often, never in a tight loop.
      if (!this.#moved(group.last)) {
        group.behind = 0;
        return;
      }
      group.behind += 1;
      this.#schedule(group, Math.min(COALESCE_MS * 2 ** (group.behind - 1), BEHIND_MAX_MS));
    });
  }
}

/**
 * The key streams share a group by: operation, variables and the credentials sent (an
 * `Authorization` header may see what another client may not), and `vary`, what else its
 * subgraphs receive (propagated headers); never the client itself.
 */
export function groupKey(request: StreamRequest, vary: unknown = null): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        request.operationName ?? null,
        request.query,
        request.variables ?? {},
        request.headers.get('authorization') ?? null,
        ...(vary === null ? [] : [vary]),
      ]),
    )
    .digest('hex');
}
