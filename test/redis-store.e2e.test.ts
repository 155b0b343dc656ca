/**
 * The Redis store against a real Redis: replicas of a subgraph share one snapshot, a batch
 * is one MGET, and Redis stopped mid-way does not stop the subgraph serving.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_CHANNEL, FEED_VERSION_PATH, type FeedVersionEvent } from '../schema/wire.js';
import { buildClusterSubgraph } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { RedisViewStore } from '../subgraphs/kit/redis-store.js';
import { feedReference } from '../subgraphs/programme/reference.js';
import type { SouthExtra } from '../subgraphs/south/feed-format.js';
import { southSubgraph } from '../subgraphs/south/server.js';
import { query } from './helpers.js';
import { freePort, PrivateRedis } from './redis.js';

const FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
const redis = new PrivateRedis(await freePort());
const dirs: string[] = [];
const running: Listening[] = [];

function feedDir(...files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'msg-redis-'));
  dirs.push(dir);
  for (const file of files) copyFileSync(join(FEED, file), join(dir, file));
  return dir;
}

async function replica(dir: string): Promise<{ url: string; store: RedisViewStore<SouthExtra>; lines: string[] }> {
  const store = new RedisViewStore<SouthExtra>({ url: redis.url, prefix: 'msg:south:' });
  await waitFor(async () => store.health().available);
  const lines: string[] = [];
  const log = (line: string) => void lines.push(line);
  const subgraph = await buildClusterSubgraph(southSubgraph, { feedDir: dir, reference: feedReference, store, pollMs: 100, log });
  const service = await listen(subgraph.service, '127.0.0.1', 0);
  running.push(service);
  return { url: service.url, store, lines };
}

async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const asOfServed = async (url: string) =>
  (
    await query(
      url,
      '{ _entities(representations: [{ __typename: "Release", code: "R2" }]) { ... on Release { south { source { asOf } } } } }',
    )
  )._entities[0].south?.source.asOf as string | undefined;

beforeAll(() => redis.start());
afterAll(async () => {
  for (const service of running.reverse()) await service.close();
  await redis.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the Redis store', () => {
  let a: Awaited<ReturnType<typeof replica>>;
  let b: Awaited<ReturnType<typeof replica>>;
  let dirA: string;

  it('lets two replicas serve the same snapshot, even one whose own folder is behind', async () => {
    dirA = feedDir('fujitsu-south-2007-06-15.csv', 'fujitsu-south-2007-09-06.csv');
    a = await replica(dirA);
    b = await replica(feedDir('fujitsu-south-2007-06-15.csv'));
    expect(await asOfServed(a.url)).toBe('2007-09-06');
    expect(await asOfServed(b.url)).toBe('2007-09-06');
  });

  it('switches every replica to a new report published by one of them, and announces it to the gateways', async () => {
    // Gateway replicas on Redis hear new feed versions only on this channel.
    const listener = new Redis(redis.url);
    const announced: FeedVersionEvent[] = [];
    listener.on('message', (_channel: string, message: string) => void announced.push(JSON.parse(message) as FeedVersionEvent));
    await listener.subscribe(FEED_CHANNEL);
    try {
      copyFileSync(join(FEED, 'fujitsu-south-2008-01-31.csv'), join(dirA, 'fujitsu-south-2008-01-31.csv'));
      await waitFor(async () => (await asOfServed(b.url)) === '2008-01-31');
      expect(await asOfServed(a.url)).toBe('2008-01-31');
      // The publishing replica is done with the file (and has announced it) once it says so.
      await waitFor(async () => a.lines.some((l) => l.includes('accepted fujitsu-south-2008-01-31.csv')));
      const version = (await (await fetch(new URL(FEED_VERSION_PATH, a.url))).json()) as FeedVersionEvent;
      await waitFor(async () => announced.some((e) => e.subgraph === 'south' && e.version === version.version));
    } finally {
      listener.disconnect();
    }
  });

  it('answers a batch of entity lookups with one MGET', async () => {
    const client = new Redis(redis.url);
    const monitor = await client.monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => commands.push(String(args[0]).toLowerCase()));
    await query(
      a.url,
      `{ _entities(representations: [
      { __typename: "Trust", odsCode: "RBF" }, { __typename: "Trust", odsCode: "RA3" }, { __typename: "Trust", odsCode: "RXQ" },
      { __typename: "Trust", odsCode: "RN1" }, { __typename: "Trust", odsCode: "RD8" }, { __typename: "Trust", odsCode: "RTP" }
    ]) { ... on Trust { south { localName } } } }`,
    );
    await new Promise((r) => setTimeout(r, 200));
    monitor.disconnect();
    client.disconnect();
    expect(commands.filter((c) => c === 'mget')).toHaveLength(1);
    expect(commands.filter((c) => c === 'get')).toHaveLength(1); // the manifest, once per request
  });

  it('keeps serving from memory while Redis is down, says so, and shares again when it is back', async () => {
    await redis.stop();
    await waitFor(async () => !a.store.health().available);
    expect(await asOfServed(a.url)).toBe('2008-01-31');
    // b never had the 2008 file: it serves its own last snapshot.
    expect(await asOfServed(b.url)).toBe('2007-06-15');
    const status = await query(
      a.url,
      '{ _entities(representations: [{ __typename: "SouthFeedStatus", id: "south" }]) { ... on SouthFeedStatus { store { backend available message } } } }',
    );
    expect(status._entities[0].store).toMatchObject({ backend: 'REDIS', available: false });
    expect(status._entities[0].store.message).toMatch(/Redis unreachable.*from memory/);

    await redis.start();
    await waitFor(async () => a.store.health().available && b.store.health().available);
    await a.store.settled();
    await b.store.settled();
    // Redis came back empty; the replicas published what they hold, so both serve the latest again.
    await waitFor(async () => (await asOfServed(b.url)) === '2008-01-31');
  });
});
