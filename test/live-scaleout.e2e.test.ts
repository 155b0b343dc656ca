/**
 * Live answers across gateway replicas (issue 12, item 6): two gateway processes share one
 * real Redis (a private redis-server, so no other test's announcements reach them), a report
 * lands in the south cluster subgraph, which announces it on Redis, and a stream on either
 * replica hears it. A replica that drains (SIGTERM) ends its streams in a way the
 * `graphql-sse` and `graphql-ws` clients reconnect from, and they reconnect to the other
 * replica (as nginx would send them) and get its current answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startStack, type Stack } from '../scripts/stack.js';
import { EPHEMERAL_ENV } from './helpers.js';
import { freePort, PrivateRedis } from './redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOUTH_FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
const LONDON_FEED = fileURLToPath(new URL('../subgraphs/london/feed/', import.meta.url));
const southDir = mkdtempSync(join(tmpdir(), 'msg-scaleout-south-'));
const londonDir = mkdtempSync(join(tmpdir(), 'msg-scaleout-london-'));
const redis = new PrivateRedis(await freePort());
let subgraphs: Stack<null>;

interface Replica {
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}
const replicas: Replica[] = [];

/** A gateway process (`gateway/main.ts`, as compose runs it) on the shared Redis. */
async function replica(): Promise<Replica> {
  const urls = subgraphs.subgraphUrls;
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      PROGRAMME_URL: urls.programme,
      SOUTH_URL: urls.south,
      LONDON_URL: urls.london,
      INSIGHTS_URL: urls.insights,
      REDIS_URL: redis.url,
      REGISTRY_REDIS_PREFIX: `msg:scaleout:${process.pid}:registry:`,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c));
  child.stderr!.on('data', (c: Buffer) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let url: string | undefined;
  for (const deadline = Date.now() + 30_000; !url && Date.now() < deadline; await sleep(50))
    url = /gateway\s+listening on (\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`the gateway did not start: ${output}`);
  const started = { url, child, exited, output: () => output };
  replicas.push(started);
  return started;
}

beforeAll(async () => {
  await redis.start();
  copyFileSync(join(SOUTH_FEED, 'fujitsu-south-2007-06-15.csv'), join(southDir, 'fujitsu-south-2007-06-15.csv'));
  copyFileSync(join(LONDON_FEED, 'bt-london-2007-09-06.json'), join(londonDir, 'bt-london-2007-09-06.json'));
  subgraphs = await startStack({
    env: { ...EPHEMERAL_ENV, REDIS_URL: redis.url, SOUTH_FEED_DIR: southDir, LONDON_FEED_DIR: londonDir, FEED_POLL_MS: '50' },
    log: () => {},
    withGateway: false,
  });
}, 60_000);
afterAll(async () => {
  for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await Promise.all(replicas.map((r) => r.exited));
  await subgraphs?.close();
  await redis.stop();
  rmSync(southDir, { recursive: true, force: true });
  rmSync(londonDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const SOUTH_LIVE = 'query SouthFile @live { release(code: "R0") { south { source { file } } } }';
const fileOf = (result: unknown) =>
  (result as { data?: { release?: { south?: { source?: { file?: string } } } } }).data?.release?.south?.source?.file;

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(20))
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

interface Collected {
  readonly files: (string | undefined)[];
  error: unknown;
  completed: boolean;
  /** Each URL the client (re)connected to. */
  readonly connected: string[];
  stop(): void;
}

/**
 * A `graphql-sse` client that, like a client behind nginx, reaches whichever replica `pick`
 * names on each (re)connect, retrying at once rather than after graphql-sse's 1 s+ backoff.
 */
function sse(pick: () => string): Collected {
  const collected: Collected = { files: [], error: null, completed: false, connected: [], stop: () => {} };
  const client = createSseClient({
    url: () => {
      const url = new URL('/graphql', pick()).href;
      collected.connected.push(url);
      return url;
    },
    retryAttempts: 3,
    retry: () => sleep(50),
  });
  const dispose = client.subscribe(
    { query: SOUTH_LIVE },
    {
      next: (result) => void collected.files.push(fileOf(result)),
      error: (error) => void (collected.error = error),
      complete: () => void (collected.completed = true),
    },
  );
  collected.stop = () => {
    dispose();
    client.dispose();
  };
  return collected;
}

/** The same with `graphql-ws` (which retries a 1001 "Going Away" close). */
function ws(pick: () => string): Collected {
  const collected: Collected = { files: [], error: null, completed: false, connected: [], stop: () => {} };
  const client = createWsClient({
    url: () => {
      const url = new URL('/graphql', pick()).href.replace(/^http/, 'ws');
      collected.connected.push(url);
      return url;
    },
    webSocketImpl: WebSocket,
    retryAttempts: 3,
    retryWait: () => sleep(50),
  });
  const unsubscribe = client.subscribe(
    { query: SOUTH_LIVE },
    {
      next: (result) => void collected.files.push(fileOf(result)),
      error: (error) => void (collected.error = error),
      complete: () => void (collected.completed = true),
    },
  );
  collected.stop = () => {
    unsubscribe();
    void client.dispose();
  };
  return collected;
}

/** Drops a south report into the feed folder (the one south replica accepts and announces it on Redis). */
function land(file: string): void {
  copyFileSync(join(SOUTH_FEED, file), join(southDir, file));
}

describe('live answers on two gateway replicas sharing Redis', () => {
  let a: Replica;
  let b: Replica;

  it('pushes a report announced on Redis to streams on every replica', async () => {
    [a, b] = await Promise.all([replica(), replica()]);
    const onB = [sse(() => b.url), ws(() => b.url)];
    const onA = sse(() => a.url);
    const all = [...onB, onA];
    try {
      await until(() => all.every((c) => c.files.length === 1), 'the first results');
      for (const c of all) expect(c.files).toEqual(['fujitsu-south-2007-06-15.csv']);

      land('fujitsu-south-2007-09-06.csv');
      await until(() => all.every((c) => c.files.length === 2), 'the new report on both replicas');
      for (const c of all) expect(c.files[1]).toBe('fujitsu-south-2007-09-06.csv');
      for (const c of all) expect(c.error).toBeNull();
    } finally {
      for (const c of all) c.stop();
    }
  }, 90_000);

  it('ends the streams of a draining replica so their clients reconnect to another and keep hearing reports', async () => {
    // Behind nginx, a reconnect goes to a replica that is up: A while it is, then B.
    const pick = () => (a.child.exitCode === null && !draining ? a.url : b.url);
    let draining = false;
    const clients = [sse(pick), ws(pick)];
    try {
      await until(() => clients.every((c) => c.files.length === 1), 'the first results from A');
      for (const c of clients) expect(c.connected[0]).toContain(new URL(a.url).host);

      draining = true;
      a.child.kill('SIGTERM');
      // Each client is cut by A, reconnects to B and gets B's current answer.
      await until(() => clients.every((c) => c.files.length === 2), 'the answers after reconnecting to B');
      for (const c of clients) {
        expect(c.connected.at(-1)).toContain(new URL(b.url).host);
        expect(c.files[1]).toBe('fujitsu-south-2007-09-06.csv');
        expect(c.error).toBeNull();
        expect(c.completed).toBe(false);
      }
      expect(await a.exited, a.output()).toBe(0);

      land('fujitsu-south-2008-01-31.csv');
      await until(() => clients.every((c) => c.files.length === 3), 'the next report through B');
      for (const c of clients) expect(c.files[2]).toBe('fujitsu-south-2008-01-31.csv');
    } finally {
      for (const c of clients) c.stop();
    }
  }, 90_000);
});
