import type { Result } from 'ioredis';
import { RedisLink } from '../../schema/redis-link.js';
import type { FeedVersionEvent } from './feed-events.js';
import { announceOn } from './redis-announcer.js';
import { EMPTY_MANIFEST, MemoryViewStore, type Manifest, type StoreHealth, type VersionKey, type ViewStore } from './store.js';
import type { ReleaseViewData, RolloutEntryView, SnapshotViews, TrustViewData } from './views.js';

/**
 * Adds a snapshot to the manifest in one atomic step: Redis runs the script alone, so two
 * replicas publishing at once both land. A snapshot of the same file is replaced.
 */
const PUBLISH_MANIFEST = `
local current = redis.call('GET', KEYS[1])
local manifest = current and cjson.decode(current) or { generation = 0, snapshots = {} }
local meta = cjson.decode(ARGV[1])
local function current(s) return s.replacedAt == nil or s.replacedAt == cjson.null end
for _, s in ipairs(manifest.snapshots) do
  -- the same file unchanged (another replica published it), or an older copy of it than
  -- the one current (a replica whose folder is behind): nothing to switch
  if s.file == meta.file and current(s) and (s.version == meta.version or (s.modifiedAt or '') > meta.modifiedAt) then
    return manifest.generation
  end
end
local kept = {}
for _, s in ipairs(manifest.snapshots) do
  -- a replaced snapshot stays listed a minute, for requests pinned before its replacement
  if s.file == meta.file and current(s) then s.replacedAt = meta.loadedAt end
  if current(s) or s.replacedAt >= ARGV[2] then table.insert(kept, s) end
end
table.insert(kept, meta)
table.sort(kept, function(a, b)
  if a.asOf ~= b.asOf then return a.asOf < b.asOf end
  if a.file ~= b.file then return a.file < b.file end
  return a.loadedAt < b.loadedAt
end)
manifest.snapshots = kept
manifest.generation = manifest.generation + 1
redis.call('SET', KEYS[1], cjson.encode(manifest))
return manifest.generation
`;

/**
 * Marks the current snapshot of a file replaced (its file was removed), in one atomic step
 * like the publish; it then drops out with the other replaced snapshots.
 */
const WITHDRAW_MANIFEST = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local manifest = cjson.decode(current)
local changed = false
for _, s in ipairs(manifest.snapshots) do
  if s.file == ARGV[1] and (s.replacedAt == nil or s.replacedAt == cjson.null) then
    s.replacedAt = ARGV[2]
    changed = true
  end
end
if not changed then return manifest.generation end
manifest.generation = manifest.generation + 1
redis.call('SET', KEYS[1], cjson.encode(manifest))
return manifest.generation
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    publishManifest(key: string, meta: string, forgetBefore: string): Result<number, Context>;
    withdrawManifest(key: string, file: string, replacedAt: string): Result<number, Context>;
  }
}

export interface RedisViewStoreOptions {
  readonly url: string;
  /** Prefix of every key, e.g. `msg:v1:south:`; replicas of one subgraph share it. */
  readonly prefix: string;
  readonly log?: (line: string) => void;
}

const WRITE_CHUNK = 1000;

/**
 * The layout of what this store writes; part of every key, so a release that changes the
 * views' JSON never reads what an older one wrote under the same snapshot version.
 */
export const STORE_FORMAT = 'v1';
const SWITCH_GRACE_MS = 100;

/**
 * Snapshots in Redis, shared by every replica of a subgraph: immutable, versioned keys
 * (`<prefix>v:<version>:r:<code>` and so on) and one manifest key switched atomically. Each
 * DataLoader batch is one `MGET`. The replica also keeps its own accepted snapshots in
 * memory: while Redis does not answer it serves those and says so in `health()`, and when
 * Redis is back it publishes them again (Redis here keeps nothing on disk).
 */
export class RedisViewStore<Extra = unknown> implements ViewStore<Extra> {
  readonly #link: RedisLink;
  readonly #local = new MemoryViewStore<Extra>();
  readonly #prefix: string;
  readonly #log: (line: string) => void;
  #resync: Promise<void> | null = null;
  /** Files withdrawn while Redis was away: withdrawn there too once it is back. */
  readonly #pendingWithdrawals = new Set<string>();

  constructor(options: RedisViewStoreOptions) {
    this.#prefix = options.prefix;
    this.#log = options.log ?? (() => {});
    // Commands fail fast while Redis is away (we fall back to memory); once it is back,
    // publish what this replica holds (Redis here keeps nothing on disk).
    this.#link = new RedisLink(options.url, {
      what: 'snapshot store',
      log: this.#log,
      onReady: () => (this.#resync = this.#publishAll().finally(() => (this.#resync = null))),
    });
    this.#link.redis.defineCommand('publishManifest', { numberOfKeys: 1, lua: PUBLISH_MANIFEST });
    this.#link.redis.defineCommand('withdrawManifest', { numberOfKeys: 1, lua: WITHDRAW_MANIFEST });
  }

  #key(...parts: string[]): string {
    return this.#prefix + parts.join(':');
  }

  /**
   * Publishes every snapshot this replica holds; used when Redis comes (back). Each keeps the
   * time it became visible here, so a request pinned before the republish still sees it.
   * Until this is done, `manifest()` answers from memory: Redis lists only part of the
   * reports meanwhile (the soak test saw answers from an older report without this).
   */
  async #publishAll(): Promise<void> {
    for (const file of this.#pendingWithdrawals) {
      try {
        await this.#link.redis.withdrawManifest(this.#key('manifest'), file, new Date().toISOString());
        this.#pendingWithdrawals.delete(file);
      } catch (error) {
        this.#link.failed(error as Error);
        return;
      }
    }
    const visibleSince = new Map((await this.#local.manifest()).snapshots.map((s) => [s.version, s.loadedAt]));
    for (const views of this.#local.held()) {
      try {
        await this.#write(views, visibleSince.get(views.meta.version));
      } catch (error) {
        this.#link.failed(error as Error);
        return;
      }
    }
    if (this.#local.held().length > 0) this.#log(`Redis ready: ${this.#local.held().length} snapshots published`);
  }

  /** Waits until a publish started by a reconnection is done (for tests and shutdown). */
  async settled(): Promise<void> {
    await this.#resync;
  }

  async #write(views: SnapshotViews<Extra>, visibleSince?: string): Promise<void> {
    const { version } = views.meta;
    const done = this.#key('v', version, 'meta');
    if (!(await this.#link.redis.exists(done))) {
      const entries: [string, string][] = [];
      for (const [code, view] of views.releases) entries.push([this.#key('v', version, 'r', code), JSON.stringify(view)]);
      for (const [code, rollout] of views.rollouts) entries.push([this.#key('v', version, 'ro', code), JSON.stringify(rollout)]);
      for (const [ods, trust] of views.trusts) entries.push([this.#key('v', version, 't', ods), JSON.stringify(trust)]);
      for (let i = 0; i < entries.length; i += WRITE_CHUNK) {
        await this.#link.redis.mset(...entries.slice(i, i + WRITE_CHUNK).flat());
      }
      // Written last: its presence says every key of the version is there.
      await this.#link.redis.set(done, JSON.stringify(views.meta));
    }
    // Stamped a little ahead: the switch happens within that time, so no request pinned
    // before the stamp can see the snapshot in one fetch and miss it in another.
    const loadedAt = visibleSince ?? new Date(Date.now() + SWITCH_GRACE_MS).toISOString();
    const forgetBefore = new Date(Date.now() - 60_000).toISOString();
    await this.#link.redis.publishManifest(
      this.#key('manifest'),
      JSON.stringify({ ...views.meta, loadedAt, replacedAt: null }),
      forgetBefore,
    );
    // Returns once the snapshot is visible (its loadedAt has passed), so the version announced
    // next never lets a gateway fill its cache under the new version from the old snapshot.
    await new Promise((resolve) => setTimeout(resolve, SWITCH_GRACE_MS + 5));
  }

  /**
   * Every gateway replica learns the new version at once, whichever replica announces it.
   * The event names its subgraph: a gateway with Redis hears versions only here, so a store
   * that stayed quiet would leave every replica's caches and live queries on the old report.
   */
  async announce(event: FeedVersionEvent): Promise<void> {
    await announceOn(this.#link, event);
  }

  async publish(views: SnapshotViews<Extra>): Promise<Manifest> {
    const local = await this.#local.publish(views);
    if (!this.#link.available) return local;
    try {
      await this.#write(views);
      return await this.manifest();
    } catch (error) {
      this.#link.failed(error as Error);
      return local;
    }
  }

  /**
   * Withdraws the file's snapshot here and in Redis: the replica's own copy too, or a
   * republish after Redis restarts would bring the report back.
   */
  async withdraw(file: string): Promise<Manifest> {
    const local = await this.#local.withdraw(file);
    if (!this.#link.available) {
      this.#pendingWithdrawals.add(file);
      return local;
    }
    try {
      // Stamped a little ahead, as a publish is: no request pinned before it loses the report mid-way.
      await this.#link.redis.withdrawManifest(this.#key('manifest'), file, new Date(Date.now() + SWITCH_GRACE_MS).toISOString());
      await new Promise((resolve) => setTimeout(resolve, SWITCH_GRACE_MS + 5));
      return await this.manifest();
    } catch (error) {
      this.#pendingWithdrawals.add(file);
      this.#link.failed(error as Error);
      return local;
    }
  }

  async manifest(): Promise<Manifest> {
    // Republishing after Redis came back: Redis lists only part of this replica's reports yet.
    if (this.#link.available && !this.#resync) {
      try {
        const json = await this.#link.redis.get(this.#key('manifest'));
        if (json) return JSON.parse(json) as Manifest;
        // Redis answered but has no manifest (it restarted empty): ours, while we republish.
        this.#resync ??= this.#publishAll().finally(() => (this.#resync = null));
      } catch (error) {
        this.#link.failed(error as Error);
      }
    }
    const local = await this.#local.manifest();
    return local.snapshots.length > 0 ? local : EMPTY_MANIFEST;
  }

  async #lookup<T>(
    kind: string,
    keys: readonly VersionKey[],
    fallback: (keys: readonly VersionKey[]) => Promise<(T | null)[]>,
  ): Promise<(T | null)[]> {
    if (!this.#link.available || keys.length === 0) return fallback(keys);
    try {
      const values = await this.#link.redis.mget(
        ...keys.map((k) => this.#key('v', k.slice(0, k.indexOf('/')), kind, k.slice(k.indexOf('/') + 1))),
      );
      const parsed = values.map((v) => (v === null ? null : (JSON.parse(v) as T)));
      if (parsed.every((v) => v !== null)) return parsed;
      // Missing keys (Redis restarted and republishing is under way): fill from memory.
      const local = await fallback(keys);
      return parsed.map((v, i) => v ?? local[i] ?? null);
    } catch (error) {
      this.#link.failed(error as Error);
      return fallback(keys);
    }
  }

  getReleases(keys: readonly VersionKey[]): Promise<(ReleaseViewData<Extra> | null)[]> {
    return this.#lookup('r', keys, (k) => this.#local.getReleases(k));
  }

  getRollouts(keys: readonly VersionKey[]): Promise<(readonly RolloutEntryView[] | null)[]> {
    return this.#lookup('ro', keys, (k) => this.#local.getRollouts(k));
  }

  getTrusts(keys: readonly VersionKey[]): Promise<(TrustViewData | null)[]> {
    return this.#lookup('t', keys, (k) => this.#local.getTrusts(k));
  }

  health(): StoreHealth {
    const problem = this.#link.problem;
    return {
      backend: 'REDIS',
      available: this.#link.available,
      message: problem && `${problem}: serving this replica's snapshots from memory`,
    };
  }

  async close(): Promise<void> {
    await this.#resync?.catch(() => {});
    this.#link.close();
  }
}
