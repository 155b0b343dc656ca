import DataLoader from 'dataloader';
import { manifestAt, type Manifest, type VersionKey, type ViewStore } from './store.js';
import type { ReleaseViewData, RolloutEntryView, TrustViewData } from './views.js';

/** The per-request loaders of a cluster subgraph. */
export interface ViewLoaders<Extra = unknown> {
  /** The store's manifest as of the request's pin, read once: every view of a request comes from it. */
  readonly manifest: () => Promise<Manifest>;
  readonly release: DataLoader<VersionKey, ReleaseViewData<Extra> | null>;
  readonly rollout: DataLoader<VersionKey, readonly RolloutEntryView[] | null>;
  readonly trust: DataLoader<VersionKey, TrustViewData | null>;
}

/**
 * Creates fresh loaders for one request. Never share them between requests: a loader
 * caches what it loaded, and a shared one would serve one request's data to another.
 */
export function createLoaders<Extra>(store: ViewStore<Extra>, pin: string | null = null): ViewLoaders<Extra> {
  let manifest: Promise<Manifest> | null = null;
  return {
    manifest: () => (manifest ??= store.manifest().then((m) => manifestAt(m, pin))),
    release: new DataLoader((keys) => store.getReleases(keys)),
    rollout: new DataLoader((keys) => store.getRollouts(keys)),
    trust: new DataLoader((keys) => store.getTrusts(keys)),
  };
}
