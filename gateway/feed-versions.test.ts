import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FeedVersions } from './feed-versions.js';

/** A subgraph's `/feed/events`, answered by `answer`; counts the connections made to it. */
async function feedServer(
  answer: (res: ServerResponse, connection: number) => void,
): Promise<{ url: string; connections: () => number; server: Server }> {
  let connections = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/feed/events') return res.writeHead(404).end();
    connections++;
    answer(res, connections);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, connections: () => connections, server };
}

const running: { close(): void }[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.close();
});

describe('FeedVersions following /feed/events', () => {
  it('drops a stream that never ends an event, instead of buffering it without bound', async () => {
    const open: ServerResponse[] = [];
    const feed = await feedServer((res) => {
      open.push(res);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // 1 MiB of one event that never ends ("\n\n"), then the connection stays open.
      res.write(`data: ${'x'.repeat(1024 * 1024)}`);
    });
    running.push({ close: () => (open.forEach((r) => r.destroy()), feed.server.close()) });
    const versions = new FeedVersions([{ name: 'nme', url: feed.url }], { redisUrl: null });
    running.push(versions);
    // Dropped and reconnected: a second connection, and the version is still unknown.
    await vi.waitFor(() => expect(feed.connections()).toBeGreaterThanOrEqual(2), { timeout: 5000, interval: 50 });
    expect(versions.version('nme')).toBeUndefined();
  });

  it('reconnects to a stream that keeps ending without piling up listeners (no EventTarget leak warning)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    // Each connection answers one version, then ends: the gateway reconnects every 200 ms.
    const feed = await feedServer((res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: ${JSON.stringify({ subgraph: 'nme', version: `v${n}` })}\n\n`);
    });
    running.push({ close: () => feed.server.close() });
    const versions = new FeedVersions([{ name: 'nme', url: feed.url }], { redisUrl: null });
    running.push(versions);
    try {
      await vi.waitFor(() => expect(feed.connections()).toBeGreaterThanOrEqual(13), { timeout: 10_000, interval: 50 });
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.includes('MaxListenersExceeded'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, 15_000);

  it('tells its listeners when a subgraph is withdrawn, as it does when one comes', async () => {
    const feed = await feedServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ subgraph: 'nme', version: 'v1' })}\n\n`);
    });
    running.push({ close: () => (feed.server.closeAllConnections(), feed.server.close()) });
    const versions = new FeedVersions([], { redisUrl: null });
    running.push(versions);
    let changes = 0;
    versions.onChange(() => changes++);
    versions.track([{ name: 'nme', url: feed.url }]);
    await vi.waitFor(() => expect(versions.version('nme')).toBe('v1'), { timeout: 5000, interval: 20 });
    const before = changes;
    versions.track([]);
    expect([...versions.snapshot().keys()]).toEqual([]);
    expect(changes).toBeGreaterThan(before);
  });
});
