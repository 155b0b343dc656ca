/**
 * A ready-made feed format for a new supplier: one JSON report per file, already in the
 * contract's terms (its status words are the contract's enums), so a supplier can join the
 * supergraph before writing a parser for its own format. `npm run subgraph:new` uses it.
 *
 * ```json
 * { "asOf": "2007-09-06",
 *   "releases": [{ "code": "R2", "localName": "…", "designStatus": "ACTIVE", "plannedYear": 2010,
 *                  "spineCompliant": true, "capabilities": ["PAS"], "remarks": "…" }],
 *   "rollout": [{ "odsCode": "RXX", "trustName": "…", "release": "R2", "status": "PLANNED",
 *                 "plannedGoLive": "2010-04-01" }] }
 * ```
 */
import { z } from 'zod';
import { CAPABILITIES, FeedValidationError, type Capability } from './feed.js';
import type { FeedFormat } from './feed-format.js';
import { parseFeedJson } from './feed-json.js';
import { recordIssues } from './validate.js';

/** What this format keeps besides the contract's aspects: the supplier's remarks on a release. */
export interface KitJsonExtra {
  readonly remarks: string | null;
}

const date = z.iso.date('must be a date yyyy-mm-dd');
const release = z.strictObject({
  code: z.string().min(1),
  localName: z.string().min(1),
  designStatus: z.enum(['ACTIVE', 'SUSPENDED', 'COMPLETE']),
  designSuspendedOn: date.nullable().default(null),
  plannedDate: date.nullable().default(null),
  plannedYear: z.number().int().min(2000).max(2100).nullable().default(null),
  spineCompliant: z.boolean(),
  trustsPlanned: z.number().int().min(0).nullable().default(null),
  capabilities: z.array(z.enum(CAPABILITIES as [Capability, ...Capability[]])),
  remarks: z.string().nullable().default(null),
});
const rollout = z.strictObject({
  odsCode: z.string().min(1),
  trustName: z.string().min(1),
  release: z.string().min(1),
  status: z.enum(['PLANNED', 'LIVE', 'POSTPONED', 'CANCELLED', 'SWITCHED_OFF']),
  plannedGoLive: date.nullable().default(null),
  actualGoLive: date.nullable().default(null),
  note: z.string().nullable().default(null),
});
const report = z.strictObject({ asOf: date, releases: z.array(z.unknown()), rollout: z.array(z.unknown()).default([]) });

/** The kit's JSON feed format for the cluster `clusterId`, published by `supplierId`. */
export function kitJsonFeedFormat(ids: { clusterId: string; supplierId: string }): FeedFormat<KitJsonExtra> {
  return {
    extension: '.json',
    parse({ file, text }) {
      let json: unknown;
      try {
        json = parseFeedJson({ file, text });
      } catch (error) {
        if (error instanceof FeedValidationError) throw error;
        throw new FeedValidationError(file, [{ file, field: '(file)', value: null, message: `not JSON: ${(error as Error).message}` }]);
      }
      const top = report.safeParse(json);
      if (!top.success) throw new FeedValidationError(file, recordIssues(file, top.error, json, { path: '$' }));
      const issues: ReturnType<typeof recordIssues> = [];
      const releases = top.data.releases.flatMap((raw, i) => {
        const path = `$.releases[${i}]`;
        const parsed = release.safeParse(raw);
        if (!parsed.success) {
          issues.push(...recordIssues(file, parsed.error, raw, { path }));
          return [];
        }
        const r = parsed.data;
        const { remarks, trustsPlanned, capabilities, ...aspects } = r;
        return [
          {
            path,
            value: {
              ...aspects,
              trustsPlannedDeclared: trustsPlanned,
              capabilities: capabilities.map((c) => ({ capability: c, localTerm: c, scope: 'In scope' })),
              extra: { remarks },
            },
          },
        ];
      });
      const entries = top.data.rollout.flatMap((raw, i) => {
        const path = `$.rollout[${i}]`;
        const parsed = rollout.safeParse(raw);
        if (!parsed.success) {
          issues.push(...recordIssues(file, parsed.error, raw, { path }));
          return [];
        }
        const { release: releaseCode, ...entry } = parsed.data;
        return [{ path, value: { ...entry, releaseCode, localStatus: entry.status } }];
      });
      if (issues.length > 0) throw new FeedValidationError(file, issues);
      return { ...ids, file, asOf: top.data.asOf, rows: releases.length + entries.length, releases, rollout: entries };
    },
  };
}
