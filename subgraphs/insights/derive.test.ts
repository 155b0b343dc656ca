import { describe, expect, it } from 'vitest';
import { clusterSdls } from '../catalog.js';
import { withContract } from '../kit/contract.js';
import { compareRelease, type RequiredReleaseView } from './compare.js';
import { ClusterViewError, findClusterViews, insightsSdl } from './derive.js';

const view = (cluster: string, overrides: Partial<RequiredReleaseView> = {}): RequiredReleaseView => ({
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

describe('finding cluster views', () => {
  it('finds the south and london views of both entities', () => {
    const views = findClusterViews(clusterSdls());
    expect(views.release.map((v) => [v.subgraph, v.field, v.typeName])).toEqual([
      ['south', 'south', 'SouthReleaseView'],
      ['london', 'london', 'LondonReleaseView'],
    ]);
    expect(views.trust.map((v) => v.typeName)).toEqual(['SouthTrustView', 'LondonTrustView']);
  });

  it('requires every found view in the generated comparison', () => {
    const sdl = insightsSdl(findClusterViews(clusterSdls()));
    expect(sdl).toMatch(/clusters: \[Cluster!\]! @requires\(fields: "release \{ south \{ cluster \{ id \} localName .* london \{ cluster/);
    expect(sdl).toContain('south: SouthReleaseView @external');
  });

  it('refuses a tagged view whose type does not implement the contract interface', () => {
    const sdl = withContract(`
      extend type Release { east: EastView @tag(name: "cluster-view") }
      type EastView { localName: String! }
    `);
    expect(() => findClusterViews([{ name: 'east', sdl }])).toThrow(ClusterViewError);
    expect(() => findClusterViews([{ name: 'east', sdl }])).toThrow(/Release.east .* EastView does not implement ClusterReleaseView/);
  });

  it('refuses two subgraphs claiming the same view field', () => {
    const [south] = clusterSdls();
    expect(() => findClusterViews([south!, { ...south!, name: 'impostor' }])).toThrow(/already the cluster view of subgraph "south"/);
  });

  it('refuses to build a comparison with no cluster views', () => {
    expect(() => insightsSdl({ release: [], trust: [] })).toThrow(/No supplier subgraph/);
  });
});

describe('comparing views', () => {
  it('marks an aspect as differing only when the values differ', () => {
    const result = compareRelease('R2', [view('SOUTH', { designStatus: 'SUSPENDED', designSuspendedOn: '2007-08-17' }), view('LONDON')]);
    const byName = Object.fromEntries(result.aspects.map((a) => [a.aspect, a.differs]));
    expect(byName).toMatchObject({ designStatus: true, designSuspendedOn: true, plannedYear: false, capabilities: false });
    expect(result.divergent).toBe(true);
  });

  it('is not divergent when all clusters agree, or when only one has a view', () => {
    expect(compareRelease('R2', [view('SOUTH'), view('LONDON')]).divergent).toBe(false);
    expect(compareRelease('R2', [view('SOUTH')]).divergent).toBe(false);
  });

  it('lists capabilities with the clusters that lack them', () => {
    const result = compareRelease('R0', [
      view('SOUTH', { capabilities: [{ capability: 'PAS', localTerm: 'PAS', scope: 'a' }, { capability: 'MATERNITY', localTerm: 'Mat', scope: 'part' }] }),
      view('LONDON'),
    ]);
    expect(result.capabilities).toEqual([
      { capability: 'MATERNITY', presentIn: [{ id: 'SOUTH' }], missingFrom: [{ id: 'LONDON' }], scopes: [{ cluster: { id: 'SOUTH' }, value: 'part' }] },
      {
        capability: 'PAS',
        presentIn: [{ id: 'SOUTH' }, { id: 'LONDON' }],
        missingFrom: [],
        scopes: [{ cluster: { id: 'SOUTH' }, value: 'a' }, { cluster: { id: 'LONDON' }, value: 'all' }],
      },
    ]);
  });
});
