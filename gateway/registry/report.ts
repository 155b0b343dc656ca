/** A check report as people read it (the CLI prints it; a refused publish carries it too). */
import type { CheckIssue, CheckReport } from './checks.js';

/** Safe changes listed in the text (all are in the JSON). */
const SAFE_SHOWN = 8;

const at = (issue: CheckIssue) =>
  issue.locations?.length ? ` (line ${issue.locations.map((l) => `${l.line}:${l.column}`).join(', ')})` : '';
const issueLines = (issues: readonly CheckIssue[]) => issues.map((i) => `    - [${i.code}] ${i.message}${at(i)}`);

/** The routing URL's line: passed, refused (with its code), or not checked (`subgraph:check`). */
function reachability(report: CheckReport, lines: string[]): void {
  const r = report.reachability;
  if (!r) return;
  if (!r.checked) lines.push(`  - URL reachability: ${r.message}`);
  else lines.push(`  ${r.ok ? '✓' : '✗'} Routing URL: ${r.code ? `[${r.code}] ` : ''}${r.message}`);
}

/** The report as text: one section per check, each passed (✓) or failed (✗), then the verdict. */
export function formatReport(report: CheckReport): string {
  const lines: string[] = [
    `Subgraph "${report.subgraph}"${report.comparedWith ? ` against its published version ${report.comparedWith}` : ' (not published yet)'}`,
  ];
  const section = (ok: boolean, title: string, detail: string[] = []) => lines.push(`  ${ok ? '✓' : '✗'} ${title}`, ...detail);
  if (report.sdl.length > 0) {
    section(false, 'SDL does not parse', issueLines(report.sdl));
  } else {
    section(
      report.contract.length === 0,
      `Contract conformance${report.contract.length ? `: ${report.contract.length} problem(s)` : ''}`,
      issueLines(report.contract),
    );
    const c = report.composition;
    if (c.ok || c.errors.length > 0) {
      const hints = c.hints.length > 0 ? ` (${c.hints.length} composition hint(s): --json lists them)` : '';
      section(c.ok, c.ok ? `Composes with the other subgraphs${hints}` : 'Does not compose', issueLines(c.errors));
    }
    if (!c.ok) {
      // Changes and operations are checked against the composed schema: there is none.
      const why = c.errors.length > 0 ? 'the subgraph does not compose' : 'composition was not tried: fix the contract first';
      lines.push(`  - Schema changes and operations: not checked (${why})`);
      reachability(report, lines);
      lines.push('FAILED: the subgraph cannot be published as it is.');
      return lines.join('\n');
    }
    const count = (level: string) => report.changes.filter((ch) => ch.level === level).length;
    const serious = report.changes.filter((ch) => ch.level !== 'SAFE');
    const safe = report.changes.filter((ch) => ch.level === 'SAFE');
    const shownSafe = safe.slice(0, SAFE_SHOWN);
    section(
      !serious.some((ch) => ch.level === 'BREAKING' && !ch.deprecatedFirst),
      `Schema changes: ${count('BREAKING')} breaking, ${count('DANGEROUS')} dangerous, ${count('SAFE')} safe`,
      [
        ...[...serious, ...shownSafe].map(
          (ch) =>
            `    - ${ch.level.padEnd(9)} ${ch.message}${ch.deprecatedFirst ? ' (deprecated first: allowed while no operation uses it)' : ''}`,
        ),
        ...(safe.length > shownSafe.length ? [`    … and ${safe.length - shownSafe.length} more safe change(s) (--json lists them)`] : []),
      ],
    );
    const broken = report.operations.broken;
    section(broken.length === 0, `Operations: ${report.operations.checked} checked, ${broken.length} would break`, [
      ...broken.map((op) => `    - ${op.name} (${op.source}): ${op.errors.join('; ')}`),
    ]);
  }
  reachability(report, lines);
  lines.push(report.ok ? 'PASSED: the subgraph can be published.' : 'FAILED: the subgraph cannot be published as it is.');
  return lines.join('\n');
}
