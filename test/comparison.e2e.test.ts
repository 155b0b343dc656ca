/** The cross-cluster comparison through the gateway, and how bad queries are answered. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { post, query, startTestStack } from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.close());

const COMPARISON = `
  divergent
  clusters { id }
  aspects { aspect differs values { cluster { id } value } }
  capabilities { capability presentIn { id } missingFrom { id } scopes { cluster { id } value } }
`;

type Aspect = { aspect: string; differs: boolean; values: { cluster: { id: string }; value: string | null }[] };
const aspect = (aspects: Aspect[], name: string) => {
  const found = aspects.find((a) => a.aspect === name);
  if (!found) throw new Error(`no aspect ${name}`);
  return { differs: found.differs, values: Object.fromEntries(found.values.map((v) => [v.cluster.id, v.value])) };
};

describe('compareRelease', () => {
  it('answers "how does R2 differ between London and the South?" in one query', async () => {
    const data = await query(
      stack.gatewayUrl,
      `{ compareRelease(code: "R2", asOf: "2007-09-06") { release { code name } ${COMPARISON} } }`,
    );
    const r2 = data.compareRelease;
    expect(r2.release).toEqual({ code: 'R2', name: 'Release 2' });
    expect(r2.clusters.map((c: { id: string }) => c.id).sort()).toEqual(['LONDON', 'SOUTH']);
    expect(r2.divergent).toBe(true);
    expect(aspect(r2.aspects, 'designStatus')).toEqual({ differs: true, values: { SOUTH: 'SUSPENDED', LONDON: 'ACTIVE' } });
    expect(aspect(r2.aspects, 'designSuspendedOn')).toEqual({ differs: true, values: { SOUTH: '2007-08-17', LONDON: null } });
    expect(aspect(r2.aspects, 'localName')).toEqual({ differs: true, values: { SOUTH: 'Release 2', LONDON: 'LC2' } });
    expect(aspect(r2.aspects, 'spineCompliant')).toEqual({ differs: false, values: { SOUTH: 'true', LONDON: 'true' } });
    expect(aspect(r2.aspects, 'plannedYear')).toEqual({ differs: false, values: { SOUTH: '2009', LONDON: '2009' } });
  });

  it('lists every aspect of the contract interface that is compared', async () => {
    const data = await query(stack.gatewayUrl, `{ compareRelease(code: "R0", asOf: "2007-09-06") { aspects { aspect } } }`);
    expect(data.compareRelease.aspects.map((a: { aspect: string }) => a.aspect)).toEqual([
      'localName',
      'designStatus',
      'designSuspendedOn',
      'plannedDate',
      'plannedYear',
      'spineCompliant',
      'capabilities',
      'trustsLive',
      'trustsPlanned',
    ]);
  });

  it('says which clusters lack each capability', async () => {
    const data = await query(stack.gatewayUrl, `{ compareRelease(code: "R0", asOf: "2007-09-06") { ${COMPARISON} } }`);
    const caps = Object.fromEntries(
      data.compareRelease.capabilities.map((c: { capability: string; presentIn: { id: string }[]; missingFrom: { id: string }[] }) => [
        c.capability,
        { presentIn: c.presentIn.map((x) => x.id).sort(), missingFrom: c.missingFrom.map((x) => x.id).sort() },
      ]),
    );
    expect(caps.PAS).toEqual({ presentIn: ['LONDON', 'SOUTH'], missingFrom: [] });
    expect(caps.MATERNITY).toEqual({ presentIn: ['SOUTH'], missingFrom: ['LONDON'] });
    expect(aspect(data.compareRelease.aspects, 'trustsLive')).toEqual({ differs: true, values: { SOUTH: '6', LONDON: '1' } });
  });

  it('gives the same answer through Release.comparison, for every release', async () => {
    const data = await query(
      stack.gatewayUrl,
      `{ releases { code comparison(asOf: "2007-09-06") { ${COMPARISON} } } direct: compareRelease(code: "R2", asOf: "2007-09-06") { ${COMPARISON} } }`,
    );
    expect(data.releases.map((r: { code: string }) => r.code)).toEqual(['R0', 'R1', 'R2']);
    expect(data.releases[2].comparison).toEqual(data.direct);
  });

  it('gives null, not an error, for an unknown release code', async () => {
    const response = await post(
      stack.gatewayUrl,
      '{ compareRelease(code: "R9", asOf: "2007-09-06") { divergent } release(code: "R9") { code } trust(odsCode: "XXX") { name } }',
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ compareRelease: null, release: null, trust: null });
  });
});

describe("a trust's merged rollout", () => {
  it('lists go-lives from every cluster that reports the trust', async () => {
    const data = await query(
      stack.gatewayUrl,
      `{
      trust(odsCode: "RVL") { name south(asOf: "2007-09-06") { localName } rolloutAcrossClusters(asOf: "2007-09-06") { cluster { id } release { code } status localStatus actualGoLive } }
    }`,
    );
    expect(data.trust.south).toBeNull();
    expect(data.trust.rolloutAcrossClusters).toEqual([
      { cluster: { id: 'LONDON' }, release: { code: 'R0' }, status: 'LIVE', localStatus: 'Live', actualGoLive: '2007-07-19' },
    ]);
  });

  it("keeps each supplier's own status word beside the common status", async () => {
    const data = await query(
      stack.gatewayUrl,
      '{ trust(odsCode: "RBA") { rolloutAcrossClusters(asOf: "2007-09-06") { cluster { id } status localStatus } } }',
    );
    expect(data.trust.rolloutAcrossClusters).toEqual([{ cluster: { id: 'SOUTH' }, status: 'POSTPONED', localStatus: 'RESCHEDULED' }]);
  });
});

describe('bad queries', () => {
  it('answers a malformed query with a syntax error and HTTP 400', async () => {
    const response = await post(stack.gatewayUrl, '{ releases { code ');
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('answers an unknown field with a validation error naming it', async () => {
    const response = await post(stack.gatewayUrl, '{ releases { code colour } }');
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.errors?.[0]?.message).toMatch(/colour/);
  });

  it('answers a missing required argument with a validation error', async () => {
    const response = await post(stack.gatewayUrl, '{ compareRelease { divergent } }');
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.message).toMatch(/code/);
  });
});
