/** The cross-cluster comparison, as pure functions over the snapshots the gateway passes in. */
import type { Capability, ReleaseAspects, RolloutStatus } from '../kit/feed.js';
import type { IdRef, ReleaseRef } from '../kit/views.js';
import { RELEASE_ASPECTS, type ReleaseAspect } from './derive.js';

interface Dated {
  readonly asOf: string;
  readonly file: string;
  readonly cluster: IdRef;
}

/** The part of a `ReleaseSnapshot` that the comparison requires. */
export interface RequiredReleaseSnapshot extends Dated, ReleaseAspects {
  readonly supplier: IdRef;
  readonly trustsLive: number;
  readonly trustsPlanned: number;
}

/** The part of a `TrustSnapshot` that the merged rollout requires. */
export interface RequiredTrustSnapshot extends Dated {
  readonly rollout: readonly {
    readonly release: ReleaseRef;
    readonly status: RolloutStatus;
    readonly localStatus: string;
    readonly plannedGoLive: string | null;
    readonly actualGoLive: string | null;
    readonly note: string | null;
  }[];
}

/** The snapshot current at `asOf` (the latest dated on or before it), or the latest. */
export function current<T extends Dated>(snapshots: readonly T[] | null | undefined, asOf: string | null): T | null {
  let found: T | null = null;
  for (const snapshot of snapshots ?? []) {
    if (asOf === null || snapshot.asOf <= asOf) {
      if (!found || snapshot.asOf >= found.asOf) found = snapshot;
    }
  }
  return found;
}

export interface ClusterValue {
  readonly cluster: IdRef;
  readonly value: string | null;
}

/** One cluster's snapshots of an entity: the one current at the day asked, and every one accepted (oldest first). */
export interface ClusterSnapshots<V extends Dated = RequiredReleaseSnapshot> {
  readonly current: V;
  readonly all: readonly V[];
}

/** The snapshot a cluster's values come from, with the cluster's history of the release. */
export interface ComparedSnapshot {
  readonly cluster: IdRef;
  readonly asOf: string;
  readonly file: string;
  readonly view: RequiredReleaseSnapshot;
  readonly all: readonly RequiredReleaseSnapshot[];
}

export interface ReleaseComparison {
  readonly id: string;
  readonly clusters: readonly IdRef[];
  readonly snapshots: readonly ComparedSnapshot[];
  readonly divergent: boolean;
  readonly aspects: readonly { aspect: ReleaseAspect; differs: boolean; values: readonly ClusterValue[] }[];
  readonly capabilities: readonly {
    capability: Capability;
    presentIn: readonly IdRef[];
    missingFrom: readonly IdRef[];
    scopes: readonly ClusterValue[];
  }[];
}

function render(view: RequiredReleaseSnapshot, aspect: ReleaseAspect): string | null {
  if (aspect === 'capabilities')
    return view.capabilities
      .map((c) => c.capability)
      .sort()
      .join(', ');
  const value = view[aspect];
  return value === null ? null : String(value);
}

/** Compares one snapshot view per cluster (only clusters that have one). */
export function compareRelease(id: string, snapshots: readonly ClusterSnapshots[]): ReleaseComparison {
  const views = snapshots.map((s) => s.current);
  const clusters = views.map((v) => v.cluster);
  const aspects = RELEASE_ASPECTS.map((aspect) => {
    const values = views.map((view) => ({ cluster: view.cluster, value: render(view, aspect) }));
    return { aspect, differs: new Set(values.map((v) => v.value)).size > 1, values };
  });
  const seen = [...new Set(views.flatMap((v) => v.capabilities.map((c) => c.capability)))].sort();
  const capabilities = seen.map((capability) => {
    const scopes = views.flatMap((view) => {
      const scope = view.capabilities.find((c) => c.capability === capability);
      return scope ? [{ cluster: view.cluster, value: scope.scope }] : [];
    });
    const present = new Set(scopes.map((s) => s.cluster.id));
    return {
      capability,
      presentIn: clusters.filter((c) => present.has(c.id)),
      missingFrom: clusters.filter((c) => !present.has(c.id)),
      scopes,
    };
  });
  return {
    id,
    clusters,
    snapshots: snapshots.map(({ current: v, all }) => ({ cluster: v.cluster, asOf: v.asOf, file: v.file, view: v, all })),
    divergent: aspects.some((a) => a.differs),
    aspects,
    capabilities,
  };
}

/** A cluster's snapshots dated within `from` and `to` (inclusive, either open), oldest first. */
export function historyWithin(
  snapshots: readonly RequiredReleaseSnapshot[],
  from: string | null,
  to: string | null,
): RequiredReleaseSnapshot[] {
  return snapshots
    .filter((s) => (from === null || s.asOf >= from) && (to === null || s.asOf <= to))
    .sort((a, b) => a.asOf.localeCompare(b.asOf));
}

/** Merges one trust's rollout across clusters, by release code then cluster. */
export function mergeRollout(views: readonly RequiredTrustSnapshot[]) {
  return views
    .flatMap((view) => view.rollout.map((entry) => ({ cluster: view.cluster, asOf: view.asOf, ...entry })))
    .sort((a, b) => a.release.code.localeCompare(b.release.code) || a.cluster.id.localeCompare(b.cluster.id));
}
