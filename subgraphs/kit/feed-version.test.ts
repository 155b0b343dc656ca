import { describe, expect, it } from 'vitest';
import { feedVersionAt, feedVersionOf } from './feed-version.js';
import { EMPTY_MANIFEST, withSnapshot } from './store.js';
import type { SnapshotMeta } from './views.js';

const meta = (file: string, asOf: string, version: string, loadedAt: string): SnapshotMeta => ({
  supplier: { id: 'FUJITSU' },
  file,
  asOf,
  checksum: version.padEnd(64, '0'),
  rows: 1,
  version,
  loadedAt,
  replacedAt: null,
  modifiedAt: loadedAt,
});

describe('the feed version a pinned request answers from', () => {
  const a = meta('a.csv', '2007-06-15', 'aaaa', '2026-01-01T00:00:01.000Z');
  const b = meta('b.csv', '2007-09-06', 'bbbb', '2026-01-01T00:00:02.000Z');
  const b2 = meta('b.csv', '2007-09-06', 'cccc', '2026-01-01T00:00:03.000Z');
  const before = withSnapshot(withSnapshot(EMPTY_MANIFEST, a), b);
  const after = withSnapshot(before, b2);

  it('is the version of the reports the pin sees, not of the reports current now', () => {
    // Pinned at (or before) the instant the correction became visible: the old report's version.
    expect(feedVersionAt(after, b2.loadedAt, null)).toBe(feedVersionOf(before));
    expect(feedVersionAt(after, '2026-01-01T00:00:02.500Z', null)).toBe(feedVersionOf(before));
    // Pinned after it: the version announced now.
    expect(feedVersionAt(after, '2026-01-01T00:00:03.001Z', null)).toBe(feedVersionOf(after));
    expect(feedVersionOf(after)).not.toBe(feedVersionOf(before));
    // Without a pin (a direct call): the current reports.
    expect(feedVersionAt(after, null, null)).toBe(feedVersionOf(after));
  });

  it('includes the refusal as given, as the announced version does', () => {
    const pin = '2026-01-01T00:00:09.000Z';
    expect(feedVersionAt(after, pin, 'bad.csv@1')).toBe(feedVersionOf(after, 'bad.csv@1'));
    expect(feedVersionAt(after, pin, 'bad.csv@1')).not.toBe(feedVersionAt(after, pin, null));
  });

  it('gives the same answer from its memo as computed afresh, for many pins', () => {
    for (let i = 1; i <= 100; i += 1) {
      const pin = new Date(Date.parse('2026-01-01T00:00:02.000Z') + i * 20).toISOString();
      const expected = pin > b2.loadedAt ? feedVersionOf(after) : feedVersionOf(before);
      expect(feedVersionAt(after, pin, null)).toBe(expected);
      expect(feedVersionAt(after, pin, null)).toBe(expected);
    }
  });
});
