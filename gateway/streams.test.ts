/** Stream limits on a real HTTP server: caps, 429s, heartbeats, idle and lifetime ends, and counts back to 0. */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamsConfig } from './config.js';
import { clientKey } from './rate-limit.js';
import { eventStream, StreamLimits } from './streams.js';

const digest = (key: string) => createHash('sha256').update(key).digest('hex');
const KEYS = new Set(['client-a', 'client-b', 'client-c'].map(digest));
const BASE: StreamsConfig = { maxPerClient: 2, maxTotal: 3, heartbeatSeconds: 60, idleSeconds: 60, maxLifetimeSeconds: 60 };

let server: Server | null = null;
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const abort of aborts.splice(0)) abort.abort();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(null));
  server = null;
});

/** An app whose `/events` streams under `limits`; `/push` sends a large event to every stream. */
async function serve(config: StreamsConfig): Promise<{ url: string; limits: StreamLimits }> {
  const limits = new StreamLimits(config, (req) => clientKey(req, KEYS));
  const open = new Set<{ send(event: string, data: string): void }>();
  const app = express();
  app.get('/events', (req, res) => {
    const stream = eventStream(limits, req, res);
    if (!stream) return;
    open.add(stream);
    stream.onClose(() => open.delete(stream));
    stream.send('hello', '{}');
  });
  app.get('/push', (req, res) => {
    for (const stream of open) stream.send('big', 'x'.repeat(Number(req.query['bytes'])));
    res.end();
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server!.once('listening', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, limits };
}

/** Opens `/events` as `key`; the stream stays open until the test ends or aborts it. */
async function open(url: string, key: string): Promise<{ response: Response; abort: AbortController }> {
  const abort = new AbortController();
  aborts.push(abort);
  const response = await fetch(`${url}/events`, { headers: { 'x-api-key': key }, signal: abort.signal });
  return { response, abort };
}

/** Reads a stream's text: `until(re)` reads on until `re` matches what came so far or the stream ends. */
function reading(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  return async (until: RegExp): Promise<{ text: string; ended: boolean }> => {
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (chunk.done) return { text, ended: true };
      text += chunk.value;
      if (until.test(text)) return { text, ended: false };
    }
  };
}

const eventually = async (check: () => boolean, ms = 3000) => {
  for (const until = Date.now() + ms; !check() && Date.now() < until;) await new Promise((r) => setTimeout(r, 20));
  expect(check()).toBe(true);
};

describe('stream limits', () => {
  it('refuses a client past STREAMS_MAX_PER_CLIENT and everyone past STREAMS_MAX_TOTAL with 429, naming the limit', async () => {
    const { url, limits } = await serve(BASE);
    const a = [await open(url, 'client-a'), await open(url, 'client-a')];
    for (const { response } of a) expect(response.status).toBe(200);
    const third = await open(url, 'client-a');
    expect(third.response.status).toBe(429);
    expect(Number(third.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await third.response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions).toEqual({ code: 'TOO_MANY_STREAMS', limit: 'STREAMS_MAX_PER_CLIENT', max: 2 });
    expect(body.errors[0]!.message).toContain('STREAMS_MAX_PER_CLIENT');
    // Another client has a budget of its own, up to the total.
    expect((await open(url, 'client-b')).response.status).toBe(200);
    const beyond = await open(url, 'client-c');
    expect(beyond.response.status).toBe(429);
    expect(((await beyond.response.json()) as { errors: { extensions: { limit: string } }[] }).errors[0]!.extensions.limit).toBe(
      'STREAMS_MAX_TOTAL',
    );
    expect(limits.open).toBe(3);
    expect(limits.openBy(clientKey({ headers: { 'x-api-key': 'client-a' } } as never, KEYS))).toBe(2);
    // A client closing a stream frees its slot; every slot comes back.
    a[0]!.abort.abort();
    await eventually(() => limits.open === 2);
    expect((await open(url, 'client-a')).response.status).toBe(200);
    for (const abort of aborts) abort.abort();
    await eventually(() => limits.open === 0);
  });

  it('sends heartbeats, and ends a stream idle past STREAMS_IDLE_SECONDS, releasing its slot', async () => {
    const { url, limits } = await serve({ ...BASE, heartbeatSeconds: 1, idleSeconds: 2 });
    const { response } = await open(url, 'client-a');
    const started = Date.now();
    const read = reading(response);
    const beat = await read(/: keep-alive\n\n/);
    expect(beat.text).toMatch(/^event: hello\ndata: \{\}\n\n/);
    expect(beat.ended).toBe(false);
    // Heartbeats are not activity: the stream ends once nothing was sent for 2 s.
    const rest = await read(/(?!)/);
    expect(rest.ended).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    await eventually(() => limits.open === 0);
  });

  it('ends a busy stream at STREAMS_MAX_LIFETIME_SECONDS', async () => {
    const { url, limits } = await serve({ ...BASE, idleSeconds: 1, maxLifetimeSeconds: 2 });
    const { response } = await open(url, 'client-a');
    const started = Date.now();
    // An event every 300 ms keeps it from idling.
    const busy = setInterval(() => void fetch(`${url}/push?bytes=10`).catch(() => {}), 300);
    try {
      const read = await reading(response)(/(?!)/);
      expect(read.ended).toBe(true);
      expect(read.text.match(/event: big/g)?.length).toBeGreaterThan(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1700);
    } finally {
      clearInterval(busy);
    }
    await eventually(() => limits.open === 0);
  });

  it('cuts a client that does not read, instead of buffering for it', async () => {
    const { url, limits } = await serve(BASE);
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.write('GET /events HTTP/1.1\r\nhost: x\r\nx-api-key: client-a\r\n\r\n');
    socket.pause(); // never reads
    socket.on('error', () => {});
    await eventually(() => limits.open === 1);
    for (let i = 0; i < 64 && limits.open === 1; i++) await fetch(`${url}/push?bytes=${1024 * 1024}`);
    await eventually(() => limits.open === 0);
    socket.destroy();
  });

  it('releases the slot of a stream whose connection fails', async () => {
    const { url, limits } = await serve(BASE);
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    socket.write('GET /events HTTP/1.1\r\nhost: x\r\n\r\n');
    await eventually(() => limits.open === 1);
    socket.resetAndDestroy();
    await eventually(() => limits.open === 0);
  });

  it('ends every stream on closeAll (the gateway drains)', async () => {
    const { url, limits } = await serve(BASE);
    const { response } = await open(url, 'client-a');
    const read = reading(response);
    await read(/event: hello/);
    limits.closeAll();
    expect(limits.open).toBe(0);
    expect((await read(/(?!)/)).ended).toBe(true);
  });
});
