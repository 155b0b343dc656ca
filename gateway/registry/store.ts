/**
 * Where the supplier registry keeps its state: the published subgraphs (each with its SDL,
 * routing URL and version), the history of every change, and the operations the gateway
 * recorded. In a file by default, in Redis with `REDIS_URL` (shared by every replica, which
 * hear of each change on a pub/sub channel). Changes go through `compareAndSet` on the
 * registry's version, so two publishes racing cannot both land on the same version.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisRegistryStore } from './redis-store.js';

/** One subgraph published through the registry. */
export interface PublishedSubgraph {
  readonly name: string;
  /** Where the gateway routes to it. */
  readonly url: string;
  /** Its full SDL, as composition sees it (the contract included). */
  readonly sdl: string;
  /** 1 on its first publish, one more on each. */
  readonly version: number;
  readonly publishedAt: string;
  /** Who published it: the token's supplier. */
  readonly publishedBy: string;
}

/** What made a registry version. */
export interface RegistryChange {
  readonly action: 'publish' | 'delete' | 'rollback';
  /** The subgraph published or deleted; null for a rollback. */
  readonly subgraph: string | null;
  /** For a rollback: the registry version restored. */
  readonly restored: number | null;
  readonly by: string;
  readonly at: string;
}

/** The registry at one version: the subgraphs published besides the built-in ones. */
export interface RegistryState {
  /** 0 before anything is published; one more on each change. */
  readonly version: number;
  readonly subgraphs: readonly PublishedSubgraph[];
  readonly change: RegistryChange | null;
}

/** An operation the gateway executed, kept so schema checks can tell what a change breaks. */
export interface RecordedOperation {
  /** The operation's name, or `anonymous:<hash>`. */
  readonly name: string;
  readonly document: string;
  readonly lastSeen: string;
  /** The identified client that ran it (`key:…`, `registry:<supplier>`); absent in records from before clients were. */
  readonly client?: string;
  /** The application it named (`apollographql-client-name`), and its version, when it named one. */
  readonly clientName?: string;
  readonly clientVersion?: string;
  /** The token subject that last ran it, hashed (`client-awareness.ts`'s `subjectHash`), when it had one. */
  readonly subject?: string;
}

export const EMPTY_REGISTRY: RegistryState = { version: 0, subgraphs: [], change: null };

/** How many past versions are kept (for history and rollback). */
export const HISTORY_LIMIT = 100;

/** The registry's storage, whichever backend. */
export interface RegistryStore {
  readonly backend: 'FILE' | 'REDIS';
  current(): Promise<RegistryState>;
  /** Every kept version, newest first. */
  history(): Promise<RegistryState[]>;
  /** Writes `next` only if the current version is still `expected`; false if another change won. */
  compareAndSet(expected: number, next: RegistryState): Promise<boolean>;
  /**
   * Undoes the change that made `made`, if it is still the current version: `previous` is
   * current again and `made` leaves the history, as if it had never been stored (a change
   * whose swap failed). False when another change landed on top of it.
   */
  withdraw(made: RegistryState, previous: RegistryState): Promise<boolean>;
  /** Calls `listener` when the registry may have changed (in this process or another). */
  onChange(listener: () => void): () => void;
  /** Adds `operations`, keeping the newest `perClient` of each client. */
  recordOperations(operations: readonly RecordedOperation[], perClient: number): Promise<void>;
  recentOperations(): Promise<RecordedOperation[]>;
  close(): Promise<void>;
}

/** Where a registry store lives. */
export interface RegistryStoreOptions {
  /** Redis, shared by replicas; when null, files in `dir`. */
  readonly redisUrl: string | null;
  /** Prefix of the registry's Redis keys and channel. */
  readonly redisPrefix: string;
  /** Folder of the file backend. */
  readonly dir: string;
}

/**
 * The store cannot be read or written now (Redis down or slow, a damaged file); the message
 * is for the log, as it may name hosts and paths. The registry answers 503.
 */
export class RegistryUnavailableError extends Error {
  override readonly name = 'RegistryUnavailableError';
}

/** A stored registry state, checked enough that readers can trust its shape; `where` names it. */
export function checkState(state: unknown, where: string): RegistryState {
  const s = state as Partial<RegistryState> | null;
  const valid =
    typeof s?.version === 'number' &&
    Array.isArray(s.subgraphs) &&
    s.subgraphs.every((p) => typeof p?.name === 'string' && typeof p.url === 'string' && typeof p.sdl === 'string');
  if (!valid) throw new RegistryUnavailableError(`${where} is not a registry state (version, subgraphs with name, url and sdl)`);
  return s as RegistryState;
}

/** `checkState` of a stored JSON text. */
export function parseState(text: string, where: string): RegistryState {
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw new RegistryUnavailableError(`${where} is not JSON: ${(error as Error).message}`);
  }
  return checkState(state, where);
}

/** Opens the registry's store: Redis when a URL is given, else files in `dir`. */
export function openRegistryStore(options: RegistryStoreOptions): RegistryStore {
  return options.redisUrl ? new RedisRegistryStore(options.redisUrl, options.redisPrefix) : new FileRegistryStore(options.dir);
}

/** The client group of records written before operations carried their client. */
const UNATTRIBUTED = 'unattributed';

/**
 * One record per client, name and named application version: the key a store keeps it under
 * (a check then sees every version of a dashboard that still runs the operation).
 */
export const operationKey = (op: RecordedOperation): string =>
  `${op.client ?? UNATTRIBUTED}\n${op.name}${op.clientName ? `\n${op.clientName}@${op.clientVersion ?? ''}` : ''}`;

/**
 * Keeps one operation per client and name (the latest), and the newest `perClient` of each
 * client, newest first: one client's traffic can never evict another's.
 */
export function mergeOperations(
  kept: readonly RecordedOperation[],
  added: readonly RecordedOperation[],
  perClient: number,
): RecordedOperation[] {
  // Seen in the same millisecond, the newer is the one later in time: `kept` is newest first
  // (what this function returned), `added` oldest first (as recorded), and an operation seen
  // again takes its new place.
  const byKey = new Map<string, { op: RecordedOperation; order: number }>();
  kept.forEach((op, index) => byKey.set(operationKey(op), { op, order: kept.length - index }));
  added.forEach((op, index) => byKey.set(operationKey(op), { op, order: kept.length + 1 + index }));
  const newestFirst = [...byKey.values()]
    .sort((a, b) => b.op.lastSeen.localeCompare(a.op.lastSeen) || b.order - a.order)
    .map(({ op }) => op);
  const held = new Map<string, number>();
  return newestFirst.filter((op) => {
    const client = op.client ?? UNATTRIBUTED;
    const count = held.get(client) ?? 0;
    held.set(client, count + 1);
    return count < perClient;
  });
}

interface FileContent {
  readonly current: RegistryState;
  readonly history: readonly RegistryState[];
}

/**
 * The file backend: `state.json` (current version and history) and `operations.json` in one
 * folder, each replaced whole by a rename, so a crash never leaves half a file. For one
 * gateway process (several replicas need Redis); other processes reading the folder (the
 * insights subgraph, `subgraph:check`) notice changes by polling the file.
 */
export class FileRegistryStore implements RegistryStore {
  readonly backend = 'FILE' as const;
  readonly #state: string;
  readonly #operations: string;
  readonly #listeners = new Set<() => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #watcher: ((now: { mtimeMs: number }, before: { mtimeMs: number }) => void) | null = null;

  constructor(readonly dir: string) {
    this.#state = join(dir, 'state.json');
    this.#operations = join(dir, 'operations.json');
  }

  #read(): FileContent {
    if (!existsSync(this.#state)) return { current: EMPTY_REGISTRY, history: [] };
    let content: { current?: unknown; history?: unknown };
    try {
      content = JSON.parse(readFileSync(this.#state, 'utf8')) as { current?: unknown; history?: unknown };
    } catch (error) {
      throw new RegistryUnavailableError(`Registry file ${this.#state} cannot be read: ${(error as Error).message}`);
    }
    const where = `Registry file ${this.#state}`;
    const history = Array.isArray(content?.history) ? content.history : [];
    return {
      current: checkState(content?.current, `${where} (current)`),
      history: history.map((h, i) => checkState(h, `${where} (history ${i})`)),
    };
  }

  #write(file: string, content: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(content, null, 1));
    renameSync(temporary, file);
  }

  /** Runs `task` after every earlier write of this process. */
  #serial<T>(task: () => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  async current(): Promise<RegistryState> {
    return this.#read().current;
  }

  async history(): Promise<RegistryState[]> {
    return [...this.#read().history];
  }

  compareAndSet(expected: number, next: RegistryState): Promise<boolean> {
    return this.#serial(() => {
      const content = this.#read();
      if (content.current.version !== expected) return false;
      this.#write(this.#state, { current: next, history: [next, ...content.history].slice(0, HISTORY_LIMIT) });
      for (const listener of this.#listeners) listener();
      return true;
    });
  }

  withdraw(made: RegistryState, previous: RegistryState): Promise<boolean> {
    return this.#serial(() => {
      const content = this.#read();
      if (content.current.version !== made.version) return false;
      const history = content.history[0]?.version === made.version ? content.history.slice(1) : content.history;
      this.#write(this.#state, { current: previous, history });
      for (const listener of this.#listeners) listener();
      return true;
    });
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (!this.#watcher) {
      this.#watcher = (now, before) => {
        if (now.mtimeMs !== before.mtimeMs) for (const l of this.#listeners) l();
      };
      // Polling, because other processes write the file and fs.watch misses renames on some systems.
      watchFile(this.#state, { interval: 200 }, this.#watcher);
    }
    return () => this.#listeners.delete(listener);
  }

  recordOperations(operations: readonly RecordedOperation[], perClient: number): Promise<void> {
    return this.#serial(async () => {
      this.#write(this.#operations, mergeOperations(await this.recentOperations(), operations, perClient));
    }).then(() => {});
  }

  async recentOperations(): Promise<RecordedOperation[]> {
    if (!existsSync(this.#operations)) return [];
    try {
      return JSON.parse(readFileSync(this.#operations, 'utf8')) as RecordedOperation[];
    } catch {
      return []; // recorded operations are a hint for checks, never worth failing for
    }
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    if (this.#watcher) unwatchFile(this.#state, this.#watcher);
    await this.#queue;
  }
}
