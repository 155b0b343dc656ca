/**
 * Fujitsu's Southern feed: a CSV "release and deployment schedule" extract. One file is one
 * report; each row has a RecordType:
 *   HDR   the report (ReportDate dd/mm/yyyy)
 *   REL   a release as the South specified it (design state, target, Spine, reset state)
 *   MOD   a module in a release's Southern scope
 *   SITE  a trust's go-live on a release
 * Dates are UK dd/mm/yyyy; TargetDate may be a year alone. Status words are Fujitsu's own.
 * An optional last column, Provider, on the HDR row names who publishes the report: FUJITSU
 * (the default) or BT, which took over support of the live Southern sites on 31/03/2009.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { ukDateToIso } from '../kit/date.js';
import {
  FeedValidationError,
  type Capability,
  type CapabilityScope,
  type DesignStatus,
  type FeedIssue,
  type RolloutStatus,
} from '../kit/feed.js';
import type { FeedFormat, FeedFile, Located, ParsedFeed } from '../kit/feed-format.js';
import { oneOf, recordIssues, supplierWord, translatedWord } from '../kit/validate.js';

/** What only the South's spec has: the 2007 contract reset. */
export interface SouthExtra {
  readonly contractReset: {
    readonly status: 'NOT_AFFECTED' | 'UNDER_RESET' | 'RESET_AGREED';
    readonly since: string | null;
    readonly note: string | null;
  };
}

export const COLUMNS = [
  'RecordType',
  'ReportDate',
  'ReleaseRef',
  'ReleaseTitle',
  'DesignState',
  'DesignStateDate',
  'TargetDate',
  'SpineConformant',
  'SitesPlanned',
  'ResetState',
  'ResetDate',
  'ModuleRef',
  'ModuleTitle',
  'ModuleScope',
  'SiteCode',
  'SiteName',
  'SiteState',
  'PlannedLive',
  'ActualLive',
  'Note',
] as const;

/** Columns a report may add; absent means the default. */
export const OPTIONAL_COLUMNS = ['Provider'] as const;
const PROVIDERS = ['FUJITSU', 'BT'] as const;

const DESIGN_STATES: Record<string, DesignStatus> = {
  'IN DESIGN': 'ACTIVE',
  'DESIGN SUSPENDED': 'SUSPENDED',
  'DESIGN SIGNED OFF': 'COMPLETE',
};
const SITE_STATES: Record<string, RolloutStatus> = {
  SCHEDULED: 'PLANNED',
  'GO-LIVE ACHIEVED': 'LIVE',
  RESCHEDULED: 'POSTPONED',
  WITHDRAWN: 'CANCELLED',
  DECOMMISSIONED: 'SWITCHED_OFF',
};
const RESET_STATES: Record<string, SouthExtra['contractReset']['status']> = {
  'OUT OF SCOPE': 'NOT_AFFECTED',
  'UNDER RESET': 'UNDER_RESET',
  'RESET AGREED': 'RESET_AGREED',
};
const MODULES: Record<string, Capability> = {
  PAS: 'PAS',
  'A&E': 'EMERGENCY_DEPARTMENT',
  THEATRES: 'THEATRES',
  ORDERCOMMS: 'ORDER_COMMUNICATIONS',
  MATERNITY: 'MATERNITY',
  RADIOLOGY: 'RADIOLOGY',
  CLINICALS: 'CLINICAL_DOCUMENTATION',
  BEDMGMT: 'BED_MANAGEMENT',
  SPINE: 'SPINE_INTEGRATION',
};

const word = translatedWord;
const ukDate = z
  .string()
  .refine((v) => ukDateToIso(v) !== null, { message: 'must be a UK date dd/mm/yyyy naming a real day' })
  .transform((v) => ukDateToIso(v) as string);
/** An empty cell is null; anything else must satisfy `schema` (whose message is kept). */
const optional = <T extends z.ZodType<unknown, string>>(schema: T) =>
  z
    .string()
    .transform((v) => (v === '' ? null : v))
    .pipe(schema.nullable());
const text = z.string().min(1, 'must not be empty');
const note = z.string().transform((v) => (v === '' ? null : v));

const header = z.object({
  ReportDate: ukDate,
  Provider: z
    .union([z.literal('').transform(() => 'FUJITSU' as const), z.enum(PROVIDERS)], { error: oneOf(PROVIDERS) })
    .optional()
    .transform((v) => v ?? 'FUJITSU'),
});
const release = z.object({
  ReleaseRef: text,
  ReleaseTitle: text,
  DesignState: word(DESIGN_STATES),
  DesignStateDate: optional(ukDate),
  TargetDate: optional(
    z.union(
      [
        z
          .string()
          .regex(/^\d{4}$/)
          .transform((v) => ({ date: null, year: Number(v) })),
        ukDate.transform((v) => ({ date: v, year: Number(v.slice(0, 4)) })),
      ],
      { error: 'must be a UK date dd/mm/yyyy or a year yyyy' },
    ),
  ),
  SpineConformant: z.enum(['Y', 'N'], { error: 'must be Y or N' }).transform((v) => v === 'Y'),
  SitesPlanned: optional(z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)),
  ResetState: word(RESET_STATES),
  ResetDate: optional(ukDate),
  Note: note,
});
const module = z.object({ ReleaseRef: text, ModuleRef: word(MODULES), ModuleTitle: text, ModuleScope: text });
const site = z.object({
  ReleaseRef: text,
  SiteCode: z.string().regex(/^[A-Z0-9]{3,5}$/, 'must be an ODS code (3-5 capital letters or digits)'),
  SiteName: text,
  SiteState: supplierWord(SITE_STATES),
  PlannedLive: optional(ukDate),
  ActualLive: optional(ukDate),
  Note: note,
});

type Row = Record<(typeof COLUMNS)[number], string> & Partial<Record<(typeof OPTIONAL_COLUMNS)[number], string>>;

function parseRows(input: FeedFile): { row: Row; line: number }[] {
  try {
    const records = parseCsv(input.text, {
      columns: (head: string[]) => {
        const known = new Set<string>([...COLUMNS, ...OPTIONAL_COLUMNS]);
        const problems = [
          ...COLUMNS.filter((c) => !head.includes(c)).map((c) => ({ field: c, value: null, message: 'column missing from the header' })),
          ...head
            .filter((c) => !known.has(c))
            .map((c) => ({ field: c, value: c, message: `not a column of Fujitsu's format (${COLUMNS.join(', ')})` })),
          ...head.filter((c, i) => head.indexOf(c) !== i).map((c) => ({ field: c, value: c, message: 'column named twice' })),
        ];
        if (problems.length > 0)
          throw new FeedValidationError(
            input.file,
            problems.map((p) => ({ file: input.file, line: 1, ...p })),
          );
        return head;
      },
      skip_empty_lines: true,
      trim: true,
      // The line from on_record's context: cheaper than csv-parse's per-record `info` object.
      on_record: (record: Row, context: { lines: number }) => ({ row: record, line: context.lines }),
    }) as unknown as { row: Row; line: number }[];
    return records;
  } catch (error) {
    if (error instanceof FeedValidationError) throw error;
    const csvError = error as Error & { lines?: number };
    throw new FeedValidationError(input.file, [
      {
        file: input.file,
        ...(csvError.lines !== undefined ? { line: csvError.lines } : {}),
        field: '(row)',
        value: null,
        message: `not valid CSV: ${csvError.message}`,
      },
    ]);
  }
}

/** Parses one Fujitsu CSV feed file. */
export function parseFujitsuFeed(input: FeedFile): ParsedFeed<SouthExtra> {
  const issues: FeedIssue[] = [];
  const check = <S extends z.ZodType>(schema: S, row: Row, line: number): z.infer<S> | null => {
    const result = schema.safeParse(row);
    if (result.success) return result.data;
    issues.push(...recordIssues(input.file, result.error, row, { line }));
    return null;
  };

  let asOf: string | null = null;
  let provider: (typeof PROVIDERS)[number] = 'FUJITSU';
  const releases: { line: number; value: z.infer<typeof release> }[] = [];
  const modules = new Map<string, CapabilityScope[]>();
  const rollout: Located<ParsedFeed<SouthExtra>['rollout'][number]['value']>[] = [];
  const rows = parseRows(input);

  for (const { row, line } of rows) {
    switch (row.RecordType) {
      case 'HDR': {
        const hdr = check(header, row, line);
        if (hdr && asOf !== null) issues.push({ file: input.file, line, field: 'RecordType', value: 'HDR', message: 'a second HDR row' });
        if (hdr) {
          asOf = hdr.ReportDate;
          provider = hdr.Provider;
        }
        break;
      }
      case 'REL': {
        const rel = check(release, row, line);
        if (rel) releases.push({ line, value: rel });
        break;
      }
      case 'MOD': {
        const mod = check(module, row, line);
        if (mod) {
          const list = modules.get(mod.ReleaseRef) ?? [];
          list.push({ capability: mod.ModuleRef, localTerm: mod.ModuleTitle, scope: mod.ModuleScope });
          modules.set(mod.ReleaseRef, list);
        }
        break;
      }
      case 'SITE': {
        const s = check(site, row, line);
        if (s) {
          rollout.push({
            line,
            value: {
              odsCode: s.SiteCode,
              trustName: s.SiteName,
              releaseCode: s.ReleaseRef,
              status: SITE_STATES[s.SiteState] as RolloutStatus,
              localStatus: s.SiteState,
              plannedGoLive: s.PlannedLive,
              actualGoLive: s.ActualLive,
              note: s.Note,
            },
          });
        }
        break;
      }
      default:
        issues.push({ file: input.file, line, field: 'RecordType', value: row.RecordType, message: oneOf(['HDR', 'REL', 'MOD', 'SITE']) });
    }
  }
  if (asOf === null && !issues.some((i) => i.field === 'ReportDate')) {
    issues.push({ file: input.file, field: 'RecordType', value: null, message: 'the file has no HDR row with the ReportDate' });
  }
  for (const code of modules.keys()) {
    if (!releases.some((r) => r.value.ReleaseRef === code)) {
      issues.push({ file: input.file, field: 'ReleaseRef', value: code, message: 'MOD rows name a release with no REL row' });
    }
  }
  if (issues.length > 0 || asOf === null) throw new FeedValidationError(input.file, issues);

  return {
    supplierId: provider,
    clusterId: 'SOUTH',
    file: input.file,
    asOf,
    rows: rows.length,
    releases: releases.map(({ line, value: rel }) => ({
      line,
      value: {
        code: rel.ReleaseRef,
        localName: rel.ReleaseTitle,
        designStatus: rel.DesignState,
        designSuspendedOn: rel.DesignState === 'SUSPENDED' ? rel.DesignStateDate : null,
        plannedDate: rel.TargetDate?.date ?? null,
        plannedYear: rel.TargetDate?.year ?? null,
        spineCompliant: rel.SpineConformant,
        trustsPlannedDeclared: rel.SitesPlanned,
        capabilities: modules.get(rel.ReleaseRef) ?? [],
        extra: { contractReset: { status: rel.ResetState, since: rel.ResetDate, note: rel.Note } },
      },
    })),
    rollout,
  };
}

/** Fujitsu's feed format, for the subgraph kit. */
export const fujitsuFeedFormat: FeedFormat<SouthExtra> = { extension: '.csv', parse: parseFujitsuFeed };
