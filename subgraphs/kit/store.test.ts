import { describe, expect, it } from 'vitest';
import { EMPTY_MANIFEST, manifestAt, MemoryViewStore, snapshotAt, versionKey, withSnapshot } from './store.js';
import type { SnapshotMeta, SnapshotViews } from './views.js';

const meta = (file: string, asOf: string, version: string, loadedAt: string, modifiedAt = loadedAt): SnapshotMeta => ({
  supplier: { id: 'FUJITSU' },
  file,
  asOf,
  checksum: version.padEnd(64, '0'),
  rows: 1,
  version,
  loadedAt,
  replacedAt: null,
  modifiedAt,
});

describe('manifests', () => {
  const a = meta('a.csv', '2007-06-15', 'aaaa', '2026-01-01T00:00:01.000Z');
  const b = meta('b.csv', '2007-09-06', 'bbbb', '2026-01-01T00:00:02.000Z');
  const b2 = meta('b.csv', '2007-09-06', 'cccc', '2026-01-01T00:00:03.000Z');
  const manifest = withSnapshot(withSnapshot(withSnapshot(EMPTY_MANIFEST, b), a), b2);

  it('keeps reports in date order and marks a corrected file replaced', () => {
    expect(manifest.snapshots.map((s) => [s.version, s.replacedAt])).toEqual([
      ['aaaa', null],
      ['bbbb', '2026-01-01T00:00:03.000Z'],
      ['cccc', null],
    ]);
    expect(manifest.generation).toBe(3);
  });

  it('does not switch when the same file arrives unchanged, or as an older copy', () => {
    expect(withSnapshot(manifest, { ...b2, loadedAt: '2026-01-01T00:00:09.000Z' })).toBe(manifest);
    const olderCopy = meta('b.csv', '2007-09-06', 'dddd', '2026-01-01T00:00:09.000Z', '2025-12-31T00:00:00.000Z');
    expect(withSnapshot(manifest, olderCopy)).toBe(manifest);
  });

  it('forgets a replaced snapshot a minute after its replacement', () => {
    const later = meta('c.csv', '2008-01-31', 'eeee', '2026-01-01T00:01:04.000Z');
    expect(withSnapshot(manifest, later).snapshots.map((s) => s.version)).toEqual(['aaaa', 'cccc', 'eeee']);
  });

  it('shows a pinned request only what was visible strictly before its pin', () => {
    const versions = (pin: string | null) => manifestAt(manifest, pin).snapshots.map((s) => s.version);
    expect(versions(null)).toEqual(['aaaa', 'cccc']);
    expect(versions('2026-01-01T00:00:01.000Z')).toEqual([]);
    expect(versions('2026-01-01T00:00:01.500Z')).toEqual(['aaaa']);
    expect(versions('2026-01-01T00:00:02.500Z')).toEqual(['aaaa', 'bbbb']);
    expect(versions('2026-01-01T00:00:03.000Z')).toEqual(['aaaa', 'bbbb']);
    expect(versions('2026-01-01T00:00:04.000Z')).toEqual(['aaaa', 'cccc']);
  });

  it('finds the snapshot current at a day', () => {
    const current = manifestAt(manifest, null);
    expect(snapshotAt(current, '2007-01-01')).toBeNull();
    expect(snapshotAt(current, '2007-07-01')?.version).toBe('aaaa');
    expect(snapshotAt(current, null)?.version).toBe('cccc');
  });
});

describe('the memory store', () => {
  it('stamps the switch time and answers lookups in key order with null for unknown keys', async () => {
    const store = new MemoryViewStore();
    const views: SnapshotViews = {
      meta: meta('a.csv', '2007-06-15', 'aaaa', ''),
      releases: new Map(),
      rollouts: new Map([['R0', []]]),
      trusts: new Map(),
    };
    const before = new Date().toISOString();
    const manifest = await store.publish(views);
    expect(manifest.snapshots[0]!.loadedAt >= before).toBe(true);
    expect(await store.getRollouts([versionKey('aaaa', 'R9'), versionKey('aaaa', 'R0'), versionKey('zzzz', 'R0')])).toEqual([
      null,
      [],
      null,
    ]);
  });
});
