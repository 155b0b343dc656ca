import { describe, expect, it } from 'vitest';
import { clusterSdls } from '../catalog.js';
import { ClusterViewError } from '../kit/cluster-views.js';
import { withContract } from '../kit/contract.js';
import { compareRelease, current, type RequiredReleaseSnapshot } from './compare.js';
import { findClusters, insightsSdl } from './derive.js';

const snap = (cluster: string, overrides: Partial<RequiredReleaseSnapshot> = {}): RequiredReleaseSnapshot => ({
  asOf: '2007-09-06',
  file: `${cluster}.feed`,
  cluster: { id: cluster },
  localName: 'R2',
  designStatus: 'ACTIVE',
  designSuspendedOn: null,
  plannedDate: null,
  plannedYear: 2009,
  spineCompliant: true,
  capabilities: [{ capability: 'PAS', localTerm: 'PAS', scope: 'all' }],
  trustsLive: 0,
  trustsPlanned: 0,
  ...overrides,
});

describe('finding cluster subgraphs', () => {
  it('finds the south and london views, their snapshot fields and feed statuses', () => {
    expect(findClusters(clusterSdls())).toEqual([
      expect.objectContaining({
        subgraph: 'south',
        viewField: 'south',
        releaseViewType: 'SouthReleaseView',
        releaseSnapshots: 'southSnapshots',
        trustSnapshots: 'southSnapshots',
        feedStatusType: 'SouthFeedStatus',
      }),
      expect.objectContaining({
        subgraph: 'london',
        viewField: 'london',
        releaseViewType: 'LondonReleaseView',
        feedStatusType: 'LondonFeedStatus',
      }),
    ]);
  });

  it("requires every cluster's argument-free snapshots, never the asOf view fields", () => {
    const sdl = insightsSdl(findClusters(clusterSdls()));
    expect(sdl).toMatch(
      /clusters: \[Cluster!\]! @requires\(fields: "release \{ southSnapshots \{ asOf file cluster \{ id \} localName .* londonSnapshots \{/,
    );
    expect(sdl).not.toMatch(/requires\(fields: "[^"]*\bsouth \{/);
  });

  it('refuses a tagged view whose type does not implement the contract interface', () => {
    const sdl = withContract(`
      extend type Release { east(asOf: Date): EastView @tag(name: "cluster-view") }
      type EastView { localName: String! }
    `);
    expect(() => findClusters([{ name: 'east', sdl }])).toThrow(ClusterViewError);
    expect(() => findClusters([{ name: 'east', sdl }])).toThrow(/Release.east .* EastView does not implement ClusterReleaseView/);
  });

  it('refuses a view field without the asOf argument', () => {
    const [south] = clusterSdls();
    const sdl = south!.sdl.replace(/south\(".*?" asOf: Date\): SouthReleaseView/, 'south: SouthReleaseView');
    expect(sdl).not.toEqual(south!.sdl);
    expect(() => findClusters([{ name: 'south', sdl }])).toThrow(/must take the argument asOf: Date/);
  });

  it('refuses two subgraphs claiming the same view field', () => {
    const [south] = clusterSdls();
    expect(() => findClusters([south!, { ...south!, name: 'impostor' }])).toThrow(/already the cluster view of subgraph "south"/);
  });

  it('refuses to build a comparison with no cluster subgraph', () => {
    expect(() => insightsSdl([])).toThrow(/No cluster subgraph/);
  });
});

describe('comparing snapshots', () => {
  it('picks the snapshot current at a day: before, between and after reports', () => {
    const history = [snap('SOUTH', { asOf: '2007-06-15' }), snap('SOUTH', { asOf: '2007-09-06' }), snap('SOUTH', { asOf: '2008-06-30' })];
    expect(current(history, '2007-01-01')).toBeNull();
    expect(current(history, '2007-06-15')?.asOf).toBe('2007-06-15');
    expect(current(history, '2007-12-31')?.asOf).toBe('2007-09-06');
    expect(current(history, '2030-01-01')?.asOf).toBe('2008-06-30');
    expect(current(history, null)?.asOf).toBe('2008-06-30');
  });

  it('marks an aspect as differing only when the values differ', () => {
    const result = compareRelease('R2', [snap('SOUTH', { designStatus: 'SUSPENDED', designSuspendedOn: '2007-08-17' }), snap('LONDON')]);
    const byName = Object.fromEntries(result.aspects.map((a) => [a.aspect, a.differs]));
    expect(byName).toMatchObject({ designStatus: true, designSuspendedOn: true, plannedYear: false, capabilities: false });
    expect(result.divergent).toBe(true);
    expect(result.snapshots).toEqual([
      { cluster: { id: 'SOUTH' }, asOf: '2007-09-06', file: 'SOUTH.feed' },
      { cluster: { id: 'LONDON' }, asOf: '2007-09-06', file: 'LONDON.feed' },
    ]);
  });

  it('is not divergent when all clusters agree, or when only one has a view', () => {
    expect(compareRelease('R2', [snap('SOUTH'), snap('LONDON')]).divergent).toBe(false);
    expect(compareRelease('R2', [snap('SOUTH')]).divergent).toBe(false);
  });

  it('lists capabilities with the clusters that lack them', () => {
    const result = compareRelease('R0', [
      snap('SOUTH', {
        capabilities: [
          { capability: 'PAS', localTerm: 'PAS', scope: 'a' },
          { capability: 'MATERNITY', localTerm: 'Mat', scope: 'part' },
        ],
      }),
      snap('LONDON'),
    ]);
    expect(result.capabilities).toEqual([
      {
        capability: 'MATERNITY',
        presentIn: [{ id: 'SOUTH' }],
        missingFrom: [{ id: 'LONDON' }],
        scopes: [{ cluster: { id: 'SOUTH' }, value: 'part' }],
      },
      {
        capability: 'PAS',
        presentIn: [{ id: 'SOUTH' }, { id: 'LONDON' }],
        missingFrom: [],
        scopes: [
          { cluster: { id: 'SOUTH' }, value: 'a' },
          { cluster: { id: 'LONDON' }, value: 'all' },
        ],
      },
    ]);
  });
});
