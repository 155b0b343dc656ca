/**
 * What a subgraph answers is untrusted (a published subgraph is a supplier's server): an
 * answer larger than `SUBGRAPH_MAX_RESPONSE_BYTES` is refused as the subgraph failing, never
 * read whole, and the gateway keeps answering. A fake subgraph sits behind the real gateway.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { buildGatewayService } from '../gateway/server.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { big: String, fine: String }
`;
const LIMIT = 64 * 1024;

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
      res.writeHead(200, { 'content-type': 'application/json' });
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
});
