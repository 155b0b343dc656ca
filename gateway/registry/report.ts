/** A check report as people read it (the CLI prints it; a refused publish carries it too). */
import type { CheckIssue, CheckReport } from './checks.js';

const at = (issue: CheckIssue) =>
  issue.locations?.length ? ` (line ${issue.locations.map((l) => `${l.line}:${l.column}`).join(', ')})` : '';
const issueLines = (issues: readonly CheckIssue[]) => issues.map((i) => `    - [${i.code}] ${i.message}${at(i)}`);

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
      section(c.ok, c.ok ? `Composes with the other subgraphs (${c.hints.length} hint(s))` : 'Does not compose', [
        ...issueLines(c.errors),
        ...c.hints.map((h) => `    hint: ${h.split('\n')[0]}`),
      ]);
    }
    const breaking = report.changes.filter((ch) => ch.level === 'BREAKING');
    section(
      breaking.length === 0,
      `Schema changes: ${breaking.length} breaking, ${report.changes.filter((ch) => ch.level === 'DANGEROUS').length} dangerous, ${report.changes.filter((ch) => ch.level === 'SAFE').length} safe`,
      [...report.changes.map((ch) => `    - ${ch.level.padEnd(9)} ${ch.message}`)],
    );
    const broken = report.operations.broken;
    section(broken.length === 0, `Operations: ${report.operations.checked} checked, ${broken.length} would break`, [
      ...broken.map((op) => `    - ${op.name} (${op.source}): ${op.errors.join('; ')}`),
    ]);
  }
  if (report.reachability) section(report.reachability.ok, `Routing URL: ${report.reachability.message}`);
  lines.push(report.ok ? 'PASSED: the subgraph can be published.' : 'FAILED: the subgraph cannot be published as it is.');
  return lines.join('\n');
}
