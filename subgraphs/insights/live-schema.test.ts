import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRegistryStore, type RegistryState } from '../../gateway/registry/store.js';
import { clusterSdls } from '../catalog.js';
import { clusterSubgraphSdl } from '../kit/cluster.js';
import { nmeSubgraph } from '../../test/fixtures/nme/index.js';
import { LiveInsightsSchema } from './live-schema.js';
import { buildInsightsSchema, deriveInsights } from './server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const withNme = (version: number): RegistryState => ({
  version,
  subgraphs: [
    { name: 'nme', url: 'http://n/graphql', sdl: clusterSubgraphSdl(nmeSubgraph), version: 1, publishedAt: 'now', publishedBy: 'CSC' },
  ],
  change: null,
});

describe('the live insights schema', () => {
  it('compares a cluster once it is published, and keeps one that left for the grace period only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msg-live-insights-'));
    dirs.push(dir);
    const store = new FileRegistryStore(dir);
    const seen: string[][] = [];
    const live = new LiveInsightsSchema({
      fixed: clusterSdls(),
      registry: store,
      graceMs: 300,
      build: (clusters) => ({ schema: buildInsightsSchema(clusters), clusters: deriveInsights(clusters).clusters.map((c) => c.subgraph) }),
    });
    live.onSchemaLoadOrUpdate(({ apiSchema }) => seen.push(Object.keys(apiSchema.getTypeMap()).filter((t) => t.endsWith('FeedStatus'))));
    await live.start();
    expect(live.version()).toEqual({ registryVersion: 0, clusters: ['south', 'london'] });

    await store.compareAndSet(0, withNme(1));
    await live.refresh();
    expect(live.version()).toEqual({ registryVersion: 1, clusters: ['south', 'london', 'nme'] });
    expect(seen.at(-1)).toContain('NmeFeedStatus');

    await store.compareAndSet(1, { version: 2, subgraphs: [], change: null });
    await live.refresh();
    // Gateways still planning with NME keep working for a while.
    expect(live.version()).toEqual({ registryVersion: 2, clusters: ['south', 'london', 'nme'] });
    const deadline = Date.now() + 5000;
    while (live.version().clusters.includes('nme') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(live.version()).toEqual({ registryVersion: 2, clusters: ['south', 'london'] });
    expect(seen.at(-1)).not.toContain('NmeFeedStatus');
    await live.stop();
    await store.close();
  });
});
