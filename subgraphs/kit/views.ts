import type { FeedSnapshot, ReleaseAspects, RolloutStatus } from './feed.js';

/** A reference to an entity by its key, as federation passes it between subgraphs. */
export interface ReleaseRef {
  readonly code: string;
}
export interface TrustRef {
  readonly odsCode: string;
}
export interface IdRef {
  readonly id: string;
}

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

/** The `FeedSource` value type: which accepted snapshot a view comes from. */
export interface FeedSourceView {
  readonly supplier: IdRef;
  readonly file: string;
  readonly asOf: string;
  readonly checksum: string;
  readonly rows: number;
}

/** An accepted snapshot in a store's manifest. */
export interface SnapshotMeta extends FeedSourceView {
  /** Content-derived id of the snapshot; store keys carry it, so versions never mix. */
  readonly version: string;
  /**
   * When the store made this snapshot visible (ISO timestamp). A request pinned to a time
   * sees the snapshots loaded strictly before it.
   */
  readonly loadedAt: string;
  /** When a corrected file of the same name replaced it, or null while it is current. */
  readonly replacedAt: string | null;
  /** When the source file was last modified: an older copy never replaces a newer one. */
  readonly modifiedAt: string;
  /**
   * The codes of the releases the report covers (`FeedSource.releases`, and the releases a
   * report event names). Absent in manifests written before it was recorded.
   */
  readonly releaseCodes?: readonly string[];
}

/** The releases a snapshot covers, as entity references (none when its manifest predates them). */
export function releasesOf(meta: Pick<SnapshotMeta, 'releaseCodes'>): ReleaseRef[] {
  // Redis's cjson writes an empty list as `{}`: only a list counts.
  return Array.isArray(meta.releaseCodes) ? meta.releaseCodes.map((code) => ({ code })) : [];
}

/**
 * A `ClusterReleaseView` of one snapshot, without its rollout (loaded on demand: it can
 * hold thousands of trusts), as plain JSON so any store can hold it. `Extra` carries the
 * supplier's own fields. `version` and `releaseCode` are for resolvers, not the schema.
 */
export type ReleaseViewData<Extra = unknown> = ReleaseAspects & {
  readonly version: string;
  readonly releaseCode: string;
  readonly cluster: IdRef;
  readonly supplier: IdRef;
  readonly trustsLive: number;
  readonly trustsPlanned: number;
  readonly source: FeedSourceView;
} & Extra;

/** A `ClusterTrustView` of one snapshot. */
export interface TrustViewData {
  readonly version: string;
  readonly odsCode: string;
  readonly cluster: IdRef;
  readonly supplier: IdRef;
  readonly localName: string;
  readonly rollout: readonly RolloutEntryView[];
  readonly source: FeedSourceView;
}

/** Everything one accepted snapshot serves, by entity key. */
export interface SnapshotViews<Extra = unknown> {
  readonly meta: SnapshotMeta;
  readonly releases: ReadonlyMap<string, ReleaseViewData<Extra>>;
  readonly rollouts: ReadonlyMap<string, readonly RolloutEntryView[]>;
  readonly trusts: ReadonlyMap<string, TrustViewData>;
}

/** The version id of a snapshot: its checksum's first 16 hex digits. */
export function versionOf(checksum: string): string {
  return checksum.slice(0, 16);
}

/** Turns an accepted snapshot into the views its subgraph serves. */
export function buildViews<Extra extends object>(
  snapshot: FeedSnapshot<Extra>,
  modifiedAt: string = new Date().toISOString(),
): SnapshotViews<Extra> {
  const version = versionOf(snapshot.checksum);
  const cluster = { id: snapshot.clusterId };
  const supplier = { id: snapshot.supplierId };
  const source: FeedSourceView = {
    supplier,
    file: snapshot.file,
    asOf: snapshot.asOf,
    checksum: snapshot.checksum,
    rows: snapshot.rows,
  };

  const rollouts = new Map<string, RolloutEntryView[]>();
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
    const releaseList = rollouts.get(row.releaseCode);
    if (releaseList) releaseList.push(entry);
    else rollouts.set(row.releaseCode, [entry]);
    const trust = byTrust.get(row.odsCode);
    if (trust) trust.rollout.push(entry);
    else byTrust.set(row.odsCode, { localName: row.trustName, rollout: [entry] });
  }

  const releases = new Map<string, ReleaseViewData<Extra>>();
  for (const record of snapshot.releases) {
    const rollout = rollouts.get(record.code) ?? [];
    let live = 0;
    let counted = 0;
    for (const entry of rollout) {
      if (entry.status === 'LIVE') live += 1;
      if (entry.status !== 'CANCELLED') counted += 1;
    }
    releases.set(record.code, {
      ...record.extra,
      version,
      releaseCode: record.code,
      cluster,
      supplier,
      localName: record.localName,
      designStatus: record.designStatus,
      designSuspendedOn: record.designSuspendedOn,
      plannedDate: record.plannedDate,
      plannedYear: record.plannedYear,
      spineCompliant: record.spineCompliant,
      capabilities: record.capabilities,
      trustsLive: live,
      trustsPlanned: record.trustsPlannedDeclared ?? counted,
      source,
    });
  }

  const trusts = new Map<string, TrustViewData>();
  for (const [odsCode, trust] of byTrust) {
    trusts.set(odsCode, { version, odsCode, cluster, supplier, localName: trust.localName, rollout: trust.rollout, source });
  }
  // The store stamps loadedAt when it switches the manifest.
  return {
    meta: { ...source, version, loadedAt: '', replacedAt: null, modifiedAt, releaseCodes: [...releases.keys()] },
    releases,
    rollouts,
    trusts,
  };
}
