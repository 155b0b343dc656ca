/**
 * The programme's seed: the reference data it starts with (releases, clusters, suppliers and
 * trusts, as public sources give them: see DOMAIN.md and the seed article, E-Health Insider,
 * 2007-09-06), kept as data in `schema/seed.json`, not as code. Both sides read it: the
 * programme and cluster subgraphs serve and check against it, the registry lists it and
 * checks publishes and registrations against it; operators add clusters over it at runtime
 * (schema/membership.ts). It is validated like a feed: a bad seed fails at start-up naming the
 * file, the JSON path and the field.
 *
 * `confidence` marks how sure a record is: CONFIRMED, DISPUTED (sources disagree or only a
 * secondary source) or UNVERIFIED (treat as an assumption).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** An ODS organisation code: 3 to 5 capital letters or digits. */
export const odsCode = z.string().regex(/^[A-Z0-9]{3,5}$/, 'must be an ODS code (3-5 capital letters or digits)');
/** A cluster or supplier id: a capital letter, then capitals, digits or `_`, at most 32 in all. */
export const memberId = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,31}$/, 'must be an id of capital letters, digits and _ (starting with a letter, at most 32)');
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const confidence = z.enum(['CONFIRMED', 'DISPUTED', 'UNVERIFIED']);

const releaseSchema = z.strictObject({
  code: z.string().regex(/^R\d+$/, 'must be a release code such as R2'),
  name: text(200),
  phase: z.number().int().min(1),
  spineCompliant: z.boolean(),
  dueYear: z.number().int().min(1990).max(2100).nullable(),
  summary: text(2000),
});
const supplierSchema = z.strictObject({
  id: memberId,
  name: text(200),
  role: z.enum(['LOCAL_SERVICE_PROVIDER', 'SYSTEM_SUPPLIER']),
});
const clusterSchema = z.strictObject({
  id: memberId,
  name: text(200),
  serviceProviderId: memberId,
  trustsPlanned: z.number().int().min(0).nullable(),
  note: text(2000),
});
const trustSchema = z.strictObject({ odsCode, name: text(200), clusterId: memberId, odsCodeConfidence: confidence });

const seedSchema = z.strictObject({
  programme: z.strictObject({
    name: text(200),
    completionTargetYear: z.number().int(),
    localOwnership: z.strictObject({ code: text(20), name: text(200), summary: text(2000) }),
  }),
  releases: z.array(releaseSchema).min(1),
  suppliers: z.array(supplierSchema),
  clusters: z.array(clusterSchema),
  trusts: z.array(trustSchema),
});

export type Confidence = z.infer<typeof confidence>;
export type SupplierRole = z.infer<typeof supplierSchema>['role'];
export type ReleaseRecord = Readonly<z.infer<typeof releaseSchema>>;
export type SupplierRecord = Readonly<z.infer<typeof supplierSchema>>;
export type ClusterRecord = Readonly<z.infer<typeof clusterSchema>>;
export type TrustRecord = Readonly<z.infer<typeof trustSchema>>;
export type ProgrammeRecord = Readonly<z.infer<typeof seedSchema>['programme']>;

/** The programme's reference data as one value: the seed, or the seed with registered members. */
export interface Reference {
  readonly programme: ProgrammeRecord;
  readonly releases: readonly ReleaseRecord[];
  readonly clusters: readonly ClusterRecord[];
  readonly suppliers: readonly SupplierRecord[];
  readonly trusts: readonly TrustRecord[];
}

/** A seed that breaks its shape or its own cross-references; the message names file, path and field. */
export class SeedError extends Error {
  override readonly name = 'SeedError';
}

const at = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(top)';

/**
 * Checks a parsed seed: its shape, then what no single record can say (ids unique, every
 * cluster's provider and every trust's cluster known). Throws a `SeedError` naming `file`,
 * the path and the field of every problem (at most 20 shown).
 */
export function parseSeed(json: unknown, file: string): Reference {
  const parsed = seedSchema.safeParse(json);
  const problems: string[] = parsed.success ? [] : parsed.error.issues.map((issue) => `at ${at(issue.path)}: ${issue.message}`);
  if (parsed.success) {
    const { releases, suppliers, clusters, trusts } = parsed.data;
    const unique = (list: readonly { [k: string]: unknown }[], key: string, where: string) => {
      const seen = new Set<unknown>();
      list.forEach((item, i) => {
        if (seen.has(item[key])) problems.push(`at ${where}[${i}].${key}: ${String(item[key])} appears twice`);
        seen.add(item[key]);
      });
    };
    unique(releases, 'code', 'releases');
    unique(suppliers, 'id', 'suppliers');
    unique(clusters, 'id', 'clusters');
    unique(trusts, 'odsCode', 'trusts');
    const supplierIds = new Set(suppliers.map((s) => s.id));
    const clusterIds = new Set(clusters.map((c) => c.id));
    clusters.forEach((c, i) => {
      if (!supplierIds.has(c.serviceProviderId))
        problems.push(`at clusters[${i}].serviceProviderId: unknown supplier ${c.serviceProviderId}`);
    });
    trusts.forEach((t, i) => {
      if (!clusterIds.has(t.clusterId)) problems.push(`at trusts[${i}].clusterId: unknown cluster ${t.clusterId}`);
    });
  }
  if (problems.length > 0 || !parsed.success) {
    const shown = problems.slice(0, 20).map((p) => `  - ${p}`);
    if (problems.length > 20) shown.push(`  ... and ${problems.length - 20} more`);
    throw new SeedError(`Seed ${file} rejected (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${shown.join('\n')}`);
  }
  return parsed.data;
}

/** Reads and checks a seed file. */
export function loadSeed(file: string): Reference {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SeedError(`Seed ${file} cannot be read as JSON: ${(error as Error).message}`);
  }
  return parseSeed(json, file);
}

/** Where the programme's seed lives. */
export const SEED_FILE = fileURLToPath(new URL('./seed.json', import.meta.url));

/** The programme's seed, read and checked once. */
export const seed: Reference = loadSeed(SEED_FILE);
