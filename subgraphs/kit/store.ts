import type { FeedVersionEvent } from './feed-events.js';
import type { ReleaseViewData, RolloutEntryView, SnapshotMeta, SnapshotViews, TrustViewData } from './views.js';

/** The accepted snapshots a store serves, oldest report first. Replaced whole on publish. */
export interface Manifest {
  /** Grows by one on every change, so readers can tell manifests apart. */
  readonly generation: number;
  readonly snapshots: readonly SnapshotMeta[];
}

export const EMPTY_MANIFEST: Manifest = Object.freeze({ generation: 0, snapshots: [] });

/** A store lookup key: a snapshot version and an entity key. */
export type VersionKey = `${string}/${string}`;
export const versionKey = (version: string, key: string): VersionKey => `${version}/${key}`;

/**
 * The manifest as a request pinned to `pin` (an ISO instant) sees it: the snapshots made
 * visible strictly before the pin and not yet replaced by then. Without a pin: the
 * current snapshots. The gateway pins every subgraph fetch of one operation to the
 * operation's start, so a reload between two fetches cannot mix snapshots in a response.
 */
export function manifestAt(manifest: Manifest, pin: string | null): Manifest {
  const snapshots = manifest.snapshots.filter((s) =>
    pin === null ? s.replacedAt === null : s.loadedAt < pin && (s.replacedAt === null || s.replacedAt >= pin),
  );
  return snapshots.length === manifest.snapshots.length ? manifest : { generation: manifest.generation, snapshots };
}

/** The snapshot current at `asOf` (the latest dated on or before it), or the latest one. */
export function snapshotAt(manifest: Manifest, asOf?: string | null): SnapshotMeta | null {
  if (asOf == null) return manifest.snapshots.at(-1) ?? null;
  let found: SnapshotMeta | null = null;
  for (const snapshot of manifest.snapshots) {
    if (snapshot.asOf <= asOf) found = snapshot;
    else break;
  }
  return found;
}

/** How long a replaced snapshot stays listed, for requests pinned before its replacement. */
const REPLACED_KEPT_MS = 60_000;

/**
 * A new manifest with `meta` added; a current snapshot of the same file is marked replaced
 * (and dropped a minute later).
 */
export function withSnapshot(manifest: Manifest, meta: SnapshotMeta): Manifest {
  // The same file, unchanged (its visibility must not move), or an older copy of it than the
  // one current (a replica whose folder is behind): nothing to switch.
  const current = manifest.snapshots.find((s) => s.file === meta.file && s.replacedAt === null);
  if (current && (current.version === meta.version || current.modifiedAt > meta.modifiedAt)) return manifest;
  const forgetBefore = new Date(Date.parse(meta.loadedAt) - REPLACED_KEPT_MS).toISOString();
  const others = manifest.snapshots
    .filter((s) => s.replacedAt === null || s.replacedAt >= forgetBefore)
    .map((s) => (s.file === meta.file && s.replacedAt === null ? { ...s, replacedAt: meta.loadedAt } : s));
  const snapshots = [...others, meta].sort(
    (a, b) => a.asOf.localeCompare(b.asOf) || a.file.localeCompare(b.file) || a.loadedAt.localeCompare(b.loadedAt),
  );
  return { generation: manifest.generation + 1, snapshots };
}

/**
 * A new manifest without the current snapshot of `file` (its file was removed): it is marked
 * replaced at `at`, so a request pinned before then still sees it, and is forgotten with the
 * other replaced snapshots. The same manifest when `file` has no current snapshot.
 */
export function withoutFile(manifest: Manifest, file: string, at: string): Manifest {
  if (!manifest.snapshots.some((s) => s.file === file && s.replacedAt === null)) return manifest;
  const snapshots = manifest.snapshots.map((s) => (s.file === file && s.replacedAt === null ? { ...s, replacedAt: at } : s));
  return { generation: manifest.generation + 1, snapshots };
}

/** Where a store stands, for `FeedStatus`. */
export interface StoreHealth {
  readonly backend: 'MEMORY' | 'REDIS';
  readonly available: boolean;
  readonly message: string | null;
}

/**
 * Where a cluster subgraph keeps every accepted snapshot. Snapshots are immutable and keyed
 * by version; `publish` switches the manifest atomically, so a request that reads the
 * manifest once sees one consistent set of snapshots. Lookups take a batch of keys and
 * answer in key order with `null` where there is nothing: one DataLoader batch is one store
 * round trip (one `MGET` in Redis).
 */
export interface ViewStore<Extra = unknown> {
  publish(views: SnapshotViews<Extra>): Promise<Manifest>;
  /** Withdraws the current snapshot of `file` (its file was removed), everywhere the store reaches. */
  withdraw(file: string): Promise<Manifest>;
  manifest(): Promise<Manifest>;
  getReleases(keys: readonly VersionKey[]): Promise<(ReleaseViewData<Extra> | null)[]>;
  getRollouts(keys: readonly VersionKey[]): Promise<(readonly RolloutEntryView[] | null)[]>;
  getTrusts(keys: readonly VersionKey[]): Promise<(TrustViewData | null)[]>;
  health(): StoreHealth;
  /** Tells every gateway replica of a new feed version, where the store is shared (Redis). */
  announce?(event: FeedVersionEvent): Promise<void>;
  close(): Promise<void>;
}

function split(key: VersionKey): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** The embedded default: every accepted snapshot in this process's memory. */
export class MemoryViewStore<Extra = unknown> implements ViewStore<Extra> {
  #manifest: Manifest = EMPTY_MANIFEST;
  readonly #versions = new Map<string, SnapshotViews<Extra>>();
  readonly #now: () => number;

  /** `now` is this host's clock (ms since epoch), which stamps when snapshots become visible. */
  constructor(options: { readonly now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async publish(views: SnapshotViews<Extra>): Promise<Manifest> {
    this.#versions.set(views.meta.version, views);
    // One reference swap, stamped with the moment it happens: a reader holds either the
    // old or the new manifest, and a pinned reader sees the snapshot only if pinned later.
    this.#manifest = withSnapshot(this.#manifest, { ...views.meta, loadedAt: new Date(this.#now()).toISOString(), replacedAt: null });
    // Forget snapshots no longer listed (replaced a while ago), or a changing file would leak.
    const listed = new Set(this.#manifest.snapshots.map((s) => s.version));
    for (const version of this.#versions.keys()) if (!listed.has(version)) this.#versions.delete(version);
    return this.#manifest;
  }

  async withdraw(file: string): Promise<Manifest> {
    this.#manifest = withoutFile(this.#manifest, file, new Date(this.#now()).toISOString());
    return this.#manifest;
  }

  /** Every current snapshot held, for re-publishing elsewhere (e.g. to Redis after it restarts). */
  held(): SnapshotViews<Extra>[] {
    const listed = new Set(this.#manifest.snapshots.filter((s) => s.replacedAt === null).map((s) => s.version));
    return [...this.#versions.values()].filter((v) => listed.has(v.meta.version));
  }

  async manifest(): Promise<Manifest> {
    return this.#manifest;
  }

  #lookup<T>(keys: readonly VersionKey[], pick: (views: SnapshotViews<Extra>, key: string) => T | undefined): (T | null)[] {
    return keys.map((k) => {
      const [version, key] = split(k);
      const views = this.#versions.get(version);
      return (views && pick(views, key)) ?? null;
    });
  }

  async getReleases(keys: readonly VersionKey[]) {
    return this.#lookup(keys, (v, code) => v.releases.get(code));
  }

  async getRollouts(keys: readonly VersionKey[]) {
    return this.#lookup(keys, (v, code) => v.rollouts.get(code));
  }

  async getTrusts(keys: readonly VersionKey[]) {
    return this.#lookup(keys, (v, odsCode) => v.trusts.get(odsCode));
  }

  health(): StoreHealth {
    return { backend: 'MEMORY', available: true, message: null };
  }

  async close(): Promise<void> {}
}
