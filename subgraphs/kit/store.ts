import type { FeedSourceView, ReleaseView, SnapshotViews, TrustView } from './views.js';

/**
 * Where a cluster subgraph keeps the views of its current feed snapshot. Lookups take a
 * batch of keys and answer in key order with `null` where there is no view, so one
 * DataLoader batch is one store round trip (one `MGET` for a Redis backend).
 */
export interface ViewStore<Extra = unknown> {
  /** Makes `views` the current snapshot. Readers see the old or the new one, never a mix. */
  publish(views: SnapshotViews<Extra>): Promise<void>;
  /** The source of the current snapshot, or null before the first publish. */
  currentSource(): Promise<FeedSourceView | null>;
  getReleaseViews(codes: readonly string[]): Promise<(ReleaseView<Extra> | null)[]>;
  getTrustViews(odsCodes: readonly string[]): Promise<(TrustView | null)[]>;
}

/** The embedded default: the current snapshot in this process's memory. */
export class MemoryViewStore<Extra = unknown> implements ViewStore<Extra> {
  #current: SnapshotViews<Extra> | null = null;

  async publish(views: SnapshotViews<Extra>): Promise<void> {
    // One reference swap: a lookup holds either the old or the new snapshot.
    this.#current = views;
  }

  async currentSource(): Promise<FeedSourceView | null> {
    return this.#current?.source ?? null;
  }

  async getReleaseViews(codes: readonly string[]): Promise<(ReleaseView<Extra> | null)[]> {
    const current = this.#current;
    return codes.map((code) => current?.releases.get(code) ?? null);
  }

  async getTrustViews(odsCodes: readonly string[]): Promise<(TrustView | null)[]> {
    const current = this.#current;
    return odsCodes.map((odsCode) => current?.trusts.get(odsCode) ?? null);
  }
}
