/**
 * A subgraph whose clock runs ahead of the gateway's (separate hosts: tens of ms are normal;
 * here 3 s, so the window is wide enough to hit every time, even on a busy machine). The gateway hears of a new
 * report before its pins can see it: its requests read the old snapshot while it already
 * knows the new feed version. Neither the response cache nor a live query may take that old
 * answer as the new version's: the subgraph says which version it answered from
 * (`x-feed-version`), and only an answer from exactly the key's version is kept.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { MemoryViewStore } from '../subgraphs/kit/store.js';
import type { SouthExtra } from '../subgraphs/south/feed-format.js';
import { startTestStack } from './helpers.js';

const FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
/** How far the south subgraph's clock runs ahead of the gateway's. */
const SKEW_MS = 3000;

interface Answer {
  data?: { release: { south: { source: { file: string } } | null } };
  extensions?: { cache?: { status: string } };
}

const R2 = '{ release(code: "R2") { south { source { file } } } }';
/** Asked only after the first report is visible to the gateway's pins (another selection: no entity cached before). */
const R2_LATER = '{ release(code: "R2") { code south { source { file } designStatus } } }';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fileOf = (answer: Answer) => answer.data?.release.south?.source.file;

describe('a subgraph whose clock is ahead of the gateway’s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msg-skew-'));
  let stack: Stack;

  async function ask(query = R2): Promise<Answer> {
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as Answer;
  }

  /** Polls until `check` holds for an answer, which it returns. */
  async function until(query: string, check: (answer: Answer) => boolean, what: string, ms = 10_000): Promise<Answer> {
    const deadline = Date.now() + ms;
    for (;;) {
      const answer = await ask(query);
      if (check(answer)) return answer;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last answer ${JSON.stringify(answer)}`);
      await sleep(20);
    }
  }

  beforeAll(async () => {
    copyFileSync(join(FEED, 'fujitsu-south-2007-09-06.csv'), join(dir, 'fujitsu-south-2007-09-06.csv'));
    stack = await startTestStack({
      env: { SOUTH_FEED_DIR: dir, FEED_POLL_MS: '50' },
      stores: { south: new MemoryViewStore<SouthExtra>({ now: () => Date.now() + SKEW_MS }) },
    });
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves its first report once the gateway’s pins can see it, not the empty answer from before', async () => {
    // Until the gateway's clock gets there, south has no report for its pins: no view.
    const empty = await ask();
    expect(empty.data?.release.south).toBeNull();
    await until(R2, (answer) => fileOf(answer) === 'fujitsu-south-2007-09-06.csv', 'the first report');
  });

  it('never keeps the old report’s answer under the new feed version', async () => {
    await ask(R2_LATER);
    const hit = await ask(R2_LATER);
    expect(hit.extensions?.cache?.status).toBe('HIT');
    expect(fileOf(hit)).toBe('fujitsu-south-2007-09-06.csv');
    copyFileSync(join(FEED, 'fujitsu-south-2008-01-31.csv'), join(dir, 'fujitsu-south-2008-01-31.csv'));
    const added = Date.now();
    // The gateway knows the new version (the old entry is no longer used) ...
    const behind = await until(R2_LATER, (answer) => answer.extensions?.cache?.status !== 'HIT', 'the new feed version');
    // ... while the subgraph's pins still see the old report: the race this test is about.
    expect(Date.now() - added).toBeLessThan(SKEW_MS);
    expect(fileOf(behind)).toBe('fujitsu-south-2007-09-06.csv');
    expect(behind.extensions?.cache?.status).toBe('MISS');
    // Once the gateway's clock passes the report's visibility, the new report is served, not
    // the old answer from the cache (which would stay until the next report).
    await sleep(added + SKEW_MS + 300 - Date.now());
    const after = await ask(R2_LATER);
    expect(fileOf(after)).toBe('fujitsu-south-2008-01-31.csv');
    // Answered from the version it is keyed by: cached as usual.
    const again = await ask(R2_LATER);
    expect(again.extensions?.cache?.status).toBe('HIT');
    expect(fileOf(again)).toBe('fujitsu-south-2008-01-31.csv');
  });

  it('runs a live query again until its answer comes from the new report', async () => {
    const client = createClient({ url: stack.gatewayUrl, retryAttempts: 0 });
    const files: (string | undefined)[] = [];
    const dispose = client.subscribe<Answer['data']>(
      { query: `query SkewLive @live ${R2}` },
      { next: (result) => void files.push(fileOf(result as Answer)), complete: () => {}, error: () => {} },
    );
    try {
      const deadline = Date.now() + 10_000;
      while (files.length === 0 && Date.now() < deadline) await sleep(20);
      const first = files[0];
      expect(first).toMatch(/^fujitsu-south-/);
      expect(first).not.toBe('fujitsu-south-2008-06-30.csv');
      copyFileSync(join(FEED, 'fujitsu-south-2008-06-30.csv'), join(dir, 'fujitsu-south-2008-06-30.csv'));
      // The first run after the change reads the old report; the subgraph says so, and the run is repeated.
      while (!files.includes('fujitsu-south-2008-06-30.csv') && Date.now() < deadline + 10_000) await sleep(20);
      expect(files.at(-1)).toBe('fujitsu-south-2008-06-30.csv');
    } finally {
      dispose();
      client.dispose();
    }
  });
});
