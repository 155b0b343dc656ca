/**
 * A supergraph swap is a change too: a live query whose answer a newly published subgraph
 * changes gets one new `next`, and one whose answer it leaves as it was gets none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mintToken } from '../gateway/registry/tokens.js';
import type { Stack } from '../scripts/stack.js';
import type { Listening } from '../subgraphs/kit/http.js';
import { listenNme } from './fixtures/nme/serve.js';
import { startTestStack } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-live-swap-'));
const tokensFile = join(dir, 'tokens.json');
const csc = mintToken(tokensFile, { supplier: 'CSC', subgraphs: ['nme'], operator: false });
const NME_SDL = readFileSync(new URL('./fixtures/nme/schema.graphql', import.meta.url), 'utf8');
let stack: Stack;
let nme: Listening;

beforeAll(async () => {
  stack = await startTestStack({ env: { REGISTRY_TOKENS_FILE: tokensFile } });
  nme = await listenNme();
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await nme?.close();
  rmSync(dir, { recursive: true, force: true });
});

function stream(query: string) {
  const client = createClient({ url: stack.gatewayUrl, retryAttempts: 0 });
  const results: { data?: any }[] = [];
  const dispose = client.subscribe({ query }, { next: (r) => void results.push(r), complete: () => {}, error: () => {} });
  return { results, stop: () => (dispose(), client.dispose()) };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('@live across a supergraph swap', () => {
  it('pushes the answers a published subgraph changes, and only those', async () => {
    const clusters = stream('query Clusters @live { compareRelease(code: "R2", asOf: "2007-09-06") { clusters { id } } }');
    const release = stream('query Release @live { release(code: "R0") { code } }');
    await until(() => clusters.results.length === 1 && release.results.length === 1, 'the first answers');
    const ids = (r: { data?: any }) => r.data.compareRelease.clusters.map((c: { id: string }) => c.id).sort();
    expect(ids(clusters.results[0]!)).toEqual(['LONDON', 'SOUTH']);

    const published = await fetch(new URL('/registry/subgraphs/nme', stack.gatewayUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${csc}` },
      body: JSON.stringify({ sdl: NME_SDL, url: nme.url }),
    });
    expect(published.status).toBe(201);
    await until(() => clusters.results.length === 2, 'the new comparison');
    expect(ids(clusters.results[1]!)).toEqual(['LONDON', 'NME', 'SOUTH']);
    await new Promise((r) => setTimeout(r, 500));
    expect(release.results).toHaveLength(1);
    expect(clusters.results).toHaveLength(2);
    clusters.stop();
    release.stop();
  });
});
