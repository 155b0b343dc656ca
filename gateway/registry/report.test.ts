import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtInSdls, clusterSubgraphSdl } from '../../test/built-ins.js';
import { nmeSubgraph } from '../../test/fixtures/nme/index.js';
import { checkChange, checkSubgraph, documentExcerpt, EXCERPT_CHARS, type CheckedOperation, type CheckInput } from './checks.js';
import type { PersistedOperations } from '../persisted-operations.js';
import { checkedOperations } from './publication.js';
import { formatReport } from './report.js';
import type { PublishedSubgraph } from './store.js';

const NME_SDL = readFileSync(new URL('../../test/fixtures/nme/schema.graphql', import.meta.url), 'utf8');
const REMOVED = NME_SDL.replace('  "What only this fixture\'s spec has."\n  fixtureOnly: String\n', '');
const published = (sdl: string): PublishedSubgraph => ({
  name: 'nme',
  url: 'http://n/graphql',
  sdl,
  version: 1,
  publishedAt: '2026-01-01T00:00:00.000Z',
  publishedBy: 'CSC',
});
const input = (over: Partial<CheckInput>): CheckInput => ({
  name: 'nme',
  sdl: NME_SDL,
  url: null,
  published: [published(clusterSubgraphSdl(nmeSubgraph))],
  builtIns: builtInSdls(),
  operations: [],
  ...over,
});
const ANONYMOUS = `{
  release(code: "R2") {
    nme { localName fixtureOnly }
  }
}`;
const operations: CheckedOperation[] = [
  { name: 'anonymous:26cac7f6a1c5', source: 'recorded', document: ANONYMOUS },
  { name: 'NmeDetail', source: 'persisted', document: 'query NmeDetail { release(code: "R2") { nme { fixtureOnly } } }' },
];

describe('check reports', () => {
  it('show an operation without a name by the start of its text, on one line and bounded', async () => {
    expect(REMOVED).not.toBe(NME_SDL);
    const { report } = await checkSubgraph(input({ sdl: REMOVED, operations }));
    const anonymous = report.operations.broken.find((op) => op.name.startsWith('anonymous:'));
    expect(anonymous?.excerpt).toBe('{ release(code: "R2") { nme { localName fixtureOnly } } }');
    // A named operation is known by its name.
    expect(report.operations.broken.find((op) => op.name === 'NmeDetail')).not.toHaveProperty('excerpt');
    const text = formatReport(report);
    expect(text).toContain(`- anonymous:26cac7f6a1c5 "{ release(code: \\"R2\\") { nme { localName fixtureOnly } } }" (recorded):`);
    const long = documentExcerpt(`{\n${'  release(code: "R2") { code }\n'.repeat(500)}}`);
    expect(long).toHaveLength(EXCERPT_CHARS);
    expect(long).not.toContain('\n');
    expect(long.endsWith('…')).toBe(true);
  });

  it('tell a supplier whose removal breaks operations to deprecate first', async () => {
    const { report } = await checkSubgraph(input({ sdl: REMOVED, operations }));
    expect(report.ok).toBe(false);
    expect(formatReport(report)).toContain(
      '      Removing NmeReleaseView.fixtureOnly breaks 2 operations: mark it @deprecated(reason: "…") and publish, then remove it once no client uses it',
    );
    const unused = await checkSubgraph(input({ sdl: REMOVED }));
    expect(unused.report.ok).toBe(false);
    expect(formatReport(unused.report)).toContain(
      'Removing NmeReleaseView.fixtureOnly is breaking: mark it @deprecated(reason: "…") and publish',
    );
  });

  it('head a withdrawal as a withdrawal, never as a publication', async () => {
    const current = published(clusterSubgraphSdl(nmeSubgraph));
    const { report } = await checkChange({
      action: 'delete',
      subgraph: 'nme',
      published: [current],
      next: [],
      builtIns: builtInSdls(),
      operations: [operations[1]!],
    });
    expect(report.action).toBe('delete');
    const text = formatReport(report);
    expect(text.split('\n')[0]).toBe('Withdrawal of subgraph "nme"');
    expect(text).not.toMatch(/not published yet|cannot be published|Contract conformance/);
    // What clients lose is reported, not failed: only the operations refuse a withdrawal.
    expect(text).toMatch(/^ {2}- Schema changes: \d+ breaking, .* \(what clients lose\)$/m);
    expect(text).toContain("    - BREAKING  Field 'nme' was removed from object type 'Release'");
    expect(text).toContain('- NmeDetail (persisted)');
    expect(text.split('\n').at(-1)).toBe(
      'FAILED: the subgraph cannot be withdrawn while the operations above use it (an operator may force it with ?force=true).',
    );
    const unused = await checkChange({
      action: 'delete',
      subgraph: 'nme',
      published: [current],
      next: [],
      builtIns: builtInSdls(),
      operations: [],
    });
    expect(formatReport(unused.report).split('\n').at(-1)).toBe('PASSED: the subgraph can be withdrawn.');
  });

  it('head a rollback as a rollback', async () => {
    const current = published(clusterSubgraphSdl(nmeSubgraph));
    const { report } = await checkChange({
      action: 'rollback',
      subgraph: '(rollback)',
      published: [current],
      next: [],
      builtIns: builtInSdls(),
      operations: [operations[1]!],
    });
    const text = formatReport(report).split('\n');
    expect(text[0]).toBe('Rollback of the supergraph');
    expect(text.at(-1)).toBe('FAILED: the rollback cannot be made.');
  });

  it('name the applications an operation breaks, with their version and when each was last seen', async () => {
    const now = Date.parse('2026-03-01T12:00:00.000Z');
    const persisted = new Map([['NmeDetail', { name: 'NmeDetail', body: operations[1]!.document }]]);
    const checked = checkedOperations(persisted as unknown as PersistedOperations, [
      {
        name: 'NmeDetail',
        document: operations[1]!.document,
        lastSeen: '2026-03-01T11:57:00.000Z',
        clientName: 'board-dashboard',
        clientVersion: '2.1',
      },
      {
        name: 'NmeDetail',
        document: operations[1]!.document,
        lastSeen: '2026-02-27T09:00:00.000Z',
        clientName: 'board-dashboard',
        clientVersion: '2.0',
      },
      { name: 'NmeDetail', document: operations[1]!.document, lastSeen: '2026-03-01T10:00:00.000Z', clientName: 'explorer' },
      { name: 'NmeDetail', document: operations[1]!.document, lastSeen: '2026-03-01T11:59:00.000Z' },
    ]);
    expect(checked).toHaveLength(1);
    expect(checked[0]).toMatchObject({ source: 'persisted' });
    expect(checked[0]!.clients!.map((c) => `${c.name}@${c.version}`)).toEqual([
      'board-dashboard@2.1',
      'explorer@null',
      'board-dashboard@2.0',
    ]);
    const { report } = await checkSubgraph(input({ sdl: REMOVED, operations: checked }));
    expect(report.operations.broken[0]!.clients).toEqual(checked[0]!.clients);
    expect(formatReport(report, now)).toContain(
      '      breaks client board-dashboard 2.1 (last seen 3 min ago), explorer (last seen 2 h ago), board-dashboard 2.0 (last seen 2 days ago)',
    );
    // No application named: no line.
    const { report: plain } = await checkSubgraph(input({ sdl: REMOVED, operations }));
    expect(formatReport(plain)).not.toContain('breaks client');
  });
});
