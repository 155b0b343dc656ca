import DataLoader from 'dataloader';
import type { ViewStore } from './store.js';
import type { ReleaseView, TrustView } from './views.js';

/** The per-request loaders of a cluster subgraph. */
export interface ViewLoaders<Extra = unknown> {
  readonly releaseView: DataLoader<string, ReleaseView<Extra> | null>;
  readonly trustView: DataLoader<string, TrustView | null>;
}

/**
 * Creates fresh loaders for one request. Never share them between requests: a loader
 * caches what it loaded, and a shared one would serve one request's data to another.
 */
export function createLoaders<Extra>(store: ViewStore<Extra>): ViewLoaders<Extra> {
  return {
    releaseView: new DataLoader((codes) => store.getReleaseViews(codes)),
    trustView: new DataLoader((odsCodes) => store.getTrustViews(odsCodes)),
  };
}
