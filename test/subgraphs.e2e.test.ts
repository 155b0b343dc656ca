/** Each subgraph alone, spoken to as the gateway speaks to it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { buildInsightsService } from '../subgraphs/insights/server.js';
import { buildProgrammeService } from '../subgraphs/programme/server.js';
import { loadLondonConfig } from '../subgraphs/london/config.js';
import { buildLondonSubgraph } from '../subgraphs/london/server.js';
import { loadSouthConfig } from '../subgraphs/south/config.js';
import { buildSouthSubgraph } from '../subgraphs/south/server.js';
import { post, query } from './helpers.js';

let programme: Listening;
let south: Listening;
let london: Listening;
let insights: Listening;

beforeAll(async () => {
  programme = await listen(await buildProgrammeService(), '127.0.0.1', 0);
  south = await listen((await buildSouthSubgraph(loadSouthConfig({ FEED_POLL_MS: '0' }))).service, '127.0.0.1', 0);
  london = await listen((await buildLondonSubgraph(loadLondonConfig({ FEED_POLL_MS: '0' }))).service, '127.0.0.1', 0);
  // Insights learns both cluster subgraphs from what they serve; no registry.
  const clusters = [
    { name: 'south', url: south.url },
    { name: 'london', url: london.url },
  ];
  insights = await listen(await buildInsightsService({ clusters, registryUrl: null, log: () => {} }), '127.0.0.1', 0);
});
afterAll(async () => {
  await Promise.all([programme.close(), south.close(), london.close(), insights.close()]);
});

describe('programme', () => {
  it('lists releases, clusters, suppliers and trusts', async () => {
    const data = await query(
      programme.url,
      '{ releases { code } clusters { id serviceProvider { id } } suppliers { id role } trusts(cluster: "LONDON") { odsCode } }',
    );
    expect(data.releases.map((r: { code: string }) => r.code)).toEqual(['R0', 'R1', 'R2']);
    expect(data.clusters).toContainEqual({ id: 'SOUTH', serviceProvider: { id: 'FUJITSU' } });
    expect(data.suppliers).toContainEqual({ id: 'CERNER', role: 'SYSTEM_SUPPLIER' });
    expect(data.trusts.map((t: { odsCode: string }) => t.odsCode)).toContain('RVL');
  });

  it('gives an empty list for an unknown cluster, not an error', async () => {
    expect(await query(programme.url, '{ trusts(cluster: "MARS") { odsCode } }')).toEqual({ trusts: [] });
  });
});

describe('south', () => {
  it('resolves entity references, with a null view where its feed has none', async () => {
    const data = await query(
      south.url,
      `{ _entities(representations: [
      { __typename: "Release", code: "R2" }, { __typename: "Release", code: "R9" },
      { __typename: "Trust", odsCode: "RVL" }, { __typename: "Trust", odsCode: "RTP" }
    ]) { ... on Release { south { designStatus } } ... on Trust { south { localName } } } }`,
    );
    expect(data._entities).toEqual([
      { south: { designStatus: 'SUSPENDED' } },
      { south: null },
      { south: null },
      { south: { localName: 'Surrey and Sussex Healthcare' } },
    ]);
  });

  it('publishes its SDL with the contract and its cluster-view tags', async () => {
    const data = await query(south.url, '{ _service { sdl } }');
    expect(data._service.sdl).toMatch(/south\([\s\S]{0,200}?asOf: Date\s*\): SouthReleaseView @tag\(name: "cluster-view"\)/);
    expect(data._service.sdl).toContain('southSnapshots: [ReleaseSnapshot!]! @inaccessible @tag(name: "cluster-snapshots")');
    expect(data._service.sdl).toContain('type SouthFeedStatus implements FeedStatus');
    expect(data._service.sdl).toContain('interface ClusterReleaseView');
  });
});

describe('insights', () => {
  it('compares the views passed in a representation', async () => {
    const view = (cluster: string, designStatus: string) => [
      {
        asOf: '2007-09-06',
        file: 'f',
        cluster: { id: cluster },
        localName: 'x',
        designStatus,
        designSuspendedOn: null,
        plannedDate: null,
        plannedYear: 2009,
        spineCompliant: true,
        capabilities: [],
        trustsLive: 0,
        trustsPlanned: 0,
      },
    ];
    const data = await query(
      insights.url,
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on ReleaseComparison { divergent aspects { aspect differs } } } }`,
      {
        reps: [
          {
            __typename: 'ReleaseComparison',
            id: 'R2',
            release: { southSnapshots: view('SOUTH', 'SUSPENDED'), londonSnapshots: view('LONDON', 'ACTIVE') },
          },
        ],
      },
    );
    expect(data._entities[0].divergent).toBe(true);
    expect(data._entities[0].aspects.find((a: { aspect: string }) => a.aspect === 'designStatus').differs).toBe(true);
  });

  it('refuses a Date that is not yyyy-mm-dd with BAD_USER_INPUT', async () => {
    const response = await post(
      insights.url,
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Trust { rolloutAcrossClusters { plannedGoLive } } } }`,
      {
        reps: [
          {
            __typename: 'Trust',
            odsCode: 'RBA',
            southSnapshots: [
              {
                asOf: '2007-09-06',
                file: 'f',
                cluster: { id: 'SOUTH' },
                rollout: [
                  {
                    release: { code: 'R0' },
                    status: 'POSTPONED',
                    localStatus: 'RESCHEDULED',
                    plannedGoLive: '30/06/2007',
                    actualGoLive: null,
                    note: null,
                  },
                ],
              },
            ],
          },
        ],
      },
    );
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).toContain('"30/06/2007"');
  });
});
