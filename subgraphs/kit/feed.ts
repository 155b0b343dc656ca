/**
 * The supplier-neutral model of one feed snapshot. Each supplier's parser turns its own
 * format and vocabulary into this; everything after parsing (views, store, resolvers) is
 * shared by every cluster subgraph.
 */

export type DesignStatus = 'ACTIVE' | 'SUSPENDED' | 'COMPLETE';
export type RolloutStatus = 'PLANNED' | 'LIVE' | 'POSTPONED' | 'CANCELLED' | 'SWITCHED_OFF';
export type Capability =
  | 'PAS'
  | 'EMERGENCY_DEPARTMENT'
  | 'THEATRES'
  | 'ORDER_COMMUNICATIONS'
  | 'MATERNITY'
  | 'RADIOLOGY'
  | 'CLINICAL_DOCUMENTATION'
  | 'BED_MANAGEMENT'
  | 'SPINE_INTEGRATION';

export const CAPABILITIES: readonly Capability[] = [
  'PAS',
  'EMERGENCY_DEPARTMENT',
  'THEATRES',
  'ORDER_COMMUNICATIONS',
  'MATERNITY',
  'RADIOLOGY',
  'CLINICAL_DOCUMENTATION',
  'BED_MANAGEMENT',
  'SPINE_INTEGRATION',
];

export interface CapabilityScope {
  readonly capability: Capability;
  readonly localTerm: string;
  readonly scope: string;
}

/** What every cluster's spec says of a release: the aspects the comparison compares. */
export interface ReleaseAspects {
  readonly localName: string;
  readonly designStatus: DesignStatus;
  readonly designSuspendedOn: string | null;
  readonly plannedDate: string | null;
  readonly plannedYear: number | null;
  readonly spineCompliant: boolean;
  readonly capabilities: readonly CapabilityScope[];
}

/** One cluster's definition of one release, before counts are derived from the rollout. */
export interface ReleaseRecord<Extra> extends ReleaseAspects {
  readonly code: string;
  /** The number of trusts the supplier says it plans for, when its feed states one. */
  readonly trustsPlannedDeclared: number | null;
  /** What only this supplier's spec has (London's non-acute products, the South's contract reset). */
  readonly extra: Extra;
}

/** One trust's go-live on one release. */
export interface RolloutRecord {
  readonly odsCode: string;
  readonly trustName: string;
  readonly releaseCode: string;
  readonly status: RolloutStatus;
  readonly localStatus: string;
  readonly plannedGoLive: string | null;
  readonly actualGoLive: string | null;
  readonly note: string | null;
}

/** One accepted feed file, normalized. */
export interface FeedSnapshot<Extra> {
  readonly supplierId: string;
  readonly clusterId: string;
  readonly file: string;
  readonly asOf: string;
  readonly checksum: string;
  readonly rows: number;
  readonly releases: readonly ReleaseRecord<Extra>[];
  readonly rollout: readonly RolloutRecord[];
}

/** One problem in a feed file, precise enough to fix it. */
export interface FeedIssue {
  readonly file: string;
  /** 1-based line in the file (CSV), when the format has lines that matter. */
  readonly line?: number;
  /** JSON path of the bad value (JSON feeds). */
  readonly path?: string;
  readonly field: string;
  readonly value: unknown;
  readonly message: string;
}

/** The most characters of a feed's own text a refusal repeats (a value, a field name, a key). */
export const MAX_EXCERPT = 40;

/**
 * A short excerpt of something read from a feed, for a refusal: strings are cut to
 * `MAX_EXCERPT` characters, an object or array is only named. A refusal thus never repeats a
 * whole line of whatever file was offered (a symlink to `/etc/passwd` once was), and never
 * serializes a value of unbounded size or depth.
 */
export function excerpt(value: unknown, max: number = MAX_EXCERPT): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.length > max ? `${value.slice(0, max)}…` : value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `(an array of ${value.length})`;
  return `(${typeof value === 'object' ? 'an object' : typeof value})`;
}

function describe(issue: FeedIssue): string {
  const where = [issue.line !== undefined ? `line ${issue.line}` : null, issue.path ? `at ${issue.path}` : null].filter(Boolean).join(', ');
  const value = typeof issue.value === 'string' ? JSON.stringify(excerpt(issue.value)) : excerpt(issue.value);
  return `${issue.file}${where ? ` ${where}` : ''}, field ${excerpt(issue.field)}: ${issue.message} (value ${value ?? 'null'})`;
}

/** A feed file that was refused, with every issue found in it. */
export class FeedValidationError extends Error {
  override readonly name = 'FeedValidationError';
  readonly code = 'FEED_INVALID';
  constructor(
    readonly file: string,
    readonly issues: readonly FeedIssue[],
  ) {
    const shown = issues.slice(0, 20).map((issue) => `  - ${describe(issue)}`);
    const more = issues.length > 20 ? [`  ... and ${issues.length - 20} more`] : [];
    super(`Feed file ${file} rejected (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${[...shown, ...more].join('\n')}`);
  }
}

/** The programme's reference data a feed must agree with. */
export interface FeedReference {
  readonly releaseCodes: ReadonlySet<string>;
  readonly trustCodes: ReadonlySet<string>;
}

/**
 * Checks what no single row can: that rows reference known releases and trusts and that no
 * key repeats. Returns the issues; an empty list means the snapshot is consistent.
 */
export function checkConsistency<Extra>(
  snapshot: Omit<FeedSnapshot<Extra>, 'checksum'>,
  reference: FeedReference,
  locate: { release(index: number): Pick<FeedIssue, 'line' | 'path'>; rollout(index: number): Pick<FeedIssue, 'line' | 'path'> },
): FeedIssue[] {
  const issues: FeedIssue[] = [];
  const file = snapshot.file;
  const seenReleases = new Set<string>();
  snapshot.releases.forEach((release, index) => {
    if (!reference.releaseCodes.has(release.code)) {
      issues.push({ file, ...locate.release(index), field: 'release', value: release.code, message: 'unknown release code' });
    }
    if (seenReleases.has(release.code)) {
      issues.push({ file, ...locate.release(index), field: 'release', value: release.code, message: 'release defined twice' });
    }
    seenReleases.add(release.code);
  });
  const seenRollout = new Set<string>();
  snapshot.rollout.forEach((entry, index) => {
    const at = locate.rollout(index);
    if (!reference.trustCodes.has(entry.odsCode)) {
      issues.push({ file, ...at, field: 'trust', value: entry.odsCode, message: 'unknown trust ODS code' });
    }
    if (!seenReleases.has(entry.releaseCode)) {
      issues.push({
        file,
        ...at,
        field: 'release',
        value: entry.releaseCode,
        message: 'rollout names a release this feed does not define',
      });
    }
    const key = `${entry.odsCode}/${entry.releaseCode}`;
    if (seenRollout.has(key)) {
      issues.push({ file, ...at, field: 'trust', value: key, message: 'the same trust and release appear twice' });
    }
    seenRollout.add(key);
  });
  return issues;
}
