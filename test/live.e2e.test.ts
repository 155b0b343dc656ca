/**
 * Live answers against a real stack, with the real `graphql-sse` and `graphql-ws` clients: a
 * `@live` query gets its current answer, then one more `next` exactly when a report changes
 * it (none for a report its answer did not touch); many clients on one operation cost one
 * run per change; clients going away leave nothing behind; limits hold on streams.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import type { Stack } from '../scripts/stack.js';
import { startTestStack } from './helpers.js';
import { metric as gatewayMetric, sleep, sseStream, until, wsStream, type Result } from './streams.js';

const SOUTH_FEED = fileURLToPath(new URL('../subgraphs/south/feed/', import.meta.url));
const LONDON_FEED = fileURLToPath(new URL('../subgraphs/london/feed/', import.meta.url));
const southDir = mkdtempSync(join(tmpdir(), 'msg-live-south-'));
const londonDir = mkdtempSync(join(tmpdir(), 'msg-live-london-'));
const MAX_PER_CLIENT = 25;
let stack: Stack;

beforeAll(async () => {
  copyFileSync(join(SOUTH_FEED, 'fujitsu-south-2007-09-06.csv'), join(southDir, 'fujitsu-south-2007-09-06.csv'));
  copyFileSync(join(LONDON_FEED, 'bt-london-2007-09-06.json'), join(londonDir, 'bt-london-2007-09-06.json'));
  stack = await startTestStack({
    env: {
      SOUTH_FEED_DIR: southDir,
      LONDON_FEED_DIR: londonDir,
      FEED_POLL_MS: '50',
      MAX_COST: '20',
      STREAMS_MAX_PER_CLIENT: String(MAX_PER_CLIENT),
    },
  });
});
afterAll(async () => {
  await stack?.close();
  rmSync(southDir, { recursive: true, force: true });
  rmSync(londonDir, { recursive: true, force: true });
});

const SOUTH_LIVE = 'query SouthFile @live { release(code: "R0") { south { source { file } } } }';
const LONDON_LIVE = 'query LondonFile @live { release(code: "R0") { london { source { file } } } }';

const sse = (query: string, variables?: Record<string, unknown>) => sseStream(stack.gatewayUrl, query, variables);
const ws = (query: string) => wsStream(stack.gatewayUrl, query);
const metric = (name: string, labels = '') => gatewayMetric(stack.gatewayUrl, name, labels);

const fileOf = (result: Result | undefined, cluster: 'south' | 'london') =>
  (result?.data as { release: Record<string, { source: { file: string } }> } | undefined)?.release[cluster]?.source.file;

describe('@live queries', () => {
  it('push a new answer only to the streams whose answer a report changed', async () => {
    const southSse = sse(SOUTH_LIVE);
    const southWs = ws(SOUTH_LIVE);
    const londonSse = sse(LONDON_LIVE);
    const londonWs = ws(LONDON_LIVE);
    // Asked as of a date after the report about to land: a late report dated before it changes it too.
    const past = sse('query Past @live { release(code: "R0") { south(asOf: "2008-03-01") { source { file } } } }');
    const all = [southSse, southWs, londonSse, londonWs, past];
    onTestFinished(() => all.forEach((s) => s.stop()));
    await until(() => all.every((s) => s.results.length === 1), 'the first answers');
    expect(fileOf(southSse.results[0], 'south')).toBe('fujitsu-south-2007-09-06.csv');
    expect(fileOf(londonWs.results[0], 'london')).toBe('bt-london-2007-09-06.json');

    copyFileSync(join(SOUTH_FEED, 'fujitsu-south-2008-01-31.csv'), join(southDir, 'fujitsu-south-2008-01-31.csv'));
    await until(
      () => southSse.results.length === 2 && southWs.results.length === 2 && past.results.length === 2,
      'the south streams to hear the report',
    );
    await sleep(700);
    expect(southSse.results.map((r) => fileOf(r, 'south'))).toEqual(['fujitsu-south-2007-09-06.csv', 'fujitsu-south-2008-01-31.csv']);
    expect(southWs.results.map((r) => fileOf(r, 'south'))).toEqual(['fujitsu-south-2007-09-06.csv', 'fujitsu-south-2008-01-31.csv']);
    expect(past.results.map((r) => fileOf(r, 'south'))).toEqual(['fujitsu-south-2007-09-06.csv', 'fujitsu-south-2008-01-31.csv']);
    // The London answer did not touch south: nothing for it.
    expect(londonSse.results).toHaveLength(1);
    expect(londonWs.results).toHaveLength(1);

    copyFileSync(join(LONDON_FEED, 'bt-london-2008-01-31.json'), join(londonDir, 'bt-london-2008-01-31.json'));
    await until(() => londonSse.results.length === 2 && londonWs.results.length === 2, 'the london streams to hear the report');
    await sleep(700);
    expect(fileOf(londonSse.results[1], 'london')).toBe('bt-london-2008-01-31.json');
    expect(southSse.results).toHaveLength(2);
    expect(southWs.results).toHaveLength(2);
    for (const s of all) expect([s.completed, s.error]).toEqual([false, null]);
    for (const s of all) s.stop();
  });

  it('costs one run per change however many clients share an operation, and leaves nothing behind', async () => {
    const query = 'query Trusts @live { release(code: "R2") { south { source { file } designStatus } } }';
    await until(async () => (await metric('gateway_open_streams')) === 0, 'earlier streams to close').catch(() => {});
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const fetchesBefore = await metric('gateway_subgraph_fetch_duration_seconds_count', 'subgraph="south"');
    const runsBefore = await metric('gateway_live_executions_total');
    const clients = Array.from({ length: 20 }, () => sse(query));
    onTestFinished(() => clients.forEach((c) => c.stop()));
    await until(() => clients.every((c) => c.results.length === 1), 'twenty first answers');
    expect(await metric('gateway_open_streams')).toBe(20);
    expect(await metric('gateway_live_operations')).toBe(1);
    expect(await metric('gateway_live_executions_total')).toBe(runsBefore + 1);
    expect(await metric('gateway_subgraph_fetch_duration_seconds_count', 'subgraph="south"')).toBe(fetchesBefore + 1);
    const timersOpen = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

    copyFileSync(join(SOUTH_FEED, 'fujitsu-south-2008-06-30.csv'), join(southDir, 'fujitsu-south-2008-06-30.csv'));
    await until(() => clients.every((c) => c.results.length === 2), 'twenty pushes');
    await sleep(300);
    expect(await metric('gateway_live_executions_total')).toBe(runsBefore + 2);
    expect(await metric('gateway_subgraph_fetch_duration_seconds_count', 'subgraph="south"')).toBe(fetchesBefore + 2);
    expect(clients.every((c) => c.results.length === 2 && fileOf(c.results[1], 'south') === 'fujitsu-south-2008-06-30.csv')).toBe(true);

    for (const c of clients) c.stop();
    await until(async () => (await metric('gateway_open_streams')) === 0, 'the streams to close');
    expect(await metric('gateway_live_operations')).toBe(0);
    await sleep(100);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    // Each open SSE stream held a timer at least (graphql-sse's pinger; the limits' own are
    // unref'd and not listed): all gone with the streams.
    expect(timersOpen - timersAfter).toBeGreaterThanOrEqual(20);
    expect(timersAfter).toBeLessThanOrEqual(timersBefore + 2);
  });

  it('answers a query without @live once: one next, then complete, on both transports', async () => {
    const viaSse = sse('{ release(code: "R0") { code } }');
    const viaWs = ws('{ release(code: "R0") { code } }');
    await until(() => viaSse.completed && viaWs.completed, 'both to complete');
    expect(viaSse.results.map((r) => r.data)).toEqual([{ release: { code: 'R0' } }]);
    expect(viaWs.results.map((r) => r.data)).toEqual([{ release: { code: 'R0' } }]);
  });

  it('answers @live over plain HTTP once, and never sends the directive to a subgraph', async () => {
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: LONDON_LIVE }),
    });
    const body = (await response.json()) as Result;
    expect(body.errors).toBeUndefined();
    expect(fileOf(body, 'london')).toMatch(/^bt-london-/);
  });
});

describe('limits on streams', () => {
  it('refuses an over-cost live query with the limit named, and keeps nothing open for it', async () => {
    const tooDear = 'query Dear @live { release(code: "R0") { south { rollout { trust { odsCode name } status } } } }';
    const viaSse = sse(tooDear);
    const viaWs = ws(tooDear);
    await until(() => viaSse.completed && viaWs.completed, 'both refusals');
    for (const s of [viaSse, viaWs]) {
      expect(s.results).toHaveLength(1);
      expect(s.results[0]!.errors?.[0]?.extensions?.['code']).toBe('QUERY_TOO_COMPLEX');
      expect(s.results[0]!.errors?.[0]?.message).toMatch(/MAX_COST/);
    }
    viaWs.stop();
    await until(async () => (await metric('gateway_live_operations')) === 0, 'no live operation left');
  });

  it('runs at most STREAMS_MAX_PER_CLIENT operations on one WebSocket connection at once', async () => {
    const client = createWsClient({ url: stack.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    onTestFinished(() => void client.dispose());
    const subscribe = () => {
      const got = { results: [] as Result[], completed: false };
      client.subscribe(
        { query: SOUTH_LIVE },
        { next: (r) => void got.results.push(r as Result), complete: () => void (got.completed = true), error: () => {} },
      );
      return got;
    };
    const held = Array.from({ length: MAX_PER_CLIENT }, subscribe);
    await until(() => held.every((h) => h.results.length === 1), 'the operations the cap allows');
    const over = subscribe();
    await until(() => over.completed, 'the refusal');
    expect(over.results[0]?.errors?.[0]?.extensions?.['code']).toBe('TOO_MANY_STREAMS');
    expect(held.every((h) => !h.completed)).toBe(true);
  });

  it('refuses a WebSocket from a page of another origin (WebSocket has no CORS)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(stack.gatewayUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { origin: 'https://evil.example' });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => reject(new Error('opened')));
      socket.on('error', () => {});
    });
    expect(status).toBe(403);
  });

  it('refuses @live on a mutation through the mask, naming the rule', async () => {
    const viaSse = sse('mutation M @live { __typename }');
    await until(() => viaSse.completed, 'the refusal');
    expect(viaSse.results[0]!.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(viaSse.results[0]!.errors?.[0]?.message).toMatch(/@live applies to queries only/);
  });

  it('refuses streams past STREAMS_MAX_PER_CLIENT: 429 over SSE, close 1013 over WebSocket', async () => {
    await until(async () => (await metric('gateway_open_streams')) === 0, 'earlier streams to close');
    const held = Array.from({ length: MAX_PER_CLIENT }, () => sse(SOUTH_LIVE));
    onTestFinished(() => held.forEach((c) => c.stop()));
    await until(() => held.every((c) => c.results.length === 1), 'the streams the cap allows');
    const refused = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: SOUTH_LIVE }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(((await refused.json()) as Result).errors?.[0]?.extensions).toMatchObject({
      code: 'TOO_MANY_STREAMS',
      limit: 'STREAMS_MAX_PER_CLIENT',
    });
    const viaWs = ws(SOUTH_LIVE);
    expect(await viaWs.closeCode).toBe(1013);
    viaWs.stop();
    for (const c of held) c.stop();
    await until(async () => (await metric('gateway_open_streams')) === 0, 'the streams to close');
  });
});
