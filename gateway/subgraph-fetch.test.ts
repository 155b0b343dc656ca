/**
 * The gateway's own requests to subgraphs (`fetchSubgraph`, over `node:http`): answers read
 * as `fetch` would give them, a redirect returned rather than followed, and a body cut past
 * its bound.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSubgraph } from './subgraph-fetch.js';

let server: Server;
let base = '';
const seen: { method?: string; length?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({
        ...(req.method ? { method: req.method } : {}),
        ...(req.headers['content-length'] ? { length: req.headers['content-length'] } : {}),
        body,
      });
      if (req.url === '/json') res.setHeader('content-type', 'application/json').end('{"answer":"é"}');
      else if (req.url === '/empty') res.writeHead(204).end();
      else if (req.url === '/moved') res.writeHead(302, { location: '/json' }).end();
      else res.end('x'.repeat(64 * 1024));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('fetchSubgraph', () => {
  it('sends a body with its length and reads the answer as JSON', async () => {
    const answer = await fetchSubgraph(`${base}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"q":"é"}',
    });
    expect(answer.ok).toBe(true);
    expect(await answer.json()).toEqual({ answer: 'é' });
    expect(seen.at(-1)).toEqual({ method: 'POST', length: String(Buffer.byteLength('{"q":"é"}')), body: '{"q":"é"}' });
  });

  it('answers a status without a body with a null body and an empty text', async () => {
    const answer = await fetchSubgraph(`${base}/empty`);
    expect(answer.status).toBe(204);
    expect(answer.body).toBeNull();
    expect(await answer.text()).toBe('');
  });

  it('returns a redirect as it is, never following it', async () => {
    const answer = await fetchSubgraph(new URL('/moved', base));
    expect(answer.status).toBe(302);
    expect(answer.ok).toBe(false);
    await answer.arrayBuffer();
  });

  it('errors a body past its bound, and reads one within it whole', async () => {
    await expect((await fetchSubgraph(`${base}/big`, {}, 1024)).text()).rejects.toThrow(/more than 1024 bytes/);
    expect((await (await fetchSubgraph(`${base}/big`)).arrayBuffer()).byteLength).toBe(64 * 1024);
  });
});
