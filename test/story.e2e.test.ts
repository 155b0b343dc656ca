/**
 * The seed article's facts (E-Health Insider, 6 September 2007), asked of the gateway the
 * way a dashboard would: one test per fact the sample feeds must tell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { query, startTestStack } from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

interface Entry {
  trust: { odsCode: string; name: string };
  status: string;
  actualGoLive: string | null;
}

describe('the story as of September 2007', () => {
  it('has both feeds dated 6 September 2007', async () => {
    const data = await query(
      stack.gatewayUrl,
      `{ release(code: "R0") { south(asOf: "2007-09-06") { source { asOf file supplier { id } } } london(asOf: "2007-09-06") { source { asOf file supplier { id } } } } }`,
    );
    expect(data.release.south.source).toMatchObject({ asOf: '2007-09-06', supplier: { id: 'FUJITSU' } });
    expect(data.release.london.source).toMatchObject({ asOf: '2007-09-06', supplier: { id: 'BT' } });
  });

  it('has R0 live in exactly six Southern trusts and one London trust', async () => {
    const data = await query(
      stack.gatewayUrl,
      `{
      release(code: "R0") {
        south(asOf: "2007-09-06") { trustsLive rollout { trust { odsCode name } status actualGoLive } }
        london(asOf: "2007-09-06") { trustsLive rollout { trust { odsCode name } status actualGoLive } }
      }
    }`,
    );
    const live = (rollout: Entry[]) =>
      rollout
        .filter((e) => e.status === 'LIVE')
        .map((e) => e.trust.odsCode)
        .sort();
    expect(data.release.south.trustsLive).toBe(6);
    expect(live(data.release.south.rollout)).toEqual(['RA3', 'RBF', 'RD8', 'RN1', 'RTP', 'RXQ']);
    expect(data.release.london.trustsLive).toBe(1);
    expect(live(data.release.london.rollout)).toEqual(['RVL']);
    const barnet = (data.release.london.rollout as Entry[]).find((e) => e.trust.odsCode === 'RVL');
    expect(barnet?.trust.name).toBe('Barnet and Chase Farm Hospitals NHS Trust');
    // Worthing's go-live came later in September 2007: not live in this snapshot.
    expect((data.release.south.rollout as Entry[]).find((e) => e.trust.odsCode === 'RPL')?.status).toBe('PLANNED');
  });

  it("has the South's R2 design suspended since 17 August 2007 and London's not suspended", async () => {
    const data = await query(
      stack.gatewayUrl,
      `{
      release(code: "R2") {
        south(asOf: "2007-09-06") { designStatus designSuspendedOn contractReset { status since } }
        london(asOf: "2007-09-06") { designStatus designSuspendedOn }
      }
    }`,
    );
    expect(data.release.south).toEqual({
      designStatus: 'SUSPENDED',
      designSuspendedOn: '2007-08-17',
      contractReset: { status: 'UNDER_RESET', since: '2007-08-17' },
    });
    expect(data.release.london.designStatus).not.toBe('SUSPENDED');
    expect(data.release.london.designSuspendedOn).toBeNull();
  });

  it('has R2 as the first Spine-compliant release, due 2009, the third phase', async () => {
    const data = await query(stack.gatewayUrl, '{ releases { code phase spineCompliant dueYear } }');
    const firstSpine = data.releases.find((r: { spineCompliant: boolean }) => r.spineCompliant);
    expect(firstSpine).toEqual({ code: 'R2', phase: 3, spineCompliant: true, dueYear: 2009 });
    const r2 = await query(
      stack.gatewayUrl,
      '{ release(code: "R2") { south(asOf: "2007-09-06") { plannedYear spineCompliant } london(asOf: "2007-09-06") { plannedYear spineCompliant } } }',
    );
    expect(r2.release.south).toEqual({ plannedYear: 2009, spineCompliant: true });
    expect(r2.release.london).toEqual({ plannedYear: 2009, spineCompliant: true });
  });

  it('has both clusters planning R1 go-lives early in 2008', async () => {
    const data = await query(
      stack.gatewayUrl,
      '{ release(code: "R1") { south(asOf: "2007-09-06") { plannedYear } london(asOf: "2007-09-06") { plannedYear localName } } }',
    );
    expect(data.release.south.plannedYear).toBe(2008);
    expect(data.release.london).toEqual({ plannedYear: 2008, localName: 'LC1' });
  });

  it('has Fujitsu planning for 17 trusts', async () => {
    const data = await query(
      stack.gatewayUrl,
      '{ cluster(id: "SOUTH") { trustsPlanned serviceProvider { id name } } release(code: "R1") { south(asOf: "2007-09-06") { trustsPlanned } } }',
    );
    expect(data.cluster).toEqual({ trustsPlanned: 17, serviceProvider: { id: 'FUJITSU', name: 'Fujitsu Services' } });
    expect(data.release.south.trustsPlanned).toBe(17);
  });

  it("has London's different products for non-acute care, which the South's spec lacks", async () => {
    const data = await query(
      stack.gatewayUrl,
      `{
      release(code: "R2") { london(asOf: "2007-09-06") { nonAcuteProducts { name careSetting } } }
      __type(name: "SouthReleaseView") { fields { name } }
    }`,
    );
    expect(data.release.london.nonAcuteProducts.length).toBeGreaterThan(0);
    expect(data.release.london.nonAcuteProducts[0].careSetting).toMatch(/community|mental health/i);
    expect(data.__type.fields.map((f: { name: string }) => f.name)).not.toContain('nonAcuteProducts');
  });

  it('has the 2010 completion target and NLOP', async () => {
    const data = await query(stack.gatewayUrl, '{ programme { completionTargetYear localOwnership { code name } } }');
    expect(data.programme).toEqual({
      completionTargetYear: 2010,
      localOwnership: { code: 'NLOP', name: 'NPfIT Local Ownership Programme' },
    });
  });

  it('marks unverified ODS codes as such', async () => {
    const data = await query(stack.gatewayUrl, '{ trust(odsCode: "RBF") { name odsCodeConfidence } }');
    expect(data.trust).toEqual({ name: 'Nuffield Orthopaedic Centre NHS Trust', odsCodeConfidence: 'UNVERIFIED' });
  });
});
