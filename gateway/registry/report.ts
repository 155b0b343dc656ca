/**
 * A check report as people read it (the CLI prints it; a refused publish, withdrawal or
 * rollback carries it too). Each is headed and concluded as what it checked, and a refusal
 * says what to do: a breaking removal, to deprecate first.
 */
import type { BrokenOperation, CheckIssue, CheckReport, OperationClient, SchemaChange } from './checks.js';

/** Safe changes listed in the text (all are in the JSON). */
const SAFE_SHOWN = 8;

/** graphql-inspector's removals that `@deprecated` can announce first (the exception the checks allow). */
const DEPRECATABLE_REMOVALS = new Set(['FIELD_REMOVED', 'ENUM_VALUE_REMOVED']);

const at = (issue: CheckIssue) =>
  issue.locations?.length ? ` (line ${issue.locations.map((l) => `${l.line}:${l.column}`).join(', ')})` : '';
const issueLines = (issues: readonly CheckIssue[]) => issues.map((i) => `    - [${i.code}] ${i.message}${at(i)}`);

/** How each kind of report is headed and concluded. */
function wording(report: CheckReport): { head: string; composes: string; passed: string; failed: string } {
  switch (report.action) {
    case 'delete':
      return {
        head: `Withdrawal of subgraph "${report.subgraph}"`,
        composes: 'The other subgraphs compose without it',
        passed: 'PASSED: the subgraph can be withdrawn.',
        failed:
          report.operations.broken.length > 0
            ? 'FAILED: the subgraph cannot be withdrawn while the operations above use it (an operator may force it with ?force=true).'
            : 'FAILED: the subgraph cannot be withdrawn.',
      };
    case 'rollback':
      return {
        head: 'Rollback of the supergraph',
        composes: 'The restored subgraphs compose',
        passed: 'PASSED: the rollback can be made.',
        failed: 'FAILED: the rollback cannot be made.',
      };
    case 'publish':
      return {
        head: `Subgraph "${report.subgraph}"${report.comparedWith ? ` against its published version ${report.comparedWith}` : ' (not published yet)'}`,
        composes: 'Composes with the other subgraphs',
        passed: 'PASSED: the subgraph can be published.',
        failed: 'FAILED: the subgraph cannot be published as it is.',
      };
  }
}

/** How long ago `iso` was, as people say it: `40 s`, `3 min`, `5 h`, `2 days`. */
export function ago(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  const days = Math.floor(seconds / 86_400);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

const clientText = (c: OperationClient, now: number) => `${c.name}${c.version ? ` ${c.version}` : ''} (last seen ${ago(c.lastSeen, now)})`;

/**
 * An operation as the report names it: a nameless one by the start of its text too; then the
 * applications it breaks, so a supplier knows whom to tell.
 */
const operationLines = (op: BrokenOperation, now: number) => [
  `    - ${op.name}${op.excerpt !== undefined ? ` ${JSON.stringify(op.excerpt)}` : ''} (${op.source}): ${op.errors.join('; ')}`,
  ...(op.clients?.length ? [`      breaks client ${op.clients.map((c) => clientText(c, now)).join(', ')}`] : []),
];

/**
 * For a refused removal of a field or enum value: how many operations it breaks (those whose
 * errors name the member on its type), and how to remove it without breaking them.
 */
function deprecateFirst(change: SchemaChange, broken: readonly BrokenOperation[]): string | null {
  if (change.level !== 'BREAKING' || change.deprecatedFirst || !DEPRECATABLE_REMOVALS.has(change.type) || !change.path) return null;
  const dot = change.path.lastIndexOf('.');
  if (dot < 1) return null;
  const [type, member] = [change.path.slice(0, dot), change.path.slice(dot + 1)];
  const uses = broken.filter((op) => op.errors.some((e) => e.includes(`"${member}"`) && e.includes(`"${type}"`))).length;
  const what = uses > 0 ? `breaks ${uses} operation${uses === 1 ? '' : 's'}` : 'is breaking';
  return `      Removing ${change.path} ${what}: mark it @deprecated(reason: "…") and publish, then remove it once no client uses it`;
}

/** The routing URL's line: passed, refused (with its code), or not checked (`subgraph:check`). */
function reachability(report: CheckReport, lines: string[]): void {
  const r = report.reachability;
  if (!r) return;
  if (!r.checked) lines.push(`  - URL reachability: ${r.message}`);
  else lines.push(`  ${r.ok ? '✓' : '✗'} Routing URL: ${r.code ? `[${r.code}] ` : ''}${r.message}`);
}

/** The report as text: one section per check, each passed (✓) or failed (✗), then the verdict (`now`: for "last seen … ago"). */
export function formatReport(report: CheckReport, now = Date.now()): string {
  const words = wording(report);
  const lines: string[] = [words.head];
  const section = (ok: boolean, title: string, detail: string[] = []) => lines.push(`  ${ok ? '✓' : '✗'} ${title}`, ...detail);
  if (report.sdl.length > 0) {
    section(false, 'SDL does not parse', issueLines(report.sdl));
  } else {
    // A withdrawal or rollback brings no SDL of its own: there is no conformance to report.
    if (report.action === 'publish')
      section(
        report.contract.length === 0,
        `Contract conformance${report.contract.length ? `: ${report.contract.length} problem(s)` : ''}`,
        issueLines(report.contract),
      );
    const c = report.composition;
    if (c.ok || c.errors.length > 0) {
      const hints = c.hints.length > 0 ? ` (${c.hints.length} composition hint(s): --json lists them)` : '';
      section(c.ok, c.ok ? `${words.composes}${hints}` : 'Does not compose', issueLines(c.errors));
    }
    if (!c.ok) {
      // Changes and operations are checked against the composed schema: there is none.
      const why = c.errors.length > 0 ? 'the subgraph does not compose' : 'composition was not tried: fix the contract first';
      lines.push(`  - Schema changes and operations: not checked (${why})`);
      reachability(report, lines);
      lines.push(words.failed);
      return lines.join('\n');
    }
    const broken = report.operations.broken;
    const count = (level: string) => report.changes.filter((ch) => ch.level === level).length;
    const serious = report.changes.filter((ch) => ch.level !== 'SAFE');
    const safe = report.changes.filter((ch) => ch.level === 'SAFE');
    const shownSafe = safe.slice(0, SAFE_SHOWN);
    const title = `Schema changes: ${count('BREAKING')} breaking, ${count('DANGEROUS')} dangerous, ${count('SAFE')} safe`;
    const detail = [
      ...[...serious, ...shownSafe].flatMap((ch) => {
        const line = `    - ${ch.level.padEnd(9)} ${ch.message}${ch.deprecatedFirst ? ' (deprecated first: allowed while no operation uses it)' : ''}`;
        const advice = report.action === 'publish' ? deprecateFirst(ch, broken) : null;
        return advice ? [line, advice] : [line];
      }),
      ...(safe.length > shownSafe.length ? [`    … and ${safe.length - shownSafe.length} more safe change(s) (--json lists them)`] : []),
    ];
    // A withdrawal or rollback is refused only for the operations it breaks: its changes are what clients lose.
    if (report.action === 'publish') section(!serious.some((ch) => ch.level === 'BREAKING' && !ch.deprecatedFirst), title, detail);
    else lines.push(`  - ${title} (what clients lose)`, ...detail);
    section(
      broken.length === 0,
      `Operations: ${report.operations.checked} checked, ${broken.length} would break`,
      broken.flatMap((op) => operationLines(op, now)),
    );
  }
  reachability(report, lines);
  lines.push(report.ok ? words.passed : words.failed);
  return lines.join('\n');
}
