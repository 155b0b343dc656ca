/**
 * The rules that keep a cluster's history from being rewritten by a file. A report's date
 * decides which `asOf` it answers, so a copy of an old report saved under a new name with
 * its date changed once replaced what `south(asOf: "2005-12-31")` said, two reports of one
 * date served in ingest order, and a report dated 2031 became "latest". Hence:
 *   - a folder file's name carries its report's date (`fujitsu-south-2007-09-06.csv`);
 *   - one report per date per supplier: a second file of the same date is refused, naming
 *     the first (correct that file instead, or remove it);
 *   - no report dated beyond the horizon (today plus `FEED_MAX_FUTURE_DAYS`).
 */
import type { FeedIssue } from './feed.js';
import type { SnapshotMeta } from './views.js';

const DATE_IN_NAME = /\d{4}-\d{2}-\d{2}/g;

/** The last yyyy-mm-dd in a file name, or null. */
export function nameDateOf(file: string): string | null {
  return [...file.matchAll(DATE_IN_NAME)].at(-1)?.[0] ?? null;
}

/** The latest report date accepted on `now`: that day plus `maxFutureDays`, as yyyy-mm-dd (UTC). */
export function horizonOf(now: Date, maxFutureDays: number): string {
  return new Date(now.getTime() + maxFutureDays * 86_400_000).toISOString().slice(0, 10);
}

export interface DateRules {
  /** The file's name must carry the report's date (folder files; a polled report's name is the kit's own). */
  readonly dated: boolean;
  /** The latest report date accepted (see `horizonOf`). */
  readonly horizon: string;
  /** The setting that moves the horizon, named in the refusal. */
  readonly horizonSetting: string;
  /** The reports served now. */
  readonly current: readonly SnapshotMeta[];
}

/** What is wrong with the date of the report `asOf` read from `file`; empty when nothing is. */
export function dateIssues(file: string, asOf: string, rules: DateRules): FeedIssue[] {
  const issues: FeedIssue[] = [];
  if (rules.dated) {
    const named = nameDateOf(file);
    if (named === null) {
      issues.push({ file, field: '(file name)', value: null, message: `the file name must carry the report's date (${asOf})` });
    } else if (named !== asOf) {
      issues.push({
        file,
        field: '(file name)',
        value: named,
        message: `the file name says ${named} but the report is dated ${asOf}: they must be the same day`,
      });
    }
  }
  if (asOf > rules.horizon) {
    issues.push({
      file,
      field: '(report date)',
      value: asOf,
      message: `the report is dated after ${rules.horizon} (today plus ${rules.horizonSetting})`,
    });
  }
  const first = rules.current.find((s) => s.asOf === asOf && s.file !== file);
  if (first) {
    issues.push({
      file,
      field: '(report date)',
      value: asOf,
      message: `${first.file} already reports ${asOf}: one report per date (correct that file, or remove it first)`,
    });
  }
  return issues;
}
