import { describe, expect, it } from 'vitest';
import { goals, table, type Row } from './live-report.js';

const row = (overrides: Partial<Row> = {}): Row => ({
  scenario: 'one query',
  subscribers: 1000,
  distinct: 1,
  received: 1000,
  p50: 120,
  p99: 480,
  max: 510,
  executionsPerChange: 1,
  rssKbPerStream: 31.25,
  heapKbPerStream: 12.5,
  idleCpuPercent: 0.4,
  ...overrides,
});

describe('the live benchmark report', () => {
  it('writes one table row per scenario', () => {
    const lines = table([row(), row({ scenario: '50 queries', distinct: 50, executionsPerChange: 1.04 })]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe('| one query | 1000 | 1 | 1000 | 120 | 480 | 510 | 1.00 | 31.3 | 12.5 | 0.4 |');
    expect(lines[3]).toContain('| 50 queries | 1000 | 50 |');
    expect(lines[3]).toContain('| 1.04 |');
  });

  it('marks each goal met or not, and a run below 1,000 subscribers as one to re-run', () => {
    expect(goals([row()])).not.toContain('not met');
    expect(goals([row()])).not.toContain('re-run');
    const missed = goals([row({ p99: 1200 }), row({ executionsPerChange: 2 }), row({ rssKbPerStream: 60 })]).split('\n');
    expect(missed.every((line) => line.endsWith('**not met**'))).toBe(true);
    // A subscriber that never got the change fails the latency goal, whatever the others' p99.
    expect(goals([row({ received: 999 })]).split('\n')[0]).toMatch(/not met/);
    expect(goals([row({ subscribers: 300, received: 300 })])).toMatch(
      /300 subscribers \(the goal is set at 1,000: re-run at full scale\): met/,
    );
  });
});
