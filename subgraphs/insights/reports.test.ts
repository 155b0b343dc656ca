import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ReportFeed, type ReportEvent } from './reports.js';

/** A cluster subgraph as insights sees it: `/feed/events` and its `FeedStatus` entity. */
async function fakeCluster(): Promise<{ url: string; server: Server; reads: () => number; report(status: object): void }> {
  let reads = 0;
  let status: object = {
    cluster: { id: 'SOUTH' },
    current: { file: 'a.csv', asOf: '2007-09-06', rows: 3, checksum: 'c1' },
    lastRejected: null,
  };
  const streams = new Set<ServerResponse>();
  let version = 0;
  const server = createServer((req, res) => {
    if (req.url === '/feed/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: version\ndata: {"version":"${version}"}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    reads += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ data: { _entities: [status] } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return {
    url,
    server,
    reads: () => reads,
    report: (next) => {
      status = next;
      version += 1;
      for (const res of streams) res.write(`event: version\ndata: {"version":"${version}"}\n\n`);
    },
  };
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

const take = async (iterator: AsyncIterator<ReportEvent>) => (await iterator.next()).value as ReportEvent;

describe('ReportFeed', () => {
  it('replays the latest report first, then sends each new one to the subscribers of its kind and cluster', async () => {
    const cluster = await fakeCluster();
    servers.push(cluster.server);
    const feed = new ReportFeed([{ name: 'south', url: cluster.url, statusType: 'SouthFeedStatus' }]);
    feed.start();
    onTestFinished(() => feed.stop());
    await expect.poll(cluster.reads, { timeout: 5000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    const south = feed.iterate('accepted', 'SOUTH');
    const london = feed.iterate('accepted', 'LONDON');
    const rejected = feed.iterate('rejected', null);
    expect(await take(south)).toMatchObject({ file: 'a.csv', replayed: true, rows: 3 });

    const errors = Array.from({ length: 9 }, (_, i) => ({ line: i + 1, path: null, field: 'SiteCode', message: 'bad' }));
    cluster.report({
      cluster: { id: 'SOUTH' },
      current: { file: 'b.csv', asOf: '2008-01-31', rows: 4, checksum: 'c2' },
      lastRejected: { file: 'bad.csv', rejectedAt: '2026-01-01T00:00:00Z', errorCount: 9, errors },
    });
    expect(await take(south)).toMatchObject({ kind: 'accepted', file: 'b.csv', asOf: '2008-01-31', replayed: false });
    const refused = await take(rejected);
    expect(refused).toMatchObject({ kind: 'rejected', file: 'bad.csv', errorCount: 9, replayed: false });
    expect(refused.errors).toHaveLength(5);

    // LONDON heard nothing: a further report to another cluster id would be the next it gets.
    const pending = london.next();
    const raced = await Promise.race([pending.then(() => 'event'), new Promise((r) => setTimeout(() => r('none'), 100))]);
    expect(raced).toBe('none');

    await south.return?.();
    await rejected.return?.();
    expect(feed.subscribers).toBe(1);
    feed.stop();
    expect((await pending).done).toBe(true);
    expect(feed.subscribers).toBe(0);
  });

  it('follows the published clusters it is given, and drops one withdrawn', async () => {
    const cluster = await fakeCluster();
    servers.push(cluster.server);
    const feed = new ReportFeed([]);
    feed.start();
    onTestFinished(() => feed.stop());
    feed.followPublished([{ name: 'nme', url: cluster.url, statusType: 'NmeFeedStatus' }]);
    await expect.poll(cluster.reads, { timeout: 5000 }).toBe(1);
    const before = feed.iterate('accepted', null);
    expect(await take(before)).toMatchObject({ subgraph: 'nme', file: 'a.csv', replayed: true });
    await before.return?.();

    feed.followPublished([]);
    const after = feed.iterate('accepted', null);
    const pending = after.next();
    cluster.report({
      cluster: { id: 'SOUTH' },
      current: { file: 'b.csv', asOf: '2008-01-31', rows: 4, checksum: 'c2' },
      lastRejected: null,
    });
    // Neither replayed (its latest report is forgotten) nor heard (its stream is closed).
    const raced = await Promise.race([pending.then(() => 'event'), new Promise((r) => setTimeout(() => r('none'), 300))]);
    expect(raced).toBe('none');
    expect(cluster.reads()).toBe(1);
    await after.return?.();
  });
});
