import type { CapabilityScope, DesignStatus, FeedSnapshot, RolloutStatus } from './feed.js';

/** A reference to an entity by its key, as federation passes it between subgraphs. */
export interface ReleaseRef { readonly code: string }
export interface TrustRef { readonly odsCode: string }
export interface IdRef { readonly id: string }

/** The `RolloutEntry` value type, ready to serve. */
export interface RolloutEntryView {
  readonly trust: TrustRef;
  readonly release: ReleaseRef;
  readonly status: RolloutStatus;
  readonly localStatus: string;
  readonly plannedGoLive: string | null;
  readonly actualGoLive: string | null;
  readonly note: string | null;
}

/** The `FeedSource` value type. */
export interface FeedSourceView {
  readonly supplier: IdRef;
  readonly file: string;
  readonly asOf: string;
  readonly checksum: string;
  readonly rows: number;
}

/**
 * A `ClusterReleaseView`, precomputed as plain JSON so that any store (memory or Redis) can
 * hold it and the default resolvers can serve it. `Extra` carries the supplier's own fields.
 */
export type ReleaseView<Extra = unknown> = {
  readonly cluster: IdRef;
  readonly supplier: IdRef;
  readonly localName: string;
  readonly designStatus: DesignStatus;
  readonly designSuspendedOn: string | null;
  readonly plannedDate: string | null;
  readonly plannedYear: number | null;
  readonly spineCompliant: boolean;
  readonly capabilities: readonly CapabilityScope[];
  readonly trustsLive: number;
  readonly trustsPlanned: number;
  readonly rollout: readonly RolloutEntryView[];
  readonly source: FeedSourceView;
} & Extra;

/** A `ClusterTrustView`. */
export interface TrustView {
  readonly cluster: IdRef;
  readonly supplier: IdRef;
  readonly localName: string;
  readonly rollout: readonly RolloutEntryView[];
  readonly source: FeedSourceView;
}

/** All the views one snapshot serves, by entity key. */
export interface SnapshotViews<Extra = unknown> {
  readonly source: FeedSourceView;
  readonly releases: ReadonlyMap<string, ReleaseView<Extra>>;
  readonly trusts: ReadonlyMap<string, TrustView>;
}

/** Turns a normalized snapshot into the views its subgraph serves. */
export function buildViews<Extra extends object>(snapshot: FeedSnapshot<Extra>): SnapshotViews<Extra> {
  const cluster = { id: snapshot.clusterId };
  const supplier = { id: snapshot.supplierId };
  const source: FeedSourceView = {
    supplier,
    file: snapshot.file,
    asOf: snapshot.asOf,
    checksum: snapshot.checksum,
    rows: snapshot.rows,
  };

  const byRelease = new Map<string, RolloutEntryView[]>();
  const byTrust = new Map<string, { localName: string; rollout: RolloutEntryView[] }>();
  for (const row of snapshot.rollout) {
    const entry: RolloutEntryView = {
      trust: { odsCode: row.odsCode },
      release: { code: row.releaseCode },
      status: row.status,
      localStatus: row.localStatus,
      plannedGoLive: row.plannedGoLive,
      actualGoLive: row.actualGoLive,
      note: row.note,
    };
    const releaseList = byRelease.get(row.releaseCode) ?? [];
    releaseList.push(entry);
    byRelease.set(row.releaseCode, releaseList);
    const trust = byTrust.get(row.odsCode) ?? { localName: row.trustName, rollout: [] };
    trust.rollout.push(entry);
    byTrust.set(row.odsCode, trust);
  }

  const releases = new Map<string, ReleaseView<Extra>>();
  for (const record of snapshot.releases) {
    const rollout = byRelease.get(record.code) ?? [];
    const counted = rollout.filter((entry) => entry.status !== 'CANCELLED').length;
    releases.set(record.code, {
      ...record.extra,
      cluster,
      supplier,
      localName: record.localName,
      designStatus: record.designStatus,
      designSuspendedOn: record.designSuspendedOn,
      plannedDate: record.plannedDate,
      plannedYear: record.plannedYear,
      spineCompliant: record.spineCompliant,
      capabilities: record.capabilities,
      trustsLive: rollout.filter((entry) => entry.status === 'LIVE').length,
      trustsPlanned: record.trustsPlannedDeclared ?? counted,
      rollout,
      source,
    });
  }

  const trusts = new Map<string, TrustView>();
  for (const [odsCode, trust] of byTrust) {
    trusts.set(odsCode, { cluster, supplier, localName: trust.localName, rollout: trust.rollout, source });
  }
  return { source, releases, trusts };
}
