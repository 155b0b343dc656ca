/**
 * Errors are masked in one place: a subgraph's unknown errors reach clients as
 * `INTERNAL_SERVER_ERROR` "Internal server error" with the request id, and nothing of what
 * the subgraph said (its message, stack, URL, HTTP body) leaves the gateway; the gateway's log
 * has all of it. A fake subgraph (node:http, federation-shaped answers) sits behind the real
 * gateway on a supergraph composed for it.
 */
import { createHash } from 'node:crypto';
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
  type Query { redis: String, proxied: String, denied: String, uncoded: String, badDate: String, fine: String }
`;

const SECRET_MESSAGE = 'connect ECONNREFUSED 10.1.2.3:6379 (redis://:secretpw@10.1.2.3:6379)';
const SUBGRAPH_STACK = [
  `Error: ${SECRET_MESSAGE}`,
  '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)',
  '    at /srv/supplier/node_modules/ioredis/built/Redis.js:170:41',
];
const LB_PAGE = '<html><body><h1>400 Bad Request</h1><hr><address>nginx at internal-lb-7.corp.local port 8443</address></body></html>';
const JWT_STACK = 'JsonWebTokenError: jwt malformed\n    at /srv/supplier/node_modules/jsonwebtoken/verify.js:63:17';

/** What the fake subgraph answers, by the root field asked. */
function answer(query: string): { status: number; type: string; body: string } {
  const json = (body: unknown, status = 200) => ({ status, type: 'application/json', body: JSON.stringify(body) });
  if (query.includes('redis'))
    return json({
      data: { redis: null },
      errors: [
        {
          message: SECRET_MESSAGE,
          path: ['redis'],
          extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: SUBGRAPH_STACK, exception: { stacktrace: SUBGRAPH_STACK } },
        },
      ],
    });
  if (query.includes('proxied')) return { status: 400, type: 'text/html', body: LB_PAGE };
  if (query.includes('denied')) return json({ message: 'jwt malformed', stack: JWT_STACK }, 401);
  if (query.includes('uncoded'))
    return json({ data: { uncoded: null }, errors: [{ message: 'relation "supplier_secrets" does not exist', path: ['uncoded'] }] });
  if (query.includes('badDate'))
    return json({
      data: { badDate: null },
      errors: [
        {
          message: 'asOf must be a Date (yyyy-mm-dd)',
          path: ['badDate'],
          extensions: { code: 'BAD_USER_INPUT', stacktrace: SUBGRAPH_STACK, debugUrl: 'http://internal-lb-7.corp.local/' },
        },
      ],
    });
  return json({ data: { fine: 'ok' } });
}

/** Strings that must never reach a client. */
const LEAKS = [
  'ECONNREFUSED',
  '10.1.2.3',
  'secretpw',
  'redis://',
  'node_modules',
  'internal-lb-7',
  'corp.local',
  'jwt malformed',
  'supplier_secrets',
  'stacktrace',
  '"response"',
  '"exception"',
  '127.0.0.1',
  'serviceName',
  'debugUrl',
];

let fake: Server;
let gateway: Listening;
let traced: Listening;
let url: string;
let dir: string;
const lines: string[] = [];

beforeAll(async () => {
  fake = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const { query = '' } = JSON.parse(raw || '{}') as { query?: string };
      const { status, type, body } = answer(query);
      res.writeHead(status, { 'content-type': type }).end(body);
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const subgraphUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/graphql`;
  const composed = composeSupergraph([{ name: 'supplier', url: subgraphUrl, sdl: SDL }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  dir = mkdtempSync(join(tmpdir(), 'msg-masking-'));
  writeFileSync(join(dir, 'supergraph.graphql'), composed.supergraphSdl);
  const start = async (includeStacktrace: string) => {
    const config = loadGatewayConfig({
      SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'),
      GATEWAY_PORT: '0',
      INCLUDE_STACKTRACE: includeStacktrace,
      SUBGRAPH_RETRIES: '0',
    });
    return listen(await buildGatewayService(config, { log: (line) => lines.push(line) }), config.host, config.port);
  };
  gateway = await start('false');
  traced = await start('true');
  url = gateway.url;
});

afterAll(async () => {
  await gateway?.close();
  await traced?.close();
  await new Promise((resolve) => fake?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function ask(query: string, requestId: string, at = url) {
  const response = await fetch(at, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    body: JSON.parse(text) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] },
  };
}

/** The gateway's log lines about one request. */
const logOf = (requestId: string) => lines.filter((line) => line.includes(requestId)).join('\n');

describe('errors masked at the gateway', () => {
  it.each([
    ['a subgraph error carrying a Redis URL and its stack', '{ redis }', 'mask-redis', [SECRET_MESSAGE, 'Redis.js:170:41']],
    [
      "a subgraph's 4xx answer with a load balancer's HTML page",
      '{ proxied }',
      'mask-proxied',
      ['internal-lb-7.corp.local', 'supplier', '400'],
    ],
    ["a subgraph's 401 body with its stack", '{ denied }', 'mask-denied', ['jwt malformed', 'jsonwebtoken/verify.js', '401']],
    ['a subgraph error without a code', '{ uncoded }', 'mask-uncoded', ['supplier_secrets']],
  ])('%s reaches the client as INTERNAL_SERVER_ERROR with the request id, and the log has it all', async (_, query, requestId, logged) => {
    const { body, text } = await ask(query, requestId);
    for (const leak of LEAKS) expect(text).not.toContain(leak);
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } });
    expect(Object.keys(body.errors![0]!.extensions!).sort()).toEqual(['code', 'requestId']);
    const log = logOf(requestId);
    for (const detail of logged) expect(log).toContain(detail);
  });

  it('masks them the same with INCLUDE_STACKTRACE=true, which only adds the stack of public errors', async () => {
    for (const query of ['{ redis }', '{ proxied }', '{ denied }', '{ uncoded }']) {
      const { body, text } = await ask(query, 'mask-traced', traced.url);
      for (const leak of LEAKS) expect(text).not.toContain(leak);
      expect(body.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    }
    const { body } = await ask('{ badDate }', 'mask-traced-public', traced.url);
    expect(body.errors?.[0]?.extensions?.['stacktrace']).toBeDefined();
  });

  it('keeps the message of a public code, and nothing else of what the subgraph added', async () => {
    const { body, text } = await ask('{ badDate }', 'mask-public');
    for (const leak of LEAKS) expect(text).not.toContain(leak);
    expect(body.errors).toEqual([
      { message: 'asOf must be a Date (yyyy-mm-dd)', path: ['badDate'], extensions: { code: 'BAD_USER_INPUT' } },
    ]);
  });

  it('leaves the gateway’s own public errors as they are', async () => {
    const { status, body } = await ask('{ nope }', 'mask-validation');
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/Cannot query field "nope"/),
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    // A client's mistake withholds nothing: it is no operator's business, and not logged.
    expect(logOf('mask-validation')).toBe('');
  });
});

describe('automatic persisted queries', () => {
  it('refuses a sha256Hash that does not match the query: 400 PERSISTED_QUERY_HASH_MISMATCH', async () => {
    const query = '{ fine }';
    const wrong = createHash('sha256').update('{ other }').digest('hex');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: wrong } } }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
    expect(body.errors[0]!.message).toMatch(/sha256Hash .*does not match.*SHA-256/);
    // The right hash registers the query, as before.
    const right = createHash('sha256').update(query).digest('hex');
    const registered = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: right } } }),
    });
    expect(await registered.json()).toMatchObject({ data: { fine: 'ok' } });
  });
});
