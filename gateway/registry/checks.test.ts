import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtInSdls, clusterSubgraphSdl } from '../../test/built-ins.js';
import { nmeSubgraph } from '../../test/fixtures/nme/index.js';
import { checkSubgraph, type CheckInput } from './checks.js';
import { formatReport } from './report.js';
import type { PublishedSubgraph } from './store.js';

const NME_SDL = readFileSync(new URL('../../test/fixtures/nme/schema.graphql', import.meta.url), 'utf8');
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
  published: [],
  builtIns: builtInSdls(),
  operations: [],
  ...over,
});

describe('subgraph checks', () => {
  it('pass a conforming new cluster subgraph written against the contract, its additions all safe', async () => {
    const { report, fullSdl } = await checkSubgraph(input({}));
    expect(report.sdl).toEqual([]);
    expect(report.contract).toEqual([]);
    expect(report.composition.ok).toBe(true);
    expect(report.ok).toBe(true);
    expect(report.changes.length).toBeGreaterThan(0);
    expect(report.changes.every((c) => c.level === 'SAFE')).toBe(true);
    // The kit's completion is the service's own full SDL.
    expect(fullSdl).toBe(clusterSubgraphSdl(nmeSubgraph));
  });

  it('accept the full SDL a kit-built service reports, as it is', async () => {
    const { report } = await checkSubgraph(input({ sdl: clusterSubgraphSdl(nmeSubgraph) }));
    expect(report.ok).toBe(true);
  });

  it('refuse malformed SDL, naming the line', async () => {
    const { report } = await checkSubgraph(input({ sdl: 'extend type Release {\n  nme(asOf: Date): \n}' }));
    expect(report.ok).toBe(false);
    expect(report.sdl[0]).toMatchObject({ code: 'SDL_INVALID', locations: [{ line: 3, column: 1 }] });
  });

  it('refuse a view without the tag, with the wrong name, or taking over another cluster', async () => {
    const noTag = NME_SDL.replace(/(nme\("Snapshot date." asOf: Date\): NmeTrustView) @tag\(name: "cluster-view"\)/, '$1');
    expect(noTag).not.toBe(NME_SDL);
    const { report: tagReport } = await checkSubgraph(input({ sdl: noTag }));
    expect(tagReport.contract).toContainEqual(
      expect.objectContaining({ code: 'CONTRACT_TAG', message: expect.stringContaining('Trust.nme') }),
    );
    const { report: nameReport } = await checkSubgraph(input({ name: 'north' }));
    expect(nameReport.contract).toContainEqual(expect.objectContaining({ code: 'CONTRACT_NAMING' }));
    const takeover = `${NME_SDL}\nextend type Release { "Mine now." south(asOf: Date): String }\n`;
    const { report: takeReport } = await checkSubgraph(input({ sdl: takeover }));
    expect(takeReport.ok).toBe(false);
    expect(takeReport.contract).toContainEqual(
      expect.objectContaining({
        code: 'CONTRACT_FIELD_OWNED',
        message: expect.stringContaining('Release.south belongs to subgraph "south"'),
      }),
    );
  });

  it('refuse a subgraph that does not compose, with the error code and its line', async () => {
    const clash = `${NME_SDL}\nextend type Release {\n  name: Int\n}\n`;
    const { report } = await checkSubgraph(input({ sdl: clash, name: 'nme' }));
    expect(report.ok).toBe(false);
    // Release.name is the programme's: a takeover, and composition refuses it too.
    expect(report.contract.map((i) => i.code)).toContain('CONTRACT_FIELD_OWNED');
    const mismatch = report.composition.errors.find((e) => e.code === 'FIELD_TYPE_MISMATCH');
    expect(mismatch?.message).toContain('Release.name');
    expect(mismatch?.locations?.[0]?.line).toBe(clash.split('\n').findIndex((l) => l.includes('name: Int')) + 1);
  });

  it("point only at lines of the supplier's own SDL: an error also in the contract names the contract, never a line outside the file", async () => {
    const mistyped = NME_SDL.replace(/^(\s*)plannedYear: Int$/m, '$1plannedYear: String');
    expect(mistyped).not.toBe(NME_SDL);
    const { report } = await checkSubgraph(input({ sdl: mistyped }));
    expect(report.ok).toBe(false);
    const error = report.composition.errors.find((e) => e.message.includes('ClusterReleaseView.plannedYear'));
    expect(error?.message).toContain('schema/contract.graphql line');
    const ownLines = mistyped.split('\n').length;
    // The supplier's field (its description starts its node, so the line before counts too).
    const fieldLine = mistyped.split('\n').findIndex((l) => l.includes('plannedYear: String')) + 1;
    expect(error?.locations).toHaveLength(1);
    expect([fieldLine - 1, fieldLine]).toContain(error?.locations?.[0]?.line);
    // Nothing was checked against a schema that does not exist: no ✓ for changes or operations.
    const text = formatReport(report);
    expect(text).toContain('Schema changes and operations: not checked (the subgraph does not compose)');
    expect(text).not.toMatch(/✓ (Schema changes|Operations)/);
    for (const issue of [...report.contract, ...report.composition.errors])
      for (const l of issue.locations ?? []) expect(l.line >= 1 && l.line <= ownLines, `${issue.message} at line ${l.line}`).toBe(true);
  });

  it('classify changes against the published version and name the operations a breaking one breaks', async () => {
    const current = published(clusterSubgraphSdl(nmeSubgraph));
    const removed = NME_SDL.replace('  "What only this fixture\'s spec has."\n  fixtureOnly: String\n', '');
    expect(removed).not.toBe(NME_SDL);
    const operations = [
      {
        name: 'NmeDetail',
        source: 'recorded' as const,
        document: 'query NmeDetail { release(code: "R2") { nme { localName fixtureOnly } } }',
      },
      { name: 'NmeName', source: 'persisted' as const, document: 'query NmeName { release(code: "R2") { nme { localName } } }' },
    ];
    const { report } = await checkSubgraph(input({ sdl: removed, published: [current], operations }));
    expect(report.ok).toBe(false);
    expect(report.comparedWith).toBe(1);
    expect(report.changes).toContainEqual(
      expect.objectContaining({ level: 'BREAKING', type: 'FIELD_REMOVED', path: 'NmeReleaseView.fixtureOnly' }),
    );
    expect(report.operations.broken).toEqual([{ name: 'NmeDetail', source: 'recorded', errors: [expect.stringContaining('fixtureOnly')] }]);
    // Deprecated in the published version, then removed: allowed once no operation uses it.
    const deprecatedSdl = NME_SDL.replace('fixtureOnly: String', 'fixtureOnly: String @deprecated(reason: "gone soon")');
    const deprecated = published(clusterSubgraphSdl({ ...nmeSubgraph, sdl: deprecatedSdl }));
    const afterDeprecation = await checkSubgraph(input({ sdl: removed, published: [deprecated], operations: [operations[1]!] }));
    expect(afterDeprecation.report.changes).toContainEqual(
      expect.objectContaining({ level: 'BREAKING', path: 'NmeReleaseView.fixtureOnly', deprecatedFirst: true }),
    );
    expect(afterDeprecation.report.ok).toBe(true);
    const stillUsed = await checkSubgraph(input({ sdl: removed, published: [deprecated], operations }));
    expect(stillUsed.report.ok).toBe(false);
    expect(stillUsed.report.operations.broken.map((o) => o.name)).toEqual(['NmeDetail']);
    const stricter = NME_SDL.replace('fixtureOnly: String', 'fixtureOnly: String!').replace(
      'nme("Snapshot date." asOf: Date): NmeReleaseView',
      'nme("Snapshot date." asOf: Date, "Required now." by: String!): NmeReleaseView',
    );
    const { report: strict } = await checkSubgraph(input({ sdl: stricter, published: [current], operations }));
    expect(strict.changes).toContainEqual(
      expect.objectContaining({ level: 'BREAKING', type: 'FIELD_ARGUMENT_ADDED', path: 'Release.nme.by' }),
    );
    expect(strict.changes).toContainEqual(expect.objectContaining({ path: 'NmeReleaseView.fixtureOnly', level: 'SAFE' }));
    expect(strict.operations.broken.map((o) => o.name).sort()).toEqual(['NmeDetail', 'NmeName']);
  });

  it('refuses an SDL nested too deep to parse, saying so rather than "Maximum call stack size exceeded"', async () => {
    const deep = `${NME_SDL}\nextend type Query { nmeDeep: ${'['.repeat(60_000)}String${']'.repeat(60_000)} }\n`;
    const { report } = await checkSubgraph(input({ sdl: deep }));
    expect(report.ok).toBe(false);
    expect(report.sdl).toEqual([{ code: 'SDL_INVALID', message: expect.stringContaining('nests too deep to parse') }]);
  });
});
