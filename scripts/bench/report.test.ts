import { describe, expect, it } from 'vitest';
import { goals, table, type Row } from './report.js';
import type { VariantKey } from './variants.js';

const row = (workload: string, key: VariantKey, rps: number, p99: number, rssMb: number | null = 200): Row => ({
  workload,
  key,
  label: `(${key}) label`,
  rps,
  p50: p99 / 2,
  p99,
  rssMb,
  subgraphRequests: 1.5,
  ...(key === 'off' ? { executions: 0.25 } : {}),
});

describe('the benchmark report', () => {
  it('gives each row its ratio to plain Apollo Gateway of the same workload, the subgraph requests and the executions', () => {
    const lines = table([
      row('A', 'plain', 500, 80),
      row('A', 'off', 1500, 30),
      row('B', 'plain', 100, 400),
      row('B', 'off', 150, 200, null),
    ]);
    expect(lines[2]).toBe('| A | (plain) label | 500 | 1.00 | 40.0 | 80.0 | 200 | 1.50 | - |');
    expect(lines[3]).toContain('| 1500 | 3.00 |');
    // (b) counts its executions: a quarter of the requests executed, the rest joined one.
    expect(lines[5]).toBe('| B | (off) label | 150 | 1.50 | 100.0 | 200.0 | - | 1.50 | 0.25 |');
  });

  it('marks each goal met or not from the rows, and says which are not measured', () => {
    const rows = [
      row('A', 'plain', 500, 80),
      row('A', 'off', 1900, 30, 210),
      row('A', 'hive-rust', 1500, 34),
      row('B', 'plain', 70, 475),
      row('B', 'off', 300, 130, 260),
      row('B', 'memory', 1800, 30),
      row('B', 'hive-rust', 270, 119),
      row('dashboard', 'plain', 100, 300),
      row('dashboard', 'memory', 30_000, 2),
      row('dashboard', 'bare', 50_000, 1, null),
    ];
    const lines = goals(rows);
    // A: 1.27x and p99 30 <= 34; B: 1.11x, and p99 130 > 119.
    expect(lines[0]).toMatch(/on A.*1\.27x.*\*\*met\*\*/);
    expect(lines[1]).toMatch(/on B.*1\.11x, p99 130 ms against 119 ms: \*\*not met\*\*/);
    expect(lines[2]).toMatch(/0\.60x.*\*\*met\*\*/);
    expect(lines[3]).toMatch(/25\.71x: \*\*met\*\*/);
    // B's caching-off process peaked at 260 MB against 200: 1.30x.
    expect(lines[4]).toMatch(/A 1\.05x.*B 1\.30x.*\*\*not met\*\*/);
    expect(goals([row('A', 'plain', 1, 1), row('A', 'off', 1, 1)])[0]).toMatch(/not measured \(\(g\) on A not in this run/);
    expect(goals([row('A', 'plain', 1, 1)])[1]).toMatch(/not measured \(B not in this run/);
    // A baseline that completed no request (too short a run) gives no ratio rather than Infinity.
    expect(goals([row('B', 'plain', 0, 0), row('B', 'memory', 30, 600)])[3]).toMatch(/B cached .*: not measured/);
    expect(table([row('B', 'plain', 0, 0), row('B', 'memory', 30, 600)])[3]).toContain('| 30 | - |');
  });

  it("says what tracing costs, (b') against (b), where both ran", () => {
    const lines = goals([row('A', 'off', 1000, 30), row('A', 'traced', 900, 33), row('B', 'off', 100, 200)]);
    expect(lines.at(-1)).toMatch(/Tracing on .*: A 0\.90x the RPS, p99 33\.0 against 30\.0 ms\./);
    expect(goals([row('A', 'off', 1000, 30)]).at(-1)).toMatch(/Tracing on against off: not measured/);
  });
});
