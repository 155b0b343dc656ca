import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { readRequestCount, startRequestCounter } from './request-counter.js';

describe('the benchmark request counter', () => {
  const server = createServer((req, res) => req.resume().on('end', () => res.end('{}')));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("counts the POSTs of the process's servers, not GETs nor its own reads", async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const counter = await startRequestCounter();
    try {
      const before = await readRequestCount(counter.url);
      for (let i = 0; i < 3; i += 1) await (await fetch(url, { method: 'POST', body: '{}' })).text();
      await (await fetch(url)).text();
      expect(await readRequestCount(counter.url)).toBe(before + 3);
      expect(counter.count()).toBe(before + 3);
    } finally {
      await counter.close();
    }
  });
});
