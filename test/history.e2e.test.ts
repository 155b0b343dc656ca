/**
 * History and time travel: every accepted snapshot is kept, views and the comparison answer
 * `asOf` a day, and slippage is one query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { query, startTestStack } from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

const sourceOf = async (asOf: string | null) => {
  const arg = asOf ? `(asOf: "${asOf}")` : '';
  const data = await query(
    stack.gatewayUrl,
    `{ release(code: "R0") { south${arg} { source { asOf } } london${arg} { source { asOf } } } }`,
  );
  return { south: data.release.south?.source.asOf ?? null, london: data.release.london?.source.asOf ?? null };
};

describe('asOf', () => {
  it('answers from the latest reports by default', async () => {
    expect(await sourceOf(null)).toEqual({ south: '2010-06-30', london: '2010-06-30' });
  });

  it('answers from the report dated on the day itself', async () => {
    expect(await sourceOf('2007-09-06')).toEqual({ south: '2007-09-06', london: '2007-09-06' });
  });

  it('answers from the latest report before a day between reports', async () => {
    expect(await sourceOf('2007-12-31')).toEqual({ south: '2007-09-06', london: '2007-09-06' });
    expect(await sourceOf('2006-06-30')).toEqual({ south: '2005-12-31', london: null });
  });

  it('has no view before the first report, and the latest after the last', async () => {
    expect(await sourceOf('2004-01-01')).toEqual({ south: null, london: null });
    expect(await sourceOf('2030-01-01')).toEqual({ south: '2010-06-30', london: '2010-06-30' });
  });

  it('refuses a day that is not yyyy-mm-dd with BAD_USER_INPUT', async () => {
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'query($d: Date) { release(code: "R2") { south(asOf: $d) { localName } } }',
        variables: { d: '06/09/2007' },
      }),
    });
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0]?.message).toContain('"06/09/2007"');
  });

  it('follows who publishes: Fujitsu until 2009, then BT for the South', async () => {
    const data = await query(
      stack.gatewayUrl,
      `{ release(code: "R0") {
      before: south(asOf: "2008-06-30") { supplier { id } }
      after: south(asOf: "2009-06-30") { supplier { id } } } }`,
    );
    expect(data.release).toEqual({ before: { supplier: { id: 'FUJITSU' } }, after: { supplier: { id: 'BT' } } });
  });
});

describe('history', () => {
  it("shows how the South's R2 planned date moved between 2007-06 and 2008-06 in one query", async () => {
    const data = await query(
      stack.gatewayUrl,
      `{ release(code: "R2") { south { history(from: "2007-06-01", to: "2008-06-30") {
      asOf designStatus designSuspendedOn plannedYear plannedDate } } } }`,
    );
    const history = data.release.south.history as { asOf: string; designStatus: string; plannedYear: number | null }[];
    expect(history.map((h) => h.asOf)).toEqual(['2007-06-15', '2007-09-06', '2008-01-31', '2008-06-30']);
    expect(history[0]).toMatchObject({ designStatus: 'ACTIVE', plannedYear: 2009 });
    expect(history[1]).toMatchObject({ designStatus: 'SUSPENDED', designSuspendedOn: '2007-08-17', plannedYear: 2009 });
    expect(history.at(-1)).toMatchObject({ designStatus: 'SUSPENDED', plannedYear: null });
  });

  it('lists every snapshot without bounds, oldest first', async () => {
    const data = await query(stack.gatewayUrl, '{ release(code: "R0") { london { history { asOf trustsLive } } } }');
    const history = data.release.london.history as { asOf: string; trustsLive: number }[];
    expect(history[0]!.asOf).toBe('2006-12-31');
    expect(history.map((h) => h.asOf)).toEqual([...history.map((h) => h.asOf)].sort());
    expect(history.find((h) => h.asOf === '2007-09-06')?.trustsLive).toBe(1);
  });
});

describe('the comparison as of a day', () => {
  const designStatus = async (asOf: string) => {
    const data = await query(
      stack.gatewayUrl,
      `{ compareRelease(code: "R2", asOf: "${asOf}") {
      asOf snapshots { cluster { id } asOf } aspects { aspect differs values { cluster { id } value } } } }`,
    );
    const aspect = data.compareRelease.aspects.find((a: { aspect: string }) => a.aspect === 'designStatus');
    return { comparison: data.compareRelease, differs: aspect.differs as boolean };
  };

  it('did not differ on R2 design in June 2007 and did from the suspension on', async () => {
    const june = await designStatus('2007-06-20');
    expect(june.differs).toBe(false);
    expect(june.comparison.snapshots).toEqual([
      { cluster: { id: 'SOUTH' }, asOf: '2007-06-15' },
      { cluster: { id: 'LONDON' }, asOf: '2007-06-15' },
    ]);
    expect(june.comparison.asOf).toBe('2007-06-20');
    expect((await designStatus('2007-09-06')).differs).toBe(true);
  });

  it("keeps the comparison's day even when the same query asks a view at another day", async () => {
    // Apollo Gateway would merge a required `south` with this `south(asOf:)`: the comparison
    // requires argument-free snapshots instead, so the two answers stay independent.
    const data = await query(
      stack.gatewayUrl,
      `{ release(code: "R2") {
      south(asOf: "2005-01-01") { localName }
      comparison(asOf: "2007-09-06") { clusters { id } aspects { aspect values { cluster { id } value } } } } }`,
    );
    expect(data.release.south).toBeNull();
    expect(data.release.comparison.clusters.map((c: { id: string }) => c.id)).toEqual(['SOUTH', 'LONDON']);
  });

  it("merges a trust's rollout as of a day", async () => {
    const at = async (asOf: string) =>
      (await query(stack.gatewayUrl, `{ trust(odsCode: "RPL") { rolloutAcrossClusters(asOf: "${asOf}") { asOf status localStatus } } }`))
        .trust.rolloutAcrossClusters;
    expect(await at('2007-09-06')).toEqual([{ asOf: '2007-09-06', status: 'PLANNED', localStatus: 'SCHEDULED' }]);
    expect(await at('2008-01-31')).toEqual([{ asOf: '2008-01-31', status: 'LIVE', localStatus: 'GO-LIVE ACHIEVED' }]);
    expect(await at('2010-06-30')).toEqual([{ asOf: '2010-06-30', status: 'SWITCHED_OFF', localStatus: 'DECOMMISSIONED' }]);
  });
});

describe('feed status', () => {
  it('lists each cluster feed with its current report, snapshots and store', async () => {
    const data = await query(
      stack.gatewayUrl,
      `{ feeds { id cluster { id } supplier { id } current { asOf file rows checksum }
      loadedAt snapshots lastRejected { file } store { backend available message } } }`,
    );
    expect(data.feeds).toHaveLength(2);
    const south = data.feeds.find((f: { id: string }) => f.id === 'south');
    expect(south).toMatchObject({
      cluster: { id: 'SOUTH' },
      supplier: { id: 'BT' },
      current: { asOf: '2010-06-30', file: 'fujitsu-south-2010-06-30.csv' },
      snapshots: 8,
      lastRejected: null,
      store: { backend: 'MEMORY', available: true, message: null },
    });
    expect(south.current.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(south.loadedAt)).toBeGreaterThan(0);
  });
});
