/** The cross-cluster comparison, as pure functions over the views the gateway passes in. */
import type { Capability, CapabilityScope, DesignStatus, RolloutStatus } from '../kit/feed.js';
import type { IdRef, ReleaseRef } from '../kit/views.js';
import { RELEASE_ASPECTS, type ReleaseAspect } from './derive.js';

/** The part of a release view that the comparison requires. */
export interface RequiredReleaseView {
  readonly cluster: IdRef;
  readonly localName: string;
  readonly designStatus: DesignStatus;
  readonly designSuspendedOn: string | null;
  readonly plannedDate: string | null;
  readonly plannedYear: number | null;
  readonly spineCompliant: boolean;
  readonly capabilities: readonly CapabilityScope[];
  readonly trustsLive: number;
  readonly trustsPlanned: number;
}

/** The part of a trust view that the merged rollout requires. */
export interface RequiredTrustView {
  readonly cluster: IdRef;
  readonly rollout: readonly {
    readonly release: ReleaseRef;
    readonly status: RolloutStatus;
    readonly localStatus: string;
    readonly plannedGoLive: string | null;
    readonly actualGoLive: string | null;
    readonly note: string | null;
  }[];
}

export interface ClusterValue {
  readonly cluster: IdRef;
  readonly value: string | null;
}

export interface ReleaseComparison {
  readonly code: string;
  readonly clusters: readonly IdRef[];
  readonly divergent: boolean;
  readonly aspects: readonly { aspect: ReleaseAspect; differs: boolean; values: readonly ClusterValue[] }[];
  readonly capabilities: readonly {
    capability: Capability;
    presentIn: readonly IdRef[];
    missingFrom: readonly IdRef[];
    scopes: readonly ClusterValue[];
  }[];
}

function render(view: RequiredReleaseView, aspect: ReleaseAspect): string | null {
  const value = view[aspect];
  if (value === null) return null;
  if (aspect === 'capabilities') {
    return view.capabilities.map((c) => c.capability).sort().join(', ');
  }
  return String(value);
}

/** Compares the views of one release; `views` holds only clusters that have one. */
export function compareRelease(code: string, views: readonly RequiredReleaseView[]): ReleaseComparison {
  const clusters = views.map((v) => v.cluster);
  const aspects = RELEASE_ASPECTS.map((aspect) => {
    const values = views.map((view) => ({ cluster: view.cluster, value: render(view, aspect) }));
    const differs = new Set(values.map((v) => v.value)).size > 1;
    return { aspect, differs, values };
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
  return { code, clusters, divergent: aspects.some((a) => a.differs), aspects, capabilities };
}

/** Merges one trust's rollout across clusters, by release code then cluster. */
export function mergeRollout(views: readonly RequiredTrustView[]) {
  return views
    .flatMap((view) => view.rollout.map((entry) => ({ cluster: view.cluster, ...entry })))
    .sort((a, b) => a.release.code.localeCompare(b.release.code) || a.cluster.id.localeCompare(b.cluster.id));
}
