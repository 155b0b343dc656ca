/**
 * The programme's membership changes at runtime (an operator registers a cluster), and the
 * gateway's response cache never answers from the old one once the programme serves the new:
 * the programme is feed-versioned by its membership (`/feed/events`, with Redis the feed
 * channel, and `x-feed-version` on every answer), so its answers are cached under that version
 * and a registration is a fresh MISS, then a HIT. In memory and with Redis, where the
 * cluster subgraphs' new reports reach the gateways the same way (the feed channel).
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import { startTestStack } from './helpers.js';
import { freePort, PrivateRedis } from './redis.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-programme-versions-'));
const tokensFile = join(dir, 'tokens.json');
const operator = mintToken(tokensFile, { supplier: 'OPERATOR', subgraphs: [], operator: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRUST = '{ trust(odsCode: "RR7") { name } }';
const CLUSTERS = '{ clusters { id } }';
const GATESHEAD = 'Gateshead Health NHS Foundation Trust';

interface Answer {
  readonly data: any;
  readonly cache: string | undefined;
}

async function ask(url: string, query: string): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const body = (await response.json()) as { data?: unknown; errors?: unknown; extensions?: { cache?: { status?: string } } };
  expect(body.errors).toBeUndefined();
  return { data: body.data, cache: body.extensions?.cache?.status };
}

/** Registers NORTHEAST with RR7, then watches the programme itself and the gateway until the gateway answers the new name. */
async function registerAndWatch(stack: Stack) {
  const registered = await fetch(new URL('/registry/clusters/NORTHEAST', stack.gatewayUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${operator}` },
    body: JSON.stringify({
      name: 'North East Programme for IT',
      supplier: { id: 'ACCENTURE', name: 'Accenture' },
      trusts: [{ odsCode: 'RR7', name: GATESHEAD }],
    }),
  });
  expect(registered.status).toBe(201);
  let servedAt: number | null = null;
  const stale: number[] = [];
  const deadline = Date.now() + 5_000;
  for (;;) {
    if (servedAt === null && (await ask(stack.subgraphUrls.programme, TRUST)).data.trust?.name === GATESHEAD) servedAt = Date.now();
    const asked = Date.now();
    const answer = await ask(stack.gatewayUrl, TRUST);
    if (answer.data.trust?.name === GATESHEAD) return { first: answer, stale };
    // The gateway hears of the new version a moment after the programme serves it (a stream
    // or Redis message away); a HIT of the old answer later than that is a stale cache.
    if (servedAt !== null && asked - servedAt > 500 && answer.cache === 'HIT') stale.push(asked - servedAt);
    if (Date.now() > deadline) throw new Error(`the gateway still answers ${JSON.stringify(answer)} 5 s after the registration`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Around {
  readonly before?: () => Promise<void>;
  readonly after?: () => Promise<void>;
  /** More tests on the same stack. */
  readonly more?: (stack: () => Stack) => void;
}

function suite(name: string, env: () => NodeJS.ProcessEnv, around: Around = {}) {
  describe(name, () => {
    let stack: Stack;
    beforeAll(async () => {
      await around.before?.();
      stack = await startTestStack({ env: { REGISTRY_TOKENS_FILE: tokensFile, MEMBERSHIP_POLL_MS: '100', ...env() }, log: () => {} });
    }, 60_000);
    afterAll(async () => {
      await stack?.close();
      await around.after?.();
    });

    it('answers a registered trust through the response cache within seconds: a fresh MISS, then a HIT', async () => {
      const before = await ask(stack.gatewayUrl, TRUST);
      expect(before).toEqual({ data: { trust: null }, cache: 'MISS' });
      expect(await ask(stack.gatewayUrl, TRUST)).toEqual({ data: { trust: null }, cache: 'HIT' });
      await ask(stack.gatewayUrl, CLUSTERS);
      expect((await ask(stack.gatewayUrl, CLUSTERS)).cache).toBe('HIT');

      const { first, stale } = await registerAndWatch(stack);
      expect(stale).toEqual([]);
      expect(first.cache).toBe('MISS');
      expect(await ask(stack.gatewayUrl, TRUST)).toEqual({ data: { trust: { name: GATESHEAD } }, cache: 'HIT' });
      const clusters = await ask(stack.gatewayUrl, CLUSTERS);
      expect(clusters.data.clusters.map((c: { id: string }) => c.id)).toContain('NORTHEAST');
    });
    around.more?.(() => stack);
  });
}

suite('the programme in memory', () => ({}));

const redis = new PrivateRedis(0);
const SOUTH_FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
const southDir = join(dir, 'south-feed');
mkdirSync(southDir);
copyFileSync(join(SOUTH_FEED, 'fujitsu-south-2007-09-06.csv'), join(southDir, 'fujitsu-south-2007-09-06.csv'));
const redisEnv = () => ({
  REDIS_URL: redis.url,
  REGISTRY_REDIS_PREFIX: `test:${randomUUID()}:registry:`,
  SOUTH_FEED_DIR: southDir,
  FEED_POLL_MS: '50',
});
suite('the programme with Redis', redisEnv, {
  before: async () => {
    redis.port = await freePort();
    await redis.start();
  },
  after: () => redis.stop(),
  more: (stack) =>
    it("announces a cluster subgraph's new report on the feed channel: the gateway answers it, a fresh MISS", async () => {
      const FILE = '{ release(code: "R2") { south { source { file } } } }';
      const file = (answer: Answer) => answer.data.release.south.source.file;
      await ask(stack().gatewayUrl, FILE);
      const cached = await ask(stack().gatewayUrl, FILE);
      expect([file(cached), cached.cache]).toEqual(['fujitsu-south-2007-09-06.csv', 'HIT']);
      copyFileSync(join(SOUTH_FEED, 'fujitsu-south-2008-01-31.csv'), join(southDir, 'fujitsu-south-2008-01-31.csv'));
      const deadline = Date.now() + 5_000;
      let answer = cached;
      while (file(answer) !== 'fujitsu-south-2008-01-31.csv') {
        if (Date.now() > deadline) throw new Error(`the gateway still answers ${file(answer)} (${answer.cache}) 5 s after the new report`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        answer = await ask(stack().gatewayUrl, FILE);
      }
      expect(answer.cache).toBe('MISS');
    }),
});
