import DataLoader from 'dataloader';
import { feedVersionAt } from './feed-version.js';
import { manifestAt, type Manifest, type VersionKey, type ViewStore } from './store.js';
import type { ReleaseViewData, RolloutEntryView, TrustViewData } from './views.js';

/** The per-request loaders of a cluster subgraph. */
export interface ViewLoaders<Extra = unknown> {
  /** The store's manifest as of the request's pin, read once: every view of a request comes from it. */
  readonly manifest: () => Promise<Manifest>;
  /** The feed version of that manifest (`feedVersionAt`), with `rejection` as the refused file. */
  readonly feedVersion: (rejection: string | null) => Promise<string>;
  readonly release: DataLoader<VersionKey, ReleaseViewData<Extra> | null>;
  readonly rollout: DataLoader<VersionKey, readonly RolloutEntryView[] | null>;
  readonly trust: DataLoader<VersionKey, TrustViewData | null>;
}

/**
 * Creates fresh loaders for one request. Never share them between requests: a loader
 * caches what it loaded, and a shared one would serve one request's data to another.
 */
export function createLoaders<Extra>(store: ViewStore<Extra>, pin: string | null = null): ViewLoaders<Extra> {
  // The store's manifest is read once per request: the views and the version said to come
  // from it are both of that one read.
  let read: Promise<Manifest> | null = null;
  const stored = () => (read ??= store.manifest());
  let manifest: Promise<Manifest> | null = null;
  return {
    manifest: () => (manifest ??= stored().then((m) => manifestAt(m, pin))),
    feedVersion: (rejection) => stored().then((m) => feedVersionAt(m, pin, rejection)),
    release: new DataLoader((keys) => store.getReleases(keys)),
    rollout: new DataLoader((keys) => store.getRollouts(keys)),
    trust: new DataLoader((keys) => store.getTrusts(keys)),
  };
}
