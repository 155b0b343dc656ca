/**
 * Federated subscriptions against a real stack, with the real `graphql-sse` and `graphql-ws`
 * clients: insights owns `reportAccepted` / `reportRejected`; the gateway subscribes to it and
 * resolves each event's `Cluster` fields from programme. A subscriber first gets the latest
 * report (the current state), then one event per new report; a `cluster:` argument filters;
 * insights stopping ends the stream with `SUBGRAPH_UNAVAILABLE`; clients going away leave no
 * upstream subscription open.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { FileRegistryStore } from '../gateway/registry/store.js';
import { buildClusterSubgraph, clusterSubgraphSdl, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from './fixtures/nme/index.js';
import { startTestStack } from './helpers.js';
import {
  metric as gatewayMetric,
  sleep,
  sseStream,
  until,
  wsStream,
  type Collected as StreamCollected,
  type Result as StreamResult,
} from './streams.js';

const SOUTH_FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
const LONDON_FEED = fileURLToPath(new URL('../subgraphs/london/feed/', import.meta.url));
const BAD = fileURLToPath(new URL('./bad-feeds/', import.meta.url));
const southDir = mkdtempSync(join(tmpdir(), 'msg-subs-south-'));
const londonDir = mkdtempSync(join(tmpdir(), 'msg-subs-london-'));
let stack: Stack;

beforeAll(async () => {
  copyFileSync(join(SOUTH_FEED, 'fujitsu-south-2007-09-06.csv'), join(southDir, 'fujitsu-south-2007-09-06.csv'));
  copyFileSync(join(LONDON_FEED, 'bt-london-2007-09-06.json'), join(londonDir, 'bt-london-2007-09-06.json'));
  stack = await startTestStack({ env: { SOUTH_FEED_DIR: southDir, LONDON_FEED_DIR: londonDir, FEED_POLL_MS: '50', MAX_COST: '50' } });
});
afterAll(async () => {
  await stack?.close();
  rmSync(southDir, { recursive: true, force: true });
  rmSync(londonDir, { recursive: true, force: true });
});

interface Event {
  cluster: { id: string; name: string; serviceProvider: { name: string } };
  subgraph: string;
  file: string;
  asOf: string | null;
  rows: number | null;
  errorCount: number;
  errors: { field: string; message: string }[];
  replayed: boolean;
}
type Result = StreamResult<Record<string, Event>>;
type Collected = StreamCollected<Record<string, Event>>;

const EVENT = 'cluster { id name serviceProvider { name } } subgraph file asOf rows errorCount errors { field message } replayed';

const sse = (query: string, variables?: Record<string, unknown>): Collected => sseStream(stack.gatewayUrl, query, variables);
const ws = (query: string): Collected => wsStream(stack.gatewayUrl, query);
const metric = (name: string) => gatewayMetric(stack.gatewayUrl, name);

const events = (c: Collected, field: string) => c.results.map((r) => r.data?.[field]).filter((e): e is Event => !!e);

describe('federated subscriptions', () => {
  it('send the current report first, then each new one, with the cluster resolved from programme', async () => {
    const all = sse(`subscription { reportAccepted { ${EVENT} } }`);
    const south = sse(`subscription South($c: ID) { reportAccepted(cluster: $c) { ${EVENT} } }`, { c: 'SOUTH' });
    const overWs = ws(`subscription { reportAccepted(cluster: "LONDON") { cluster { id name } file replayed } }`);
    const streams = [all, south, overWs];
    onTestFinished(() => streams.forEach((s) => s.stop()));
    // The current state: the latest accepted report of each cluster (of the one asked for).
    await until(() => events(all, 'reportAccepted').length === 2 && events(south, 'reportAccepted').length === 1, 'the current reports');
    await until(() => events(overWs, 'reportAccepted').length === 1, 'the current report over WebSocket');
    expect(events(south, 'reportAccepted')[0]).toMatchObject({ replayed: true, file: 'fujitsu-south-2007-09-06.csv', subgraph: 'south' });
    expect(events(overWs, 'reportAccepted')[0]).toMatchObject({
      replayed: true,
      cluster: { id: 'LONDON' },
      file: 'bt-london-2007-09-06.json',
    });
    expect(await metric('gateway_subscriptions_upstream')).toBe(3);

    copyFileSync(join(SOUTH_FEED, 'fujitsu-south-2008-01-31.csv'), join(southDir, 'fujitsu-south-2008-01-31.csv'));
    await until(() => events(south, 'reportAccepted').length === 2, 'the new south report');
    await until(() => events(all, 'reportAccepted').length === 3, 'the new report on the unfiltered stream');
    const fresh = events(south, 'reportAccepted')[1]!;
    expect(fresh).toMatchObject({ replayed: false, file: 'fujitsu-south-2008-01-31.csv', asOf: '2008-01-31', errorCount: 0, errors: [] });
    expect(fresh.rows).toBeGreaterThan(0);
    // Cluster.name and serviceProvider are programme's fields, not insights'.
    expect(fresh.cluster.name).toMatch(/South/);
    expect(fresh.cluster.serviceProvider.name).toMatch(/Fujitsu/);
    await sleep(300);
    // The LONDON filter: nothing for a south report.
    expect(events(overWs, 'reportAccepted')).toHaveLength(1);
    expect(south.results.every((r) => !r.errors)).toBe(true);

    // A client reconnecting gets the current state first: now the new report.
    south.stop();
    const again = sse(`subscription { reportAccepted(cluster: "SOUTH") { file replayed } }`);
    streams.push(again);
    await until(() => events(again, 'reportAccepted').length === 1, 'the current report on reconnecting');
    expect(events(again, 'reportAccepted')[0]).toEqual({ file: 'fujitsu-south-2008-01-31.csv', replayed: true });
  });

  it('name the releases an accepted report covers, resolved from programme', async () => {
    const south = sse(`subscription { reportAccepted(cluster: "SOUTH") { file releases { code name } } }`);
    onTestFinished(() => south.stop());
    await until(() => south.results.length === 1, 'the current south report');
    expect(south.results[0]?.errors).toBeUndefined();
    const event = south.results[0]?.data?.['reportAccepted'] as unknown as { file: string; releases: { code: string; name: string }[] };
    // The report's own REL rows, as the file lists them.
    const text = readFileSync(join(southDir, event.file), 'utf8');
    const codes = text
      .split('\n')
      .filter((l) => l.startsWith('REL,'))
      .map((l) => l.split(',')[2]);
    expect(event.releases.map((r) => r.code).sort()).toEqual([...new Set(codes)].sort());
    // Release.name is programme's field, not insights'.
    for (const release of event.releases) expect(release.name).toMatch(/\S/);
  });

  it('send a refused report to reportRejected, with a bounded excerpt of its problems', async () => {
    const rejected = sse(`subscription { reportRejected(cluster: "SOUTH") { ${EVENT} } }`);
    const accepted = sse(`subscription { reportAccepted(cluster: "SOUTH") { file replayed } }`);
    onTestFinished(() => [rejected, accepted].forEach((s) => s.stop()));
    await until(() => events(accepted, 'reportAccepted').length === 1, 'the current accepted report');
    await sleep(200);
    const before = events(rejected, 'reportRejected').length;
    copyFileSync(join(BAD, 'south-impossible-date.csv'), join(southDir, 'south-impossible-date.csv'));
    await until(() => events(rejected, 'reportRejected').length === before + 1, 'the refused report');
    const event = events(rejected, 'reportRejected').at(-1)!;
    expect(event).toMatchObject({ replayed: false, file: 'south-impossible-date.csv', errorCount: 1, asOf: null, rows: null });
    expect(event.errors).toHaveLength(1);
    expect(event.cluster.name).toMatch(/South/);
    await sleep(200);
    expect(events(accepted, 'reportAccepted')).toHaveLength(1);
  });

  it('hold subscriptions to the operation limits', async () => {
    // Shallow, alias-free and cheap but for the lists: only the cost rule refuses it (MAX_COST=50 here).
    const costly = sse(`subscription { reportAccepted { cluster { trusts { odsCode cluster { trusts { odsCode } } } } } }`);
    onTestFinished(() => costly.stop());
    await until(() => costly.results.length === 1 && costly.completed, 'the refusal');
    expect(costly.results[0]!.errors?.[0]?.extensions?.['code']).toBe('QUERY_TOO_COMPLEX');
    expect(costly.results[0]!.errors?.[0]?.message).toMatch(/MAX_COST/);
    expect(await metric('gateway_subscriptions_upstream')).toBe(0);
  });

  it('refuse a subscription sent as a plain request, saying how to send it', async () => {
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'subscription { reportAccepted { file } }' }),
    });
    const body = (await response.json()) as Result;
    expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
    expect(body.errors?.[0]?.message).toMatch(/text\/event-stream.*WebSocket/);
    expect(await metric('gateway_subscriptions_upstream')).toBe(0);
  });

  it("bound what insights' subscription endpoint reads", async () => {
    const response = await fetch(stack.subgraphUrls.insights, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ query: `subscription { reportAccepted { file } } # ${'x'.repeat(2 * 1024 * 1024)}` }),
    });
    expect(response.status).toBe(413);
  });

  it('leave no upstream subscription open when clients go away', async () => {
    const clients = [sse(`subscription { reportAccepted { file } }`), ws(`subscription { reportRejected { file } }`)];
    await until(async () => (await metric('gateway_subscriptions_upstream')) === 2, 'two upstream subscriptions');
    clients.forEach((c) => c.stop());
    await until(async () => (await metric('gateway_subscriptions_upstream')) === 0, 'no upstream subscription left');
  });

  // Last: it stops insights.
  it('end with SUBGRAPH_UNAVAILABLE, naming no URL, when the owning subgraph goes down', async () => {
    const overSse = sse(`subscription { reportAccepted(cluster: "SOUTH") { file } }`);
    const overWs = ws(`subscription { reportAccepted(cluster: "SOUTH") { file } }`);
    onTestFinished(() => [overSse, overWs].forEach((s) => s.stop()));
    await until(() => overSse.results.length === 1 && overWs.results.length === 1, 'the current reports');
    await stack.services.find((s) => s.name === 'insights')!.close();
    for (const stream of [overSse, overWs]) {
      await until(() => stream.completed, 'the stream to end');
      const last = stream.results.at(-1)!;
      expect(last.errors?.[0]?.extensions?.['code']).toBe('SUBGRAPH_UNAVAILABLE');
      expect(last.errors?.[0]?.message).toMatch(/insights/);
      expect(JSON.stringify(last)).not.toMatch(/127\.0\.0\.1|http:/);
    }
    expect(await metric('gateway_subscriptions_upstream')).toBe(0);
  });
});

describe('a cluster published through the registry', () => {
  const registryDir = mkdtempSync(join(tmpdir(), 'msg-subs-registry-'));
  const nmeDir = mkdtempSync(join(tmpdir(), 'msg-subs-nme-'));
  let nme: Listening | null = null;
  let published: Stack | null = null;
  afterAll(async () => {
    await published?.close();
    await nme?.close();
    rmSync(registryDir, { recursive: true, force: true });
    rmSync(nmeDir, { recursive: true, force: true });
  });

  it('has its reports heard: a report landing in its folder gives a reportAccepted event', async () => {
    copyFileSync(join(nmeFeedDir, 'nme-2007-09-06.json'), join(nmeDir, 'nme-2007-09-06.json'));
    const definition = nmeSubgraph as ClusterSubgraphDefinition<object>;
    const reference = feedReferenceOf(await loadReference(null));
    const built = await buildClusterSubgraph(definition, { feedDir: nmeDir, reference, pollMs: 50 });
    nme = await listen(built.service, '127.0.0.1', 0);
    const store = new FileRegistryStore(registryDir);
    const at = '2026-01-01T00:00:00.000Z';
    await store.compareAndSet(0, {
      version: 1,
      subgraphs: [{ name: 'nme', url: nme.url, sdl: clusterSubgraphSdl(definition), version: 1, publishedAt: at, publishedBy: 'CSC' }],
      change: { action: 'publish', subgraph: 'nme', restored: null, by: 'CSC', at },
    });
    await store.close();
    published = await startTestStack({ env: { REGISTRY_DIR: registryDir, REGISTRY_SWAP_TIMEOUT_MS: '25000' } });
    const client = createSseClient({ url: published.gatewayUrl, retryAttempts: 0 });
    const results: Result[] = [];
    const stop = client.subscribe(
      { query: 'subscription { reportAccepted(cluster: "NME") { cluster { id name } subgraph file replayed } }' },
      { next: (r) => void results.push(r as Result), error: () => {}, complete: () => {} },
    );
    onTestFinished(() => {
      stop();
      client.dispose();
    });
    await until(() => results.length === 1, "the published cluster's current report");
    expect(results[0]?.data?.['reportAccepted']).toMatchObject({ subgraph: 'nme', file: 'nme-2007-09-06.json', replayed: true });
    const later = readFileSync(join(nmeFeedDir, 'nme-2007-09-06.json'), 'utf8').replaceAll('2007-09-06', '2008-01-31');
    writeFileSync(join(nmeDir, 'nme-2008-01-31.json'), later);
    await until(() => results.length === 2, "the published cluster's new report");
    expect(results[1]?.data?.['reportAccepted']).toMatchObject({
      cluster: { id: 'NME', name: 'North, Midlands and East Programme for IT' },
      file: 'nme-2008-01-31.json',
      replayed: false,
    });
  }, 60_000);
});
