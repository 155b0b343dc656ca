/**
 * The programme's reference data: releases, clusters, suppliers and trusts, as public
 * sources give them (see DOMAIN.md and the seed article, E-Health Insider, 2007-09-06).
 * `confidence` marks how sure the record is: CONFIRMED, DISPUTED (sources disagree or only a
 * secondary source) or UNVERIFIED (treat as an assumption).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { FeedReference } from '../kit/feed.js';

export type Confidence = 'CONFIRMED' | 'DISPUTED' | 'UNVERIFIED';
export type SupplierRole = 'LOCAL_SERVICE_PROVIDER' | 'SYSTEM_SUPPLIER';

export interface ReleaseRecord {
  readonly code: string;
  readonly name: string;
  readonly phase: number;
  readonly spineCompliant: boolean;
  readonly dueYear: number | null;
  readonly summary: string;
}

export interface ClusterRecord {
  readonly id: string;
  readonly name: string;
  readonly serviceProviderId: string;
  readonly trustsPlanned: number | null;
  readonly note: string;
}

export interface SupplierRecord {
  readonly id: string;
  readonly name: string;
  readonly role: SupplierRole;
}

export interface TrustRecord {
  readonly odsCode: string;
  readonly name: string;
  readonly clusterId: string;
  readonly odsCodeConfidence: Confidence;
}

export const programme = {
  name: 'National Programme for IT in the NHS: Cerner Millennium in London and the South',
  completionTargetYear: 2010,
  localOwnership: {
    code: 'NLOP',
    name: 'NPfIT Local Ownership Programme',
    summary: 'Trusts become responsible for deciding what systems they take and when, working with their strategic health authorities.',
  },
} as const;

export const releases: readonly ReleaseRecord[] = [
  {
    code: 'R0',
    name: 'Release 0',
    phase: 1,
    spineCompliant: false,
    dueYear: 2005,
    summary:
      'Foundation release: an anglicised build of the Homerton/Newham system; scope varied by site. Due year UNVERIFIED (first go-live December 2005).',
  },
  {
    code: 'R1',
    name: 'Release 1',
    phase: 2,
    spineCompliant: false,
    dueYear: 2008,
    summary:
      'Second phase; through a formal requirements phase by mid-2006. Both local service providers said they would switch to R1 deployments early in 2008.',
  },
  {
    code: 'R2',
    name: 'Release 2',
    phase: 3,
    spineCompliant: true,
    dueYear: 2009,
    summary: 'Third phase: the first Spine-compliant release, extending the PAS functionality of the first two releases. Due in 2009.',
  },
];

export const suppliers: readonly SupplierRecord[] = [
  { id: 'FUJITSU', name: 'Fujitsu Services', role: 'LOCAL_SERVICE_PROVIDER' },
  { id: 'BT', name: 'BT', role: 'LOCAL_SERVICE_PROVIDER' },
  { id: 'CERNER', name: 'Cerner', role: 'SYSTEM_SUPPLIER' },
  { id: 'CSC', name: 'Computer Sciences Corporation', role: 'LOCAL_SERVICE_PROVIDER' },
];

export const clusters: readonly ClusterRecord[] = [
  {
    id: 'SOUTH',
    name: 'Southern Programme for IT',
    serviceProviderId: 'FUJITSU',
    trustsPlanned: 17,
    note: 'Fujitsu maintained in September 2007 that plans were in place for 17 trusts.',
  },
  {
    id: 'LONDON',
    name: 'London Programme for IT',
    serviceProviderId: 'BT',
    trustsPlanned: null,
    note: 'No planned trust count published in the seed article.',
  },
  {
    id: 'NME',
    name: 'North, Midlands and East Programme for IT',
    serviceProviderId: 'CSC',
    trustsPlanned: null,
    note: "The programme's third area: CSC deployed iSoft Lorenzo there, not Millennium, so no feed of it ships; listed so that a further cluster subgraph can join.",
  },
];

export const trusts: readonly TrustRecord[] = [
  { odsCode: 'RBF', name: 'Nuffield Orthopaedic Centre NHS Trust', clusterId: 'SOUTH', odsCodeConfidence: 'UNVERIFIED' },
  { odsCode: 'RA3', name: 'Weston Area Health NHS Trust', clusterId: 'SOUTH', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RXQ', name: 'Buckinghamshire Hospitals NHS Trust', clusterId: 'SOUTH', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RN1', name: 'Winchester and Eastleigh Healthcare NHS Trust', clusterId: 'SOUTH', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RD8', name: 'Milton Keynes General Hospital NHS Trust', clusterId: 'SOUTH', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RTP', name: 'Surrey and Sussex Healthcare NHS Trust', clusterId: 'SOUTH', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RPL', name: 'Worthing and Southlands Hospitals NHS Trust', clusterId: 'SOUTH', odsCodeConfidence: 'UNVERIFIED' },
  { odsCode: 'RBA', name: 'Taunton and Somerset NHS Trust', clusterId: 'SOUTH', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RD1', name: 'Royal United Hospital Bath NHS Trust', clusterId: 'SOUTH', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RQX', name: 'Homerton University Hospital NHS Foundation Trust', clusterId: 'LONDON', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RNH', name: 'Newham University Hospital NHS Trust', clusterId: 'LONDON', odsCodeConfidence: 'UNVERIFIED' },
  { odsCode: 'RVL', name: 'Barnet and Chase Farm Hospitals NHS Trust', clusterId: 'LONDON', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RGZ', name: "Queen Mary's Sidcup NHS Trust", clusterId: 'LONDON', odsCodeConfidence: 'UNVERIFIED' },
  { odsCode: 'RNJ', name: 'Barts and The London NHS Trust', clusterId: 'LONDON', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RAL', name: 'Royal Free Hampstead NHS Trust', clusterId: 'LONDON', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RAX', name: 'Kingston Hospital NHS Trust', clusterId: 'LONDON', odsCodeConfidence: 'DISPUTED' },
  { odsCode: 'RJ7', name: "St George's Healthcare NHS Trust", clusterId: 'LONDON', odsCodeConfidence: 'DISPUTED' },
];

/** The programme's reference data as one value, so that it can be extended. */
export interface Reference {
  readonly releases: readonly ReleaseRecord[];
  readonly clusters: readonly ClusterRecord[];
  readonly suppliers: readonly SupplierRecord[];
  readonly trusts: readonly TrustRecord[];
}

export const builtInReference: Reference = { releases, clusters, suppliers, trusts };

/** What a supplier's feed must agree with: known release codes and trust ODS codes. */
export function feedReferenceOf(reference: Reference): FeedReference {
  return {
    releaseCodes: new Set(reference.releases.map((r) => r.code)),
    trustCodes: new Set(reference.trusts.map((t) => t.odsCode)),
  };
}

/** The built-in reference data's feed reference. */
export const feedReference: FeedReference = feedReferenceOf(builtInReference);

const extraTrusts = z.array(
  z.strictObject({
    odsCode: z.string().regex(/^[A-Z0-9]{3,5}$/, 'must be an ODS code (3-5 capital letters or digits)'),
    name: z.string().min(1),
    clusterId: z.string().min(1),
    odsCodeConfidence: z.enum(['CONFIRMED', 'DISPUTED', 'UNVERIFIED']).default('UNVERIFIED'),
  }),
);

/**
 * The reference data, extended with the trusts listed in `extraTrustsFile` (a JSON array of
 * `{ odsCode, name, clusterId }`), e.g. the synthetic trusts of generated feeds. A trust
 * already known, or a cluster not known, is refused with the file and index named.
 */
export async function loadReference(extraTrustsFile: string | null): Promise<Reference> {
  if (!extraTrustsFile) return builtInReference;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(extraTrustsFile, 'utf8'));
  } catch (error) {
    throw new Error(`EXTRA_TRUSTS_FILE=${JSON.stringify(extraTrustsFile)} cannot be read as JSON: ${(error as Error).message}`);
  }
  const parsed = extraTrusts.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`EXTRA_TRUSTS_FILE ${extraTrustsFile} at [${issue.path.join('].')}]: ${issue.message}`);
  }
  const known = new Set(trusts.map((t) => t.odsCode));
  const clusterIds = new Set(clusters.map((c) => c.id));
  parsed.data.forEach((trust, index) => {
    if (known.has(trust.odsCode))
      throw new Error(`EXTRA_TRUSTS_FILE ${extraTrustsFile} at [${index}]: trust ${trust.odsCode} is already known`);
    if (!clusterIds.has(trust.clusterId))
      throw new Error(`EXTRA_TRUSTS_FILE ${extraTrustsFile} at [${index}]: unknown cluster ${trust.clusterId}`);
    known.add(trust.odsCode);
  });
  return { ...builtInReference, trusts: [...trusts, ...parsed.data] };
}
