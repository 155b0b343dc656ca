/**
 * What `npm run bench` prints and writes into the README: one row per workload and variant
 * (RPS and its ratio to plain Apollo Gateway, latency, peak RSS, subgraph requests per
 * gateway request, operations executed per gateway request), then the goals of issue 13, each marked met or not from the same rows.
 */
import type { VariantKey } from './variants.js';

export interface Row {
  readonly workload: string;
  readonly key: VariantKey;
  readonly label: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** null for a process not started for this workload. */
  readonly rssMb: number | null;
  /** Subgraph requests per gateway request; null where the subgraphs are not behind it. */
  readonly subgraphRequests: number | null;
  /** Operations executed per gateway request (the rest joined an identical one's execution); null where not counted. */
  readonly executions?: number | null;
}

const fixed = (value: number | null, digits: number) => (value === null || !Number.isFinite(value) ? '-' : value.toFixed(digits));

/** The table, in Markdown. */
export function table(rows: readonly Row[]): string[] {
  const lines = [
    '| workload | gateway | RPS | × plain | p50 ms | p99 ms | peak RSS MB | subgraph req / req | executions / req |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const plain = measured(find(rows, row.workload, 'plain'));
    lines.push(
      `| ${row.workload} | ${row.label} | ${fixed(row.rps, 0)} | ${plain ? fixed(row.rps / plain.rps, 2) : '-'} | ${fixed(row.p50, 1)} | ${fixed(row.p99, 1)} | ${fixed(row.rssMb, 0)} | ${fixed(row.subgraphRequests, 2)} | ${fixed(row.executions ?? null, 2)} |`,
    );
  }
  return lines;
}

const find = (rows: readonly Row[], workload: string, key: VariantKey) => rows.find((row) => row.workload === workload && row.key === key);
/** A row that completed requests: a ratio to one that completed none (a run too short for it) means nothing. */
const measured = (row: Row | undefined) => (row && row.rps > 0 ? row : undefined);
const verdict = (met: boolean) => (met ? '**met**' : '**not met**');
const times = (value: number) => `${value.toFixed(2)}x`;

/**
 * The goals of issue 13, each a ratio between rows of this run. A goal whose rows are
 * missing (a workload not run, a peer skipped or refused) says so instead of a verdict.
 */
export function goals(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const workload of ['A', 'B']) {
    const off = measured(find(rows, workload, 'off'));
    const rust = measured(find(rows, workload, 'hive-rust'));
    if (!off || !rust) {
      const missing = rows.some((row) => row.workload === workload) ? `${!off ? '(b)' : '(g)'} on ${workload}` : workload;
      lines.push(
        `- Uncached on ${workload}, at least 1.2x Hive Gateway + Rust planner with p99 no worse: not measured (${missing} not in this run, or it completed no request within a run).`,
      );
      continue;
    }
    const ratio = off.rps / rust.rps;
    lines.push(
      `- Uncached on ${workload}, at least 1.2x Hive Gateway + Rust planner with p99 no worse: ${times(ratio)}, p99 ${fixed(off.p99, 0)} ms against ${fixed(rust.p99, 0)} ms: ${verdict(ratio >= 1.2 && off.p99 <= rust.p99)}.`,
    );
  }
  const hit = measured(find(rows, 'dashboard', 'memory'));
  const bare = measured(find(rows, 'dashboard', 'bare'));
  if (hit && bare) {
    const redis = find(rows, 'dashboard', 'redis');
    lines.push(
      `- A response-cache hit (dashboard, ReleaseMatrix) at least 0.5x a bare node:http server writing the same bytes: ${times(hit.rps / bare.rps)} (${fixed(hit.rps, 0)} against ${fixed(bare.rps, 0)} RPS${redis ? `; Redis ${times(redis.rps / bare.rps)}` : ''}): ${verdict(hit.rps / bare.rps >= 0.5)}.`,
    );
  } else
    lines.push(
      `- A response-cache hit at least 0.5x a bare node:http server: not measured (${!hit ? '(c)' : '(h)'} not in this run, or it completed no request within a run).`,
    );
  const plainB = measured(find(rows, 'B', 'plain'));
  const cachedB = measured(find(rows, 'B', 'memory'));
  if (plainB && cachedB) {
    const redis = find(rows, 'B', 'redis');
    lines.push(
      `- B cached at least 25x plain Apollo Gateway: ${times(cachedB.rps / plainB.rps)}${redis ? ` (Redis ${times(redis.rps / plainB.rps)})` : ''}: ${verdict(cachedB.rps / plainB.rps >= 25)}.`,
    );
  } else
    lines.push(
      '- B cached at least 25x plain Apollo Gateway: not measured ((a) or (c) on B not in this run, or one completed no request within a run).',
    );
  const memory: string[] = [];
  let memoryMet = true;
  for (const workload of [...new Set(rows.map((row) => row.workload))]) {
    const plain = find(rows, workload, 'plain');
    if (!plain?.rssMb) continue;
    const ours = (['off', 'memory', 'redis'] as const)
      .map((key) => find(rows, workload, key))
      .filter((row): row is Row => Boolean(row?.rssMb));
    if (ours.length === 0) continue;
    const worst = ours.reduce((a, b) => (b.rssMb! > a.rssMb! ? b : a));
    const ratio = worst.rssMb! / plain.rssMb;
    memoryMet &&= ratio <= 1.1;
    memory.push(`${workload} ${times(ratio)} (${worst.label.slice(0, 3)} ${fixed(worst.rssMb, 0)} MB against ${fixed(plain.rssMb, 0)} MB)`);
  }
  lines.push(
    memory.length > 0
      ? `- Peak RSS at most 1.1x plain Apollo Gateway's under each workload, caching on or off (the highest of (b), (c), (d)): ${memory.join(', ')}: ${verdict(memoryMet)}.`
      : "- Peak RSS at most 1.1x plain Apollo Gateway's: not measured.",
  );
  // Issue 14: what tracing costs, on against off, caching off both.
  const tracing = [...new Set(rows.map((row) => row.workload))].flatMap((workload) => {
    const off = measured(find(rows, workload, 'off'));
    const traced = measured(find(rows, workload, 'traced'));
    return off && traced
      ? [`${workload} ${times(traced.rps / off.rps)} the RPS, p99 ${fixed(traced.p99, 1)} against ${fixed(off.p99, 1)} ms`]
      : [];
  });
  lines.push(
    tracing.length > 0
      ? `- Tracing on ((b') against (b), every operation sampled and exported): ${tracing.join('; ')}. Off, no tracer is started.`
      : "- Tracing on against off: not measured ((b') or (b) not in this run).",
  );
  return lines;
}
