/**
 * Programme membership on the wire: what an operator registers (`POST /registry/clusters/:id`)
 * and what the registry lists (`GET /registry/clusters`): clusters, each with its supplier
 * and its trusts. The gateway's registry and the subgraphs both import it from here (neither
 * imports the other), and `mergeMembership` is the one rule for laying registered members
 * over the seed.
 */
import { z } from 'zod';
import { memberId, odsCode, type ClusterRecord, type Reference, type SupplierRecord, type TrustRecord } from './seed.js';

/** Where the registry lists the programme's clusters (seed and registered). */
export const MEMBERSHIP_PATH = '/registry/clusters';

/** The most trusts one cluster may register, and the most clusters listed: keeps bodies bounded. */
export const MAX_TRUSTS_PER_CLUSTER = 500;
export const MAX_CLUSTERS = 200;

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** The body of `POST /registry/clusters/:id`. */
export const registrationSchema = z.strictObject({
  name: text(200),
  supplier: z.strictObject({ id: memberId, name: text(200) }, { error: 'is required: { "id", "name" } of its supplier' }),
  trustsPlanned: z.number().int().min(0).max(10_000).nullable().optional(),
  note: text(2000).optional(),
  trusts: z
    .array(z.strictObject({ odsCode, name: text(200) }), { error: 'is required: a list of { "odsCode", "name" }' })
    .max(MAX_TRUSTS_PER_CLUSTER, `must list at most ${MAX_TRUSTS_PER_CLUSTER} trusts`),
});
export type Registration = z.infer<typeof registrationSchema>;

/** One cluster as the registry lists it. */
export const memberClusterSchema = z.strictObject({
  id: memberId,
  source: z.enum(['seed', 'registered']),
  name: text(200),
  supplier: z.strictObject({ id: memberId, name: text(200) }),
  trustsPlanned: z.number().int().min(0).nullable(),
  note: text(2000),
  trusts: z.array(z.strictObject({ odsCode, name: text(200) })).max(MAX_TRUSTS_PER_CLUSTER),
  /** Who registered it and when (registered clusters only). */
  registeredBy: z.string().nullable(),
  registeredAt: z.string().nullable(),
});
export type MemberCluster = z.infer<typeof memberClusterSchema>;

/** The answer of `GET /registry/clusters`. */
export const membershipSchema = z.strictObject({
  /** The membership's version: 0 before anything is registered, one more on each change. */
  version: z.number().int().min(0),
  clusters: z.array(memberClusterSchema).max(MAX_CLUSTERS + 50),
});
export type Membership = z.infer<typeof membershipSchema>;

/** The seed's clusters as the registry lists them. */
export function seedMembers(seed: Reference): MemberCluster[] {
  const supplierById = new Map(seed.suppliers.map((s) => [s.id, s]));
  return seed.clusters.map((c) => ({
    id: c.id,
    source: 'seed' as const,
    name: c.name,
    supplier: { id: c.serviceProviderId, name: supplierById.get(c.serviceProviderId)?.name ?? c.serviceProviderId },
    trustsPlanned: c.trustsPlanned,
    note: c.note,
    trusts: seed.trusts.filter((t) => t.clusterId === c.id).map((t) => ({ odsCode: t.odsCode, name: t.name })),
    registeredBy: null,
    registeredAt: null,
  }));
}

/**
 * `base` (the seed, perhaps with extra trusts) with the registered clusters laid over it:
 * each brings its cluster, its supplier when `base` lacks it, and its trusts. What would
 * contradict `base` (a cluster id it has, a trust it already places) is left out and named in
 * `skipped`: the registry refuses such registrations, so this only happens when two sides run
 * different seeds.
 */
export function mergeMembership(base: Reference, registered: readonly MemberCluster[]): { reference: Reference; skipped: string[] } {
  const clusters: ClusterRecord[] = [...base.clusters];
  const suppliers: SupplierRecord[] = [...base.suppliers];
  const trusts: TrustRecord[] = [...base.trusts];
  const clusterIds = new Set(clusters.map((c) => c.id));
  const supplierIds = new Set(suppliers.map((s) => s.id));
  const trustCodes = new Set(trusts.map((t) => t.odsCode));
  const skipped: string[] = [];
  for (const member of registered) {
    if (member.source !== 'registered') continue;
    if (clusterIds.has(member.id)) {
      skipped.push(`cluster ${member.id}: already in the seed`);
      continue;
    }
    clusterIds.add(member.id);
    clusters.push({
      id: member.id,
      name: member.name,
      serviceProviderId: member.supplier.id,
      trustsPlanned: member.trustsPlanned,
      note: member.note,
    });
    if (!supplierIds.has(member.supplier.id)) {
      supplierIds.add(member.supplier.id);
      suppliers.push({ id: member.supplier.id, name: member.supplier.name, role: 'LOCAL_SERVICE_PROVIDER' });
    }
    for (const trust of member.trusts) {
      if (trustCodes.has(trust.odsCode)) {
        skipped.push(`trust ${trust.odsCode} of cluster ${member.id}: already known`);
        continue;
      }
      trustCodes.add(trust.odsCode);
      trusts.push({ odsCode: trust.odsCode, name: trust.name, clusterId: member.id, odsCodeConfidence: 'UNVERIFIED' });
    }
  }
  return { reference: { ...base, clusters, suppliers, trusts }, skipped };
}

/** Quotes a value for a shell command line the operator can paste. */
const shell = (value: string) => (/^[A-Za-z0-9_.:/-]+$/.test(value) ? value : `"${value.replace(/(["\\$`])/g, '\\$1')}"`);

/**
 * The exact command an operator runs to register `clusterId` served by `supplierId` (names
 * left as placeholders when not known), as `subgraph:check`, `subgraph:new`, `registry:token`
 * and a refused publish print it.
 */
export function registerCommand(clusterId: string, supplierId: string, supplierName?: string): string {
  return (
    `npm run registry:cluster -- add ${shell(clusterId)} --name ${shell('<cluster name>')} ` +
    `--supplier ${shell(supplierId)}:${shell(supplierName ?? '<supplier name>')} --trust ${shell('<ODS code>')}:${shell('<trust name>')}`
  );
}
