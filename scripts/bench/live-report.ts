/** The table and goals `npm run bench:live` prints and writes into the README. */

/** One scenario's figures. */
export interface Row {
  readonly scenario: string;
  readonly subscribers: number;
  readonly distinct: number;
  readonly received: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly executionsPerChange: number;
  readonly rssKbPerStream: number;
  readonly heapKbPerStream: number;
  readonly idleCpuPercent: number;
}

/** The Markdown table, one row per scenario. */
export function table(rows: readonly Row[]): string {
  const lines = [
    '| scenario | subscribers | distinct operations | got the change | p50 ms | p99 ms | max ms | executions per change per operation | RSS KB per stream | heap KB per stream | idle CPU % of a core |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows)
    lines.push(
      `| ${r.scenario} | ${r.subscribers} | ${r.distinct} | ${r.received} | ${r.p50} | ${r.p99} | ${r.max} | ${r.executionsPerChange.toFixed(2)} | ${r.rssKbPerStream.toFixed(1)} | ${r.heapKbPerStream.toFixed(1)} | ${r.idleCpuPercent.toFixed(1)} |`,
    );
  return lines.join('\n');
}

/** Issue 12's goals, each met or not; every subscriber must have had the change. */
export function goals(rows: readonly Row[]): string {
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  return [
    `- p99 under 1 s for ${Math.min(...rows.map((r) => r.subscribers))} subscribers${rows.some((r) => r.subscribers < 1000) ? ' (the goal is set at 1,000: re-run at full scale)' : ''}: ${met(rows.every((r) => r.p99 < 1000 && r.received === r.subscribers))}`,
    `- one execution per distinct operation per change: ${met(rows.every((r) => r.executionsPerChange === 1))}`,
    `- under 50 KB per open stream (resident): ${met(rows.every((r) => r.rssKbPerStream < 50))}`,
  ].join('\n');
}
