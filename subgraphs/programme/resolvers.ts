import type { Resolvers } from '../kit/schema.js';
import { comparisonId, parseComparisonId } from '../kit/comparison-id.js';
import type { IdRef, ReleaseRef, TrustRef } from '../kit/views.js';
import type { ClusterRecord, Reference, TrustRecord } from './reference.js';

/** The lookups of one version of the reference data. */
function indexOf(reference: Reference) {
  const { releases, clusters, suppliers, trusts } = reference;
  const releaseByCode = new Map(releases.map((r) => [r.code, r]));
  const clusterById = new Map(clusters.map((c) => [c.id, c]));
  const supplierById = new Map(suppliers.map((s) => [s.id, s]));
  const trustByOds = new Map(trusts.map((t) => [t.odsCode, t]));
  const trustsByCluster = new Map<string, TrustRecord[]>();
  for (const trust of trusts) {
    const list = trustsByCluster.get(trust.clusterId);
    if (list) list.push(trust);
    else trustsByCluster.set(trust.clusterId, [trust]);
  }
  return { ...reference, releaseByCode, clusterById, supplierById, trustByOds, trustsByCluster };
}

/**
 * Resolvers of the programme subgraph: reference data held in memory. `reference` is called
 * for each request's data, so registered clusters are served as soon as it returns them;
 * the lookups are rebuilt once per version.
 */
export function programmeResolvers(reference: Reference | (() => Reference)): Resolvers {
  const current = typeof reference === 'function' ? reference : () => reference;
  let indexed: { of: Reference; index: ReturnType<typeof indexOf> } | null = null;
  const ix = () => {
    const now = current();
    if (indexed?.of !== now) indexed = { of: now, index: indexOf(now) };
    return indexed.index;
  };

  /** A comparison's programme-owned fields, from its id; null for an unknown release. */
  const comparison = (id: string) => {
    const { code, asOf } = parseComparisonId(id);
    const release = ix().releaseByCode.get(code);
    return release ? { id, code, asOf, release } : null;
  };

  return {
    Query: {
      programme: () => ix().programme,
      releases: () => ix().releases,
      release: (_: unknown, { code }: { code: string }) => ix().releaseByCode.get(code) ?? null,
      clusters: () => ix().clusters,
      cluster: (_: unknown, { id }: { id: string }) => ix().clusterById.get(id) ?? null,
      suppliers: () => ix().suppliers,
      trusts: (_: unknown, { cluster }: { cluster?: string | null }) =>
        cluster == null ? ix().trusts : (ix().trustsByCluster.get(cluster) ?? []),
      trust: (_: unknown, { odsCode }: { odsCode: string }) => ix().trustByOds.get(odsCode) ?? null,
      compareRelease: (_: unknown, { code, asOf }: { code: string; asOf?: string | null }) =>
        ix().releaseByCode.has(code) ? comparison(comparisonId(code, asOf)) : null,
    },
    Release: {
      __resolveReference: (ref: ReleaseRef) => ix().releaseByCode.get(ref.code) ?? null,
    },
    Cluster: {
      __resolveReference: (ref: IdRef) => ix().clusterById.get(ref.id) ?? null,
      // Programme owns Supplier and Cluster fields too, so return whole records, not references.
      serviceProvider: (cluster: ClusterRecord) => ix().supplierById.get(cluster.serviceProviderId),
      trusts: (cluster: ClusterRecord) => ix().trustsByCluster.get(cluster.id) ?? [],
    },
    Supplier: {
      __resolveReference: (ref: IdRef) => ix().supplierById.get(ref.id) ?? null,
    },
    Trust: {
      __resolveReference: (ref: TrustRef) => ix().trustByOds.get(ref.odsCode) ?? null,
      cluster: (trust: TrustRecord) => ix().clusterById.get(trust.clusterId),
    },
    ReleaseComparison: {
      __resolveReference: (ref: { id: string }) => comparison(ref.id),
    },
  };
}
