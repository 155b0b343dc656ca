/**
 * Safelisting in stages and plans warmed after a swap, on a whole stack: with
 * `PERSISTED_OPERATIONS_ONLY=log` an operation outside the manifest is served, logged once and
 * counted; the manifest file is reloaded when it changes (a broken one is refused, the old one
 * kept); and the persisted operations are planned at start and before a registry swap is
 * served.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import type { Listening } from '../subgraphs/kit/http.js';
import { listenNme } from './fixtures/nme/serve.js';
import { post, startTestStack } from './helpers.js';
import { metric as gatewayMetric, until as waitUntil } from './streams.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-safelist-e2e-'));
const tokensFile = join(dir, 'tokens.json');
const manifestFile = join(dir, 'manifest.json');
copyFileSync(new URL('../gateway/persisted-operations.json', import.meta.url), manifestFile);
const shipped = JSON.parse(readFileSync(manifestFile, 'utf8')) as { operations: unknown[] };
const csc = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme'], operator: false });
const NME_SDL = readFileSync(new URL('./fixtures/nme/schema.graphql', import.meta.url), 'utf8');
const MINE = 'query Mine { programme { name } }';
const logs: string[] = [];
let stack: Stack;
let nme: Listening;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      PERSISTED_OPERATIONS_ONLY: 'log',
      PERSISTED_OPERATIONS_FILE: manifestFile,
      REGISTRY_TOKENS_FILE: tokensFile,
      // A budget no loaded test machine runs out of: the tiny budget is plan-warmup.test.ts's.
      PLAN_WARMUP_MS: '30000',
    },
    log: (line) => void logs.push(line),
  });
  nme = await listenNme();
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await nme?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** As `streams.ts`'s, with the minute a loaded machine may take to reload or swap. */
const until = (check: () => boolean, what: string) => waitUntil(check, what, 60_000);
const metric = (name: string) => gatewayMetric(stack.gatewayUrl, name);

const byId = (documentId: string) =>
  fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documentId }) });

describe('PERSISTED_OPERATIONS_ONLY=log', () => {
  it('serves an operation outside the manifest, logs it once with its name and hash, and counts every request', async () => {
    for (let i = 0; i < 3; i++) expect((await post(stack.gatewayUrl, MINE)).data).toEqual({ programme: { name: expect.any(String) } });
    const lines = logs.filter((l) => l.includes('served operation "Mine"'));
    expect(lines).toEqual([
      expect.stringMatching(/\(sha256 [0-9a-f]{64}\) that is not in the persisted-operation manifest \(PERSISTED_OPERATIONS_ONLY=log\)/),
    ]);
    expect(await metric('gateway_unsafelisted_operations_total')).toBe(3);
    // The manifest's own operations are no such thing.
    expect((await byId('FeedFreshness')).status).toBe(200);
    expect(await metric('gateway_unsafelisted_operations_total')).toBe(3);
  });
});

describe('the manifest file', () => {
  it('is reloaded when it changes, and a broken one leaves the one before', async () => {
    expect((await byId('Mine')).status).toBe(404);
    const operations = [...shipped.operations, { id: 'Mine', name: 'Mine', type: 'query', body: MINE }];
    writeFileSync(manifestFile, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }));
    await until(() => logs.some((l) => l.includes('reloaded PERSISTED_OPERATIONS_FILE')), 'the reload');
    expect(await (await byId('Mine')).json()).toMatchObject({ data: { programme: { name: expect.any(String) } } });

    writeFileSync(manifestFile, '{ "format": ');
    await until(() => logs.some((l) => l.includes('is not JSON')), 'the refusal');
    expect(logs.find((l) => l.includes('is not JSON'))).toMatch(
      new RegExp(
        `PERSISTED_OPERATIONS_FILE=${JSON.stringify(manifestFile)} is not JSON: .*; keeping the ${operations.length} persisted operations`,
      ),
    );
    expect((await byId('Mine')).status).toBe(200);
  });
});

describe('plan warm-up', () => {
  it('plans the persisted operations at start, and on the new supergraph before a swap serves it', async () => {
    const atStart = logs.find((l) => l.includes('plan warm-up at start'));
    expect(atStart).toMatch(new RegExp(`planned ${shipped.operations.length} of ${shipped.operations.length} operations in \\d+ ms`));
    const before = await metric('gateway_plans_warmed_total');
    expect(before).toBeGreaterThan(0);

    const published = await fetch(new URL('/registry/subgraphs/nme', stack.gatewayUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${csc}` },
      body: JSON.stringify({ sdl: NME_SDL, url: nme.url }),
    });
    expect(published.status).toBe(201);
    await until(() => logs.some((l) => l.includes('now serving registry version 1')), 'the swap');
    const warmed = logs.findIndex((l) => l.includes('plan warm-up before the swap'));
    expect(warmed).toBeGreaterThan(-1);
    expect(warmed).toBeLessThan(logs.findIndex((l) => l.includes('now serving registry version 1')));
    // The manifest reloaded above (with Mine) is the one warmed.
    expect(logs[warmed]).toMatch(new RegExp(`planned ${shipped.operations.length + 1} of ${shipped.operations.length + 1} operations`));
    expect(await metric('gateway_plans_warmed_total')).toBeGreaterThan(before);
  }, 90_000);
});
