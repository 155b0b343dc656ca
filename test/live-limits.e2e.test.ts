/**
 * The rules of `/graphql` hold on live streams too: PERSISTED_OPERATIONS_ONLY on both
 * transports, the rate limit counting a stream once however much it carries, `/ready`
 * answering while streams are open, and a gateway that stops ending its streams with a close
 * clients reconnect from.
 */
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Stack } from '../scripts/stack.js';
import { startTestStack } from './helpers.js';

const RATE = 6;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ env: { PERSISTED_OPERATIONS_ONLY: 'true', RATE_LIMIT_REQUESTS: String(RATE) } });
});
afterAll(async () => {
  await stack?.close();
});

type Result = { data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function wsClient() {
  let closedWith: (code: number) => void = () => {};
  const closeCode = new Promise<number>((resolve) => (closedWith = resolve));
  const client = createWsClient({
    url: stack.gatewayUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    on: { closed: (event) => closedWith((event as { code: number }).code) },
  });
  return { client, closeCode };
}

function collect(subscribe: (sink: { next(r: unknown): void; complete(): void; error(e: unknown): void }) => unknown) {
  const got = { results: [] as Result[], completed: false, error: null as unknown };
  subscribe({
    next: (r) => void got.results.push(r as Result),
    complete: () => void (got.completed = true),
    error: (e) => void (got.error = e),
  });
  return got;
}

describe('live streams under the /graphql rules', () => {
  it('refuses operation text with PERSISTED_OPERATIONS_ONLY on both transports, and serves a persisted one by GET', async () => {
    const text = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'query Q @live { releases { code } }' }),
    });
    expect(text.status).toBe(400);
    expect(((await text.json()) as Result).errors?.[0]?.extensions?.['code']).toBe('OPERATION_NOT_PERSISTED');

    const { client } = wsClient();
    const viaWs = collect((sink) => client.subscribe({ query: 'query Q @live { releases { code } }' }, sink));
    await until(() => viaWs.completed, 'the refusal');
    expect(viaWs.results[0]?.errors?.[0]?.extensions?.['code']).toBe('OPERATION_NOT_PERSISTED');
    const byId = collect((sink) => client.subscribe({ query: '', documentId: 'DashboardRolloutPlans' } as { query: string }, sink));
    await until(() => byId.completed, 'the persisted operation over WebSocket');
    expect(byId.results[0]?.errors).toBeUndefined();
    await client.dispose();

    const get = await fetch(`${stack.gatewayUrl}?documentId=DashboardRolloutPlans`, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(200);
    const events = await get.text();
    expect(events).toMatch(/event: next\ndata: \{"data":/);
    expect(events).toMatch(/event: complete/);
  });

  it('counts a stream once against the rate limit, however many results it carries, and answers /ready meanwhile', async () => {
    // A fresh window: the first test's requests are behind us only after it passes; use what is left.
    const sse = createSseClient({ url: stack.gatewayUrl, retryAttempts: 0 });
    const { client } = wsClient();
    // Two streams (one SSE request, one WebSocket upgrade) carrying three operations between them.
    const one = collect((sink) => sse.subscribe({ query: '', documentId: 'DashboardRolloutPlans' } as never, sink));
    const two = collect((sink) => client.subscribe({ query: '', documentId: 'DashboardRolloutPlans' } as { query: string }, sink));
    const three = collect((sink) => client.subscribe({ query: '', documentId: 'ReleaseMatrix' } as { query: string }, sink));
    await until(() => one.completed && two.completed && three.completed, 'the three operations');
    const ready = await fetch(new URL('/ready', stack.gatewayUrl));
    expect(ready.status).toBe(200);
    // The budget left: the POST's own x-ratelimit-remaining says how many requests were counted.
    const probe = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ documentId: 'DashboardRolloutPlans' }),
    });
    // First test: 2 requests (the POST, the GET) and 1 upgrade; this one: 1 SSE request, 1 upgrade, the probe.
    expect(Number(probe.headers.get('x-ratelimit-remaining'))).toBe(RATE - 6);
    const refused = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ documentId: 'DashboardRolloutPlans' }),
    });
    expect(refused.status).toBe(429);
    const late = wsClient();
    const lateOne = collect((sink) => late.client.subscribe({ query: '', documentId: 'ReleaseMatrix' } as { query: string }, sink));
    await until(() => lateOne.error !== null, 'the refused upgrade');
    await late.client.dispose();
    sse.dispose();
    await client.dispose();
  });

  it('ends its streams when the gateway stops, with a close clients reconnect from', async () => {
    // This stack's rate budget is spent: a stack of its own (which this test stops).
    const own = await startTestStack({});
    const url = own.gatewayUrl;
    let closedWith: (event: { code: number; reason: string }) => void = () => {};
    const closeEvent = new Promise<{ code: number; reason: string }>((resolve) => (closedWith = resolve));
    const client = createWsClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: { closed: (event) => closedWith(event as { code: number; reason: string }) },
    });
    const viaWs = collect((sink) => client.subscribe({ query: 'query Q @live { releases { code } }' }, sink));
    const sse = createSseClient({ url, retryAttempts: 0 });
    const viaSse = collect((sink) => sse.subscribe({ query: 'query Q @live { releases { code } }' }, sink));
    await until(() => viaWs.results.length === 1 && viaSse.results.length === 1, 'both streams');
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(8000);
    // 1001 Going Away: graphql-ws clients retry it (a 1000 or 44xx would end them for good).
    const event = await closeEvent;
    expect([event.code, event.reason]).toEqual([1001, 'Closed by the gateway: the gateway is stopping; reconnect']);
    // The SSE stream ended without `complete`: a graphql-sse client with retries reconnects.
    await until(() => viaSse.error !== null, 'the SSE stream to end');
    expect(viaSse.completed).toBe(false);
    await client.dispose();
    sse.dispose();
  });
});
