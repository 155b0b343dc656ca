/**
 * Cache correctness (not speed): the response cache never answers from an old report,
 * never shares an entry between variables, never keeps errors; persisted operations and
 * automatic persisted queries; Redis going away is not an outage.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { MemoryViewStore, type VersionKey } from '../subgraphs/kit/store.js';
import type { SouthExtra } from '../subgraphs/south/feed-format.js';
import { startTestStack } from './helpers.js';
import { freePort, PrivateRedis } from './redis.js';

const FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[]; extensions?: { cache?: { status: string } } };
}

async function ask(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

const R2 = 'query R2($code: ID!) { release(code: $code) { code south { source { file } designStatus } } }';
const cacheStatus = (answer: Answer) => answer.body.extensions?.cache?.status;

describe('the response cache (memory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msg-cache-'));
  let stack: Stack;
  beforeAll(async () => {
    copyFileSync(join(FEED, 'fujitsu-south-2007-09-06.csv'), join(dir, 'fujitsu-south-2007-09-06.csv'));
    stack = await startTestStack({ env: { SOUTH_FEED_DIR: dir, FEED_POLL_MS: '50' }, log: () => {} });
  });
  afterAll(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a repeated query from the cache, with HIT/MISS, Cache-Control and Age', async () => {
    const first = await ask(stack.gatewayUrl, { query: R2, variables: { code: 'R2' } });
    const second = await ask(stack.gatewayUrl, { query: R2, variables: { code: 'R2' } });
    expect(cacheStatus(first)).toBe('MISS');
    expect(cacheStatus(second)).toBe('HIT');
    expect(second.body.data).toEqual(first.body.data);
    expect(second.headers.get('cache-control')).toMatch(/^max-age=\d+, public$/);
    expect(second.headers.get('age')).toMatch(/^\d+$/);
  });

  it('never shares an entry between different variables', async () => {
    await ask(stack.gatewayUrl, { query: R2, variables: { code: 'R2' } });
    const r0 = await ask(stack.gatewayUrl, { query: R2, variables: { code: 'R0' } });
    expect(cacheStatus(r0)).toBe('MISS');
    expect(r0.body.data.release.code).toBe('R0');
  });

  it('serves a new report on the very next request once the gateway knows of it', async () => {
    await ask(stack.gatewayUrl, { query: R2, variables: { code: 'R2' } });
    expect(cacheStatus(await ask(stack.gatewayUrl, { query: R2, variables: { code: 'R2' } }))).toBe('HIT');
    copyFileSync(join(FEED, 'fujitsu-south-2008-01-31.csv'), join(dir, 'fujitsu-south-2008-01-31.csv'));
    // A dashboard's freshness panel: as soon as it shows the report, so do all other queries.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const feeds = await ask(stack.gatewayUrl, { query: '{ feeds { id current { file } } }' });
      if (feeds.body.data.feeds.some((f: { current: { file: string } }) => f.current.file === 'fujitsu-south-2008-01-31.csv')) break;
      if (Date.now() > deadline) throw new Error('the new report never arrived');
      await new Promise((r) => setTimeout(r, 50));
    }
    const next = await ask(stack.gatewayUrl, { query: R2, variables: { code: 'R2' } });
    expect(next.body.data.release.south.source.file).toBe('fujitsu-south-2008-01-31.csv');
    expect(cacheStatus(next)).toBe('MISS');
  });

  it('shows a refused report in the feed status as soon as it is refused, not when the cached answer expires', async () => {
    const FEEDS = '{ feeds { id lastRejected { file errors { line field } } } }';
    await ask(stack.gatewayUrl, { query: FEEDS });
    expect(cacheStatus(await ask(stack.gatewayUrl, { query: FEEDS }))).toBe('HIT');
    const bad = fileURLToPath(new URL('./bad-feeds/south-wrong-date-format.csv', import.meta.url));
    copyFileSync(bad, join(dir, 'fujitsu-south-2008-03-31.csv'));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const feeds = await ask(stack.gatewayUrl, { query: FEEDS });
      const south = feeds.body.data.feeds.find((f: { id: string }) => f.id === 'south');
      if (south?.lastRejected?.file === 'fujitsu-south-2008-03-31.csv') {
        expect(south.lastRejected.errors[0]).toMatchObject({ field: expect.any(String) });
        break;
      }
      // Well inside CACHE_DEFAULT_MAX_AGE (60 s): the cached answer must not hide the refusal.
      if (Date.now() > deadline) throw new Error('the refusal never showed: the cached feed status was served');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('does not cache requests that carry authorisation', async () => {
    const query = '{ release(code: "R1") { south { localName } } }';
    await ask(stack.gatewayUrl, { query }, { authorization: 'Bearer x' });
    const again = await ask(stack.gatewayUrl, { query }, { authorization: 'Bearer x' });
    expect(cacheStatus(again)).toBe('BYPASS');
  });

  it('calls a persisted operation by id, over GET too, and refuses an unknown id', async () => {
    const get = await fetch(
      `${stack.gatewayUrl}?documentId=CompareRelease&variables=${encodeURIComponent(JSON.stringify({ code: 'R2', asOf: '2007-09-06' }))}`,
    );
    const body = (await get.json()) as Answer['body'];
    expect(get.status).toBe(200);
    expect(body.data.compareRelease.divergent).toBe(true);
    const post = await ask(stack.gatewayUrl, { documentId: 'FeedFreshness' });
    expect(post.body.data.feeds).toHaveLength(2);
    const unknown = await ask(stack.gatewayUrl, { documentId: 'NoSuchOperation' });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('takes automatic persisted queries through the cache', async () => {
    const query = '{ programme { completionTargetYear } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const unknown = await ask(stack.gatewayUrl, { extensions });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    await ask(stack.gatewayUrl, { query, extensions });
    const byHash = await ask(stack.gatewayUrl, { extensions });
    expect(byHash.body.data).toEqual({ programme: { completionTargetYear: 2010 } });
  });

  it('does not cache a response with errors', async () => {
    const query = '{ release(code: "R0") { london { localName } } }';
    const london = stack.services.find((s) => s.name === 'london')!;
    await london.close();
    const failed = await ask(stack.gatewayUrl, { query });
    expect(failed.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^The london subgraph is unavailable/),
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'london' },
    });
    expect(JSON.stringify(failed.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    const again = await ask(stack.gatewayUrl, { query });
    expect(cacheStatus(again)).toBe('MISS');
  });
});

describe('persisted operations only', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { PERSISTED_OPERATIONS_ONLY: 'true' }, log: () => {} });
  });
  afterAll(() => stack.close());

  it('refuses an operation that is not in the manifest, and runs one that is', async () => {
    const adHoc = await ask(stack.gatewayUrl, { query: '{ releases { code } }' });
    expect(adHoc.status).toBe(400);
    expect(adHoc.body.errors?.[0]?.extensions?.code).toBe('OPERATION_NOT_PERSISTED');
    const persisted = await ask(stack.gatewayUrl, { documentId: 'ReleaseMatrix', variables: { asOf: '2007-09-06' } });
    expect(persisted.body.data.releases).toHaveLength(3);
  });
});

describe('the response cache on Redis', () => {
  const redis = new PrivateRedis(0);
  let stack: Stack;
  beforeAll(async () => {
    redis.port = await freePort();
    await redis.start();
    stack = await startTestStack({ env: { REDIS_URL: redis.url }, log: () => {} });
  });
  afterAll(async () => {
    await stack.close();
    await redis.stop();
  });

  it('caches, serves uncached while Redis is down, and caches again when it is back', async () => {
    const query = '{ release(code: "R2") { london { localName designStatus } } }';
    const waitFor = async (want: string) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const answer = await ask(stack.gatewayUrl, { query });
        expect(answer.body.errors).toBeUndefined();
        if (cacheStatus(answer) === want) return answer;
        if (Date.now() > deadline) throw new Error(`never ${want}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor('HIT');
    await redis.stop();
    const down = await ask(stack.gatewayUrl, { query });
    expect(down.body.data.release.london.localName).toBeTruthy();
    expect(cacheStatus(down)).toBe('MISS');
    await redis.start();
    await waitFor('HIT');
  });
});

describe('the entity cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msg-entities-'));
  const lookups: string[][] = [];
  class CountingStore extends MemoryViewStore<SouthExtra> {
    override getReleases(keys: readonly VersionKey[]) {
      lookups.push(keys.map((k) => k.split('/')[1]!));
      return super.getReleases(keys);
    }
  }
  let stack: Stack;
  beforeAll(async () => {
    copyFileSync(join(FEED, 'fujitsu-south-2007-09-06.csv'), join(dir, 'fujitsu-south-2007-09-06.csv'));
    stack = await startTestStack({
      env: { SOUTH_FEED_DIR: dir, FEED_POLL_MS: '50', RESPONSE_CACHE: 'false' },
      stores: { south: new CountingStore() },
      log: () => {},
    });
  });
  afterAll(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ALL_RELEASES = '{ releases { code south { localName source { file } } } }';
  const names = async (query: string) => (await ask(stack.gatewayUrl, { query })).body.data.releases.map((r: any) => r.south?.localName);

  it('answers entity lookups it has done before without the subgraph, and only fetches the new ones', async () => {
    const all = ALL_RELEASES;
    await names(all);
    lookups.length = 0;
    expect(await names(all)).toEqual(['Release 0 (Foundation)', 'Release 1', 'Release 2']);
    expect(lookups).toEqual([]);
    // Another operation with the same selection: its entities are cached too.
    const one = await ask(stack.gatewayUrl, { query: '{ release(code: "R2") { code south { localName source { file } } } }' });
    expect(one.body.data.release.south.localName).toBe('Release 2');
    expect(lookups).toEqual([]);
  });

  it('never answers from entities of an older report', async () => {
    copyFileSync(join(FEED, 'fujitsu-south-2008-01-31.csv'), join(dir, 'fujitsu-south-2008-01-31.csv'));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const feeds = await ask(stack.gatewayUrl, { query: '{ feeds { current { file } } }' });
      if (feeds.body.data.feeds.some((f: { current: { file: string } }) => f.current.file === 'fujitsu-south-2008-01-31.csv')) break;
      if (Date.now() > deadline) throw new Error('the new report never arrived');
      await new Promise((r) => setTimeout(r, 50));
    }
    lookups.length = 0;
    // The very selection cached before: a new feed version, so the entities are fetched again.
    const answer = await ask(stack.gatewayUrl, { query: ALL_RELEASES });
    expect(answer.body.data.releases.map((r: any) => r.south.source.file)).toEqual(Array(3).fill('fujitsu-south-2008-01-31.csv'));
    expect(lookups.flat().sort()).toEqual(['R0', 'R1', 'R2']);
  });
});
