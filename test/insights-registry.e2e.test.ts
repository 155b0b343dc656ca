/**
 * Insights learns published clusters from the gateway's registry over HTTP, and a gateway
 * (re)started on a registry that already has a published cluster must not deadlock on it:
 * its insights reads the registry from that very gateway, which does not listen yet. The
 * gateway starts on the built-in subgraphs at once and swaps as soon as insights catches up;
 * it must not sit out `REGISTRY_SWAP_TIMEOUT_MS` first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileRegistryStore } from '../gateway/registry/store.js';
import type { Stack } from '../scripts/stack.js';
import { buildClusterSubgraph, clusterSubgraphSdl, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { post, startTestStack } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-insights-registry-'));
let nme: Listening;
let stack: Stack | null = null;

beforeAll(async () => {
  const reference = feedReferenceOf(await loadReference(null));
  const built = await buildClusterSubgraph(nmeSubgraph as ClusterSubgraphDefinition<object>, { feedDir: nmeFeedDir, reference, pollMs: 0 });
  nme = await listen(built.service, '127.0.0.1', 0);
  const store = new FileRegistryStore(dir);
  await store.compareAndSet(0, {
    version: 1,
    subgraphs: [
      {
        name: 'nme',
        url: nme.url,
        sdl: clusterSubgraphSdl(nmeSubgraph as ClusterSubgraphDefinition<object>),
        version: 1,
        publishedAt: '2026-01-01T00:00:00.000Z',
        publishedBy: 'CSC',
      },
    ],
    change: { action: 'publish', subgraph: 'nme', restored: null, by: 'CSC', at: '2026-01-01T00:00:00.000Z' },
  });
  await store.close();
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await nme?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a gateway started on a registry with a published cluster', () => {
  it('serves it about a second after it listens, with its insights learning it from that gateway over HTTP', async () => {
    const started = Date.now();
    // A swap timeout far longer than the start may take: waiting it out would fail the test.
    stack = await startTestStack({ env: { REGISTRY_DIR: dir, REGISTRY_SWAP_TIMEOUT_MS: '25000' }, log: () => {} });
    const took = Date.now() - started;
    expect(took).toBeLessThan(15_000);
    const compared = await post<any>(
      stack.gatewayUrl,
      '{ compareRelease(code: "R2", asOf: "2007-09-06") { clusters { id } } feeds { id } }',
    );
    expect(compared.errors).toBeUndefined();
    expect(compared.data.compareRelease.clusters.map((c: { id: string }) => c.id).sort()).toEqual(['LONDON', 'NME', 'SOUTH']);
    expect(compared.data.feeds.map((f: { id: string }) => f.id)).toEqual(['south', 'london', 'nme']);
    const insights = (await (await fetch(new URL('/schema/version', stack.subgraphUrls.insights))).json()) as unknown;
    expect(insights).toEqual({ registryVersion: 1, clusters: ['south', 'london', 'nme'], registry: 'following' });
  }, 40_000);
});
