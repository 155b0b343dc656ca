/**
 * BT's London feed: one JSON extract per report, in BT's vocabulary. `configurations` are
 * London's configurations of each programme release (LC1, LC2, ...), `deployments` each
 * trust's go-live. Dates are ISO yyyy-mm-dd.
 */
import { z } from 'zod';
import { isIsoDate } from '../kit/date.js';
import { FeedValidationError, type Capability, type DesignStatus, type FeedIssue, type RolloutStatus } from '../kit/feed.js';
import type { FeedFile, FeedFormat, Located, ParsedFeed } from '../kit/feed-format.js';
import { parseFeedJson } from '../kit/feed-json.js';
import { recordIssues, supplierWord } from '../kit/validate.js';

/** What only London's spec has: products for non-acute care settings. */
export interface LondonExtra {
  readonly nonAcuteProducts: readonly { name: string; vendor: string; careSetting: string; note: string | null }[];
}

const DESIGN_PHASES: Record<string, DesignStatus> = {
  'In Design': 'ACTIVE',
  'On Hold': 'SUSPENDED',
  'Design Complete': 'COMPLETE',
};
const STATUSES: Record<string, RolloutStatus> = {
  Planned: 'PLANNED',
  Live: 'LIVE',
  Deferred: 'POSTPONED',
  Cancelled: 'CANCELLED',
  Decommissioned: 'SWITCHED_OFF',
};
const FUNCTIONS: Record<string, Capability> = {
  PAS: 'PAS',
  A_AND_E: 'EMERGENCY_DEPARTMENT',
  THEATRES: 'THEATRES',
  ORDERS_RESULTS: 'ORDER_COMMUNICATIONS',
  MATERNITY: 'MATERNITY',
  RADIOLOGY: 'RADIOLOGY',
  WARDS: 'CLINICAL_DOCUMENTATION',
  BED_MANAGEMENT: 'BED_MANAGEMENT',
  SPINE: 'SPINE_INTEGRATION',
};

const word = supplierWord;
const isoDate = z.string().refine(isIsoDate, { message: 'must be an ISO date yyyy-mm-dd naming a real day' });
const text = z.string().min(1, 'must not be empty');

const configuration = z.strictObject({
  programmeRelease: text,
  configurationName: text,
  designPhase: word(DESIGN_PHASES),
  designPhaseChanged: isoDate.nullable(),
  plannedAvailability: z.strictObject({
    date: isoDate.nullable(),
    year: z.number().int().min(2000).max(2100).nullable(),
  }),
  spineConnected: z.boolean(),
  plannedSites: z.number().int().min(0).nullable(),
  functions: z.array(z.strictObject({ function: word(FUNCTIONS), label: text, scope: text })),
  nonAcuteProducts: z.array(z.strictObject({ product: text, vendor: text, careSetting: text, note: z.string().nullable() })),
  remarks: z.string().nullable(),
});
const deployment = z.strictObject({
  odsCode: z.string().regex(/^[A-Z0-9]{3,5}$/, 'must be an ODS code (3-5 capital letters or digits)'),
  organisation: text,
  release: text,
  status: word(STATUSES),
  plannedDate: isoDate.nullable(),
  liveDate: isoDate.nullable(),
  comment: z.string().nullable(),
});
const extract = z.strictObject({
  extract: z.object({ publisher: text, asAt: isoDate }),
  configurations: z.array(z.unknown()),
  deployments: z.array(z.unknown()),
});

function lineOf(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message);
  if (!position) return undefined;
  return text.slice(0, Number(position[1])).split('\n').length;
}

/** Parses one BT JSON feed file. */
export function parseBtFeed(input: FeedFile): ParsedFeed<LondonExtra> {
  let json: unknown;
  try {
    json = parseFeedJson(input);
  } catch (error) {
    if (error instanceof FeedValidationError) throw error;
    const message = (error as Error).message;
    const line = lineOf(input.text, message);
    throw new FeedValidationError(input.file, [
      {
        file: input.file,
        ...(line !== undefined ? { line } : {}),
        path: '$',
        field: '(document)',
        value: null,
        message: `not valid JSON: ${message}`,
      },
    ]);
  }
  const top = extract.safeParse(json);
  if (!top.success) throw new FeedValidationError(input.file, recordIssues(input.file, top.error, json, { path: '$' }));

  const issues: FeedIssue[] = [];
  const releases: Located<ParsedFeed<LondonExtra>['releases'][number]['value']>[] = [];
  top.data.configurations.forEach((raw, index) => {
    const path = `$.configurations[${index}]`;
    const result = configuration.safeParse(raw);
    if (!result.success) return void issues.push(...recordIssues(input.file, result.error, raw, { path }));
    const c = result.data;
    const status = DESIGN_PHASES[c.designPhase] as DesignStatus;
    releases.push({
      path,
      value: {
        code: c.programmeRelease,
        localName: c.configurationName,
        designStatus: status,
        designSuspendedOn: status === 'SUSPENDED' ? c.designPhaseChanged : null,
        plannedDate: c.plannedAvailability.date,
        plannedYear: c.plannedAvailability.year ?? (c.plannedAvailability.date ? Number(c.plannedAvailability.date.slice(0, 4)) : null),
        spineCompliant: c.spineConnected,
        trustsPlannedDeclared: c.plannedSites,
        capabilities: c.functions.map((f) => ({ capability: FUNCTIONS[f.function] as Capability, localTerm: f.label, scope: f.scope })),
        extra: {
          nonAcuteProducts: c.nonAcuteProducts.map((p) => ({
            name: p.product,
            vendor: p.vendor,
            careSetting: p.careSetting,
            note: p.note,
          })),
        },
      },
    });
  });
  const rollout: Located<ParsedFeed<LondonExtra>['rollout'][number]['value']>[] = [];
  top.data.deployments.forEach((raw, index) => {
    const path = `$.deployments[${index}]`;
    const result = deployment.safeParse(raw);
    if (!result.success) return void issues.push(...recordIssues(input.file, result.error, raw, { path }));
    const d = result.data;
    rollout.push({
      path,
      value: {
        odsCode: d.odsCode,
        trustName: d.organisation,
        releaseCode: d.release,
        status: STATUSES[d.status] as RolloutStatus,
        localStatus: d.status,
        plannedGoLive: d.plannedDate,
        actualGoLive: d.liveDate,
        note: d.comment,
      },
    });
  });
  if (issues.length > 0) throw new FeedValidationError(input.file, issues);
  return {
    supplierId: 'BT',
    clusterId: 'LONDON',
    file: input.file,
    asOf: top.data.extract.asAt,
    rows: releases.length + rollout.length,
    releases,
    rollout,
  };
}

/** BT's feed format, for the subgraph kit. */
export const btFeedFormat: FeedFormat<LondonExtra> = { extension: '.json', parse: parseBtFeed };
