/**
 * A third conforming cluster subgraph (test/fixtures/nme), written only against the contract
 * and the kit, joins the comparison with no change to the insights code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import type { ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { query, startTestStack } from './helpers.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack({
    extraClusters: [{ definition: nmeSubgraph as ClusterSubgraphDefinition<object>, feedDir: nmeFeedDir }],
  });
});
afterAll(() => stack.close());

describe('a third supplier subgraph', () => {
  it('serves its own view and its own fields through the gateway', async () => {
    const data = await query(
      stack.gatewayUrl,
      '{ release(code: "R2") { nme { localName fixtureOnly cluster { id name serviceProvider { id } } } } }',
    );
    expect(data.release.nme).toEqual({
      localName: 'NME Release 2',
      fixtureOnly: 'only in the NME spec',
      cluster: { id: 'NME', name: 'North, Midlands and East Programme for IT', serviceProvider: { id: 'CSC' } },
    });
  });

  it('is part of the comparison, next to the South and London', async () => {
    const data = await query(
      stack.gatewayUrl,
      `{
      compareRelease(code: "R2", asOf: "2007-09-06") {
        clusters { id }
        aspects { aspect differs values { cluster { id } value } }
        capabilities { capability presentIn { id } missingFrom { id } }
      }
    }`,
    );
    const comparison = data.compareRelease;
    expect(comparison.clusters.map((c: { id: string }) => c.id).sort()).toEqual(['LONDON', 'NME', 'SOUTH']);
    const year = comparison.aspects.find((a: { aspect: string }) => a.aspect === 'plannedYear');
    expect(year.differs).toBe(true);
    expect(Object.fromEntries(year.values.map((v: { cluster: { id: string }; value: string }) => [v.cluster.id, v.value]))).toEqual({
      SOUTH: '2009',
      LONDON: '2009',
      NME: '2010',
    });
    const maternity = comparison.capabilities.find((c: { capability: string }) => c.capability === 'MATERNITY');
    expect(maternity.presentIn).toEqual([{ id: 'NME' }]);
    expect(maternity.missingFrom.map((c: { id: string }) => c.id).sort()).toEqual(['LONDON', 'SOUTH']);
  });

  it('leaves a release it has no view of to the clusters that do', async () => {
    const data = await query(
      stack.gatewayUrl,
      '{ compareRelease(code: "R1", asOf: "2007-09-06") { clusters { id } } release(code: "R1") { nme { localName } } }',
    );
    expect(data.compareRelease.clusters.map((c: { id: string }) => c.id).sort()).toEqual(['LONDON', 'SOUTH']);
    expect(data.release.nme).toBeNull();
  });
});
