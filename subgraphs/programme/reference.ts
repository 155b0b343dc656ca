/**
 * The programme's reference data: the seed (schema/seed.json, validated at start-up), with
 * the trusts of `EXTRA_TRUSTS_FILE`. The clusters an operator registers at runtime come on
 * top of it through `LiveReference` (kit/membership.ts).
 */
import type { FeedReference } from '../kit/feed.js';
import { addExtraTrusts, feedReferenceOf, readExtraTrusts } from '../kit/membership.js';
import { seed, type Reference } from '../../schema/seed.js';

export type {
  ClusterRecord,
  Confidence,
  ProgrammeRecord,
  Reference,
  ReleaseRecord,
  SupplierRecord,
  SupplierRole,
  TrustRecord,
} from '../../schema/seed.js';
export { feedReferenceOf } from '../kit/membership.js';

export const { programme, releases, suppliers, clusters, trusts } = seed;

/** The seed's reference data. */
export const builtInReference: Reference = seed;

/** The seed's feed reference. */
export const feedReference: FeedReference = feedReferenceOf(builtInReference);

/**
 * `base` (the seed by default) extended with the trusts listed in `extraTrustsFile` (a JSON
 * array of `{ odsCode, name, clusterId }`), e.g. the synthetic trusts of generated feeds. A
 * trust already known, or a cluster `base` does not know, is refused with the file and index named.
 */
export async function loadReference(extraTrustsFile: string | null, base: Reference = builtInReference): Promise<Reference> {
  if (!extraTrustsFile) return base;
  const { reference, problems } = addExtraTrusts(base, await readExtraTrusts(extraTrustsFile), extraTrustsFile);
  if (problems.length > 0) throw new Error(problems[0]);
  return reference;
}
