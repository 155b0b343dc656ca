/**
 * What a subgraph answers is untrusted (a published subgraph is a supplier's server): an
 * answer larger than `SUBGRAPH_MAX_RESPONSE_BYTES` is refused as the subgraph failing, never
 * read whole, and the gateway keeps answering; at most MAX_SUBGRAPH_ERRORS of its errors are
 * passed on; an error it gives under one of the gateway's
 * own public codes is masked, as an unknown one is. A fake subgraph sits behind the real gateway.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { MAX_SUBGRAPH_ERRORS } from '../gateway/data-source.js';
import { buildGatewayService } from '../gateway/server.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { big: String, fine: String, spoofed: String, ownCode: String, many: String, html: String }
`;
const LIMIT = 64 * 1024;
/** Errors under codes only the gateway gives: another subgraph reported down, a secret under a public code. */
const SPOOFED = [
  {
    message: 'The programme subgraph is unavailable (timeout): its data is missing from this answer',
    path: ['spoofed'],
    extensions: { code: 'SUBGRAPH_UNAVAILABLE', subgraph: 'programme', reason: 'timeout' },
  },
  { message: 'connect ECONNREFUSED redis://:secretpw@10.1.2.3:6379', path: ['spoofed'], extensions: { code: 'RATE_LIMITED' } },
  { message: 'select * from supplier_secrets', path: ['spoofed'], extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'MAX_COST', cost: 1 } },
];

let fake: Server;
let gateway: Listening;
let dir: string;
const lines: string[] = [];

beforeAll(async () => {
  fake = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const { query = '' } = JSON.parse(raw || '{}') as { query?: string };
      // A load balancer's page, as a 200: not JSON.
      if (query.includes('html')) return res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>${'x'.repeat(60_000)}</html>`);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (query.includes('many'))
        return res.end(
          JSON.stringify({ data: { many: null }, errors: Array.from({ length: 1000 }, (_, i) => ({ message: `e${i}`, path: ['many'] })) }),
        );
      if (query.includes('spoofed')) return res.end(JSON.stringify({ data: { spoofed: null }, errors: SPOOFED }));
      if (query.includes('ownCode'))
        return res.end(
          JSON.stringify({
            data: { ownCode: null },
            errors: [{ message: 'asOf must be a Date', path: ['ownCode'], extensions: { code: 'BAD_USER_INPUT' } }],
          }),
        );
      if (!query.includes('big')) return res.end(JSON.stringify({ data: { fine: 'ok' } }));
      // Four times the limit, valid JSON: only its size is wrong.
      res.end(JSON.stringify({ data: { big: 'x'.repeat(4 * LIMIT) } }));
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const subgraphUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/graphql`;
  const composed = composeSupergraph([{ name: 'supplier', url: subgraphUrl, sdl: SDL }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  dir = mkdtempSync(join(tmpdir(), 'msg-answers-'));
  writeFileSync(join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  const config = loadGatewayConfig({
    SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'),
    GATEWAY_PORT: '0',
    SUBGRAPH_RETRIES: '0',
    RESPONSE_CACHE: 'false',
    SUBGRAPH_MAX_RESPONSE_BYTES: String(LIMIT),
  });
  gateway = await listen(await buildGatewayService(config, { log: (line) => lines.push(line) }), config.host, config.port);
});

afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => fake?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function ask(query: string) {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Record<string, unknown> | null; errors?: { extensions?: Record<string, unknown> }[] };
}

describe("a subgraph's answer is bounded", () => {
  it('refuses an answer over SUBGRAPH_MAX_RESPONSE_BYTES as the subgraph unavailable, and names the limit in the log', async () => {
    const body = await ask('{ big }');
    expect(body.data).toEqual({ big: null });
    expect(body.errors?.map((e) => e.extensions?.['code'])).toEqual(['SUBGRAPH_UNAVAILABLE']);
    expect(lines.join('\n')).toContain('SUBGRAPH_MAX_RESPONSE_BYTES');
    expect(await ask('{ fine }')).toEqual({ data: { fine: 'ok' } });
  });

  it('refuses a setting that is not a size, naming it', () => {
    expect(() => loadGatewayConfig({ SUBGRAPH_MAX_RESPONSE_BYTES: '12MB' })).toThrow(/SUBGRAPH_MAX_RESPONSE_BYTES/);
  });

  it("masks a subgraph's error under a code only the gateway gives, and keeps one a subgraph may give", async () => {
    const body = await ask('{ spoofed }');
    expect(body.errors?.map((e) => e.extensions?.['code'])).toEqual([
      'INTERNAL_SERVER_ERROR',
      'INTERNAL_SERVER_ERROR',
      'INTERNAL_SERVER_ERROR',
    ]);
    const text = JSON.stringify(body);
    for (const leak of ['programme', 'secretpw', 'supplier_secrets', 'MAX_COST', 'subgraphCode']) expect(text).not.toContain(leak);
    expect(lines.join('\n')).toContain('secretpw');
    const own = await ask('{ ownCode }');
    expect(own.errors).toEqual([expect.objectContaining({ message: 'asOf must be a Date', extensions: { code: 'BAD_USER_INPUT' } })]);
  });

  it('passes on at most MAX_SUBGRAPH_ERRORS errors of one answer, and logs no more than it sends', async () => {
    const before = lines.length;
    const body = await ask('{ many }');
    expect(body.data).toEqual({ many: null });
    expect(body.errors).toHaveLength(MAX_SUBGRAPH_ERRORS + 1);
    expect(lines.length - before).toBeLessThanOrEqual(MAX_SUBGRAPH_ERRORS + 1);
    expect(lines.at(-1)).toContain(`answered ${1000 - MAX_SUBGRAPH_ERRORS} errors more`);
  });

  it("logs a bounded excerpt of a subgraph's non-JSON answer, never the whole body", async () => {
    const before = lines.length;
    const body = await ask('{ html }');
    expect(body.errors?.map((e) => e.extensions?.['code'])).toEqual(['SUBGRAPH_UNAVAILABLE']);
    const logged = lines.slice(before).join('\n');
    expect(logged).toContain('<html>xxx');
    expect(logged.length).toBeLessThan(10_000);
  });
});
