import type { Resolvers } from '../kit/schema.js';
import { comparisonId, parseComparisonId } from '../kit/comparison-id.js';
import type { IdRef, ReleaseRef, TrustRef } from '../kit/views.js';
import { programme, type ClusterRecord, type Reference, type TrustRecord } from './reference.js';

/** Resolvers of the programme subgraph: reference data held in memory. */
export function programmeResolvers(reference: Reference): Resolvers {
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

  /** A comparison's programme-owned fields, from its id; null for an unknown release. */
  const comparison = (id: string) => {
    const { code, asOf } = parseComparisonId(id);
    const release = releaseByCode.get(code);
    return release ? { id, code, asOf, release } : null;
  };

  return {
    Query: {
      programme: () => programme,
      releases: () => releases,
      release: (_: unknown, { code }: { code: string }) => releaseByCode.get(code) ?? null,
      clusters: () => clusters,
      cluster: (_: unknown, { id }: { id: string }) => clusterById.get(id) ?? null,
      suppliers: () => suppliers,
      trusts: (_: unknown, { cluster }: { cluster?: string | null }) => (cluster == null ? trusts : (trustsByCluster.get(cluster) ?? [])),
      trust: (_: unknown, { odsCode }: { odsCode: string }) => trustByOds.get(odsCode) ?? null,
      compareRelease: (_: unknown, { code, asOf }: { code: string; asOf?: string | null }) =>
        releaseByCode.has(code) ? comparison(comparisonId(code, asOf)) : null,
    },
    Release: {
      __resolveReference: (ref: ReleaseRef) => releaseByCode.get(ref.code) ?? null,
    },
    Cluster: {
      __resolveReference: (ref: IdRef) => clusterById.get(ref.id) ?? null,
      // Programme owns Supplier and Cluster fields too, so return whole records, not references.
      serviceProvider: (cluster: ClusterRecord) => supplierById.get(cluster.serviceProviderId),
      trusts: (cluster: ClusterRecord) => trustsByCluster.get(cluster.id) ?? [],
    },
    Supplier: {
      __resolveReference: (ref: IdRef) => supplierById.get(ref.id) ?? null,
    },
    Trust: {
      __resolveReference: (ref: TrustRef) => trustByOds.get(ref.odsCode) ?? null,
      cluster: (trust: TrustRecord) => clusterById.get(trust.clusterId),
    },
    ReleaseComparison: {
      __resolveReference: (ref: { id: string }) => comparison(ref.id),
    },
  };
}
