import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FeedVersions } from './feed-versions.js';
import { readinessRoute } from './readiness.js';
import { CONTROL_MAX_BYTES } from './subgraph-fetch.js';

const running: Server[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  running.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An address the host policy would never allow, and a published subgraph that redirects every request there. */
async function redirectingSubgraph(): Promise<{ url: string; internalHits: () => string[] }> {
  const hits: string[] = [];
  const internal = await listen((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"__typename":"Query"}}');
  });
  const supplier = await listen((req, res) => res.writeHead(307, { location: `${internal}${req.url}` }).end());
  return { url: `${supplier}/graphql`, internalHits: () => hits };
}

describe('requests the gateway makes to a subgraph never follow a redirect', () => {
  it('/ready reports a redirect as it is and never reaches where it points', async () => {
    const subgraph = await redirectingSubgraph();
    const app = express();
    readinessRoute(app, {
      supergraphVersion: () => 'v1',
      subgraphs: () => [{ name: 'nme', url: subgraph.url }],
      breaker: () => null,
      cache: () => ({ backend: 'MEMORY', available: true, message: null }),
      rateLimiter: () => ({ configured: false, available: true, problem: null }),
    });
    const gateway = await listen(app);
    const body = (await (await fetch(`${gateway}/ready`)).json()) as { subgraphs: { reachable: boolean; problem: string | null }[] };
    expect(body.subgraphs).toEqual([expect.objectContaining({ reachable: false, problem: 'answered HTTP 307' })]);
    expect(subgraph.internalHits()).toEqual([]);
  });

  it('/feed/events is not followed through a redirect', async () => {
    const subgraph = await redirectingSubgraph();
    const versions = new FeedVersions([{ name: 'nme', url: subgraph.url }], { redisUrl: null });
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(subgraph.internalHits()).toEqual([]);
    } finally {
      versions.close();
    }
  });

  it("/ready stops reading a subgraph's answer past CONTROL_MAX_BYTES, never the whole of it", async () => {
    const total = 64 * 1024 * 1024;
    let written = 0;
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 32);
      const more = () => {
        while (written < total && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('close', () => (written = Math.min(written, total)));
      more();
    });
    const app = express();
    readinessRoute(app, {
      supergraphVersion: () => 'v1',
      subgraphs: () => [{ name: 'nme', url: `${url}/graphql` }],
      breaker: () => null,
      cache: () => ({ backend: 'MEMORY', available: true, message: null }),
      rateLimiter: () => ({ configured: false, available: true, problem: null }),
      probeMs: 10_000,
    });
    const gateway = await listen(app);
    const body = (await (await fetch(`${gateway}/ready`)).json()) as { subgraphs: { reachable: boolean }[] };
    expect(body.subgraphs).toEqual([expect.objectContaining({ reachable: false })]);
    expect(written).toBeLessThan(CONTROL_MAX_BYTES * 4);
  }, 30_000);
});
