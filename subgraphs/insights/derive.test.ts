import { describe, expect, it } from 'vitest';
import { clusterSdls } from '../catalog.js';
import { ClusterViewError } from '../../schema/cluster-views.js';
import { withContract } from '../kit/contract.js';
import { compareRelease, current, historyWithin, type RequiredReleaseSnapshot } from './compare.js';
import { findClusters, insightsSdl } from './derive.js';

const snap = (cluster: string, overrides: Partial<RequiredReleaseSnapshot> = {}): RequiredReleaseSnapshot => ({
  asOf: '2007-09-06',
  file: `${cluster}.feed`,
  cluster: { id: cluster },
  supplier: { id: `${cluster}-SUPPLIER` },
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

/** A cluster whose only snapshot is the one compared. */
const only = (snapshot: RequiredReleaseSnapshot) => ({ current: snapshot, all: [snapshot] });

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
    const result = compareRelease('R2', [
      only(snap('SOUTH', { designStatus: 'SUSPENDED', designSuspendedOn: '2007-08-17' })),
      only(snap('LONDON')),
    ]);
    const byName = Object.fromEntries(result.aspects.map((a) => [a.aspect, a.differs]));
    expect(byName).toMatchObject({ designStatus: true, designSuspendedOn: true, plannedYear: false, capabilities: false });
    expect(result.divergent).toBe(true);
    expect(result.snapshots).toMatchObject([
      { cluster: { id: 'SOUTH' }, asOf: '2007-09-06', file: 'SOUTH.feed' },
      { cluster: { id: 'LONDON' }, asOf: '2007-09-06', file: 'LONDON.feed' },
    ]);
  });

  it("gives each compared cluster's whole view and its history, so a dashboard needs no per-cluster field", () => {
    const june = snap('NME', { asOf: '2007-06-15', plannedYear: 2009 });
    const september = snap('NME', { asOf: '2007-09-06', plannedYear: 2010 });
    const later = snap('NME', { asOf: '2008-01-31', plannedYear: 2011 });
    const result = compareRelease('R2@2007-09-30', [
      only(snap('SOUTH')),
      only(snap('LONDON')),
      { current: september, all: [later, june, september] },
    ]);
    expect(result.snapshots.map((s) => s.cluster.id)).toEqual(['SOUTH', 'LONDON', 'NME']);
    const nme = result.snapshots[2]!;
    expect(nme.view).toMatchObject({ supplier: { id: 'NME-SUPPLIER' }, plannedYear: 2010, localName: 'R2' });
    expect(historyWithin(nme.all, null, '2007-09-30').map((s) => [s.asOf, s.plannedYear])).toEqual([
      ['2007-06-15', 2009],
      ['2007-09-06', 2010],
    ]);
    expect(historyWithin(nme.all, '2007-09-06', null).map((s) => s.asOf)).toEqual(['2007-09-06', '2008-01-31']);
    // Three clusters, one differing: the aspect differs, with every cluster's value.
    const year = result.aspects.find((a) => a.aspect === 'plannedYear')!;
    expect(year.differs).toBe(true);
    expect(year.values.map((v) => [v.cluster.id, v.value])).toEqual([
      ['SOUTH', '2009'],
      ['LONDON', '2009'],
      ['NME', '2010'],
    ]);
  });

  it('is not divergent when all clusters agree, or when only one has a view', () => {
    expect(compareRelease('R2', [only(snap('SOUTH')), only(snap('LONDON'))]).divergent).toBe(false);
    expect(compareRelease('R2', [only(snap('SOUTH'))]).divergent).toBe(false);
  });

  it('lists capabilities with the clusters that lack them', () => {
    const result = compareRelease('R0', [
      only(
        snap('SOUTH', {
          capabilities: [
            { capability: 'PAS', localTerm: 'PAS', scope: 'a' },
            { capability: 'MATERNITY', localTerm: 'Mat', scope: 'part' },
          ],
        }),
      ),
      only(snap('LONDON')),
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
