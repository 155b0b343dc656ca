/**
 * A corpus of bad requests to the gateway: each is answered with a clear 4xx or GraphQL error
 * naming what is wrong, no subgraph is called for an operation refused by a limit, and the
 * gateway keeps serving good requests afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../scripts/stack.js';
import { query, startTestStack } from './helpers.js';

interface BadRequest {
  readonly name: string;
  readonly method?: 'GET' | 'POST';
  readonly contentType?: string | null;
  /** The raw body, or a value sent as JSON. */
  readonly body?: string | unknown;
  readonly search?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
  readonly message: RegExp;
}

const nest = (levels: number) => '{ clusters { ' + 'trusts { cluster { '.repeat(levels) + 'id' + ' } }'.repeat(levels) + ' } }';
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: programme { completionTargetYear }`).join(' ')} }`;
const BODY_LIMIT = 64 * 1024;

const CORPUS: readonly BadRequest[] = [
  { name: 'deep nesting', body: { query: nest(8) }, status: 400, code: 'QUERY_TOO_COMPLEX', message: /depth limit of 12 .*MAX_DEPTH/i },
  {
    name: 'alias bomb',
    body: { query: aliases(100) },
    status: 400,
    code: 'QUERY_TOO_COMPLEX',
    message: /aliases limit of 30 .*MAX_ALIASES/i,
  },
  {
    name: 'too many directives',
    body: { query: `{ programme ${'@include(if: true) '.repeat(40)}{ completionTargetYear } }` },
    status: 400,
    code: 'QUERY_TOO_COMPLEX',
    message: /directives limit of 20 .*MAX_DIRECTIVES/i,
  },
  {
    name: 'too many tokens',
    body: { query: `{ programme { ${'x '.repeat(4000)} } }` },
    status: 400,
    code: 'GRAPHQL_PARSE_FAILED',
    message: /more th(?:an|at) 3000 tokens.*\(MAX_TOKENS\)/,
  },
  {
    name: 'a list-heavy query (cost)',
    body: {
      query:
        '{ clusters { trusts { cluster { trusts { cluster { trusts { cluster { trusts { cluster { trusts { odsCode } } } } } } } } } } }',
    },
    status: 400,
    code: 'QUERY_TOO_COMPLEX',
    message: /cost \d+ exceeds the limit of 200000 \(MAX_COST\)/,
  },
  {
    name: 'a huge string',
    body: { query: `{ release(code: "${'R'.repeat(BODY_LIMIT)}") { name } }` },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: /larger than 65536 bytes/,
  },
  {
    name: 'oversized variables',
    body: { query: 'query ($code: ID!) { release(code: $code) { name } }', variables: { code: 'x'.repeat(BODY_LIMIT) } },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: /larger than 65536 bytes/,
  },
  { name: 'invalid JSON', body: '{"query": "{ releases { code } }"', status: 400, code: 'BAD_REQUEST', message: /not valid JSON/ },
  {
    name: 'text/plain',
    contentType: 'text/plain',
    body: '{ releases { code } }',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /application\/json, not text\/plain/,
  },
  {
    name: 'a form post',
    contentType: 'application/x-www-form-urlencoded',
    body: 'query=%7B%20releases%20%7B%20code%20%7D%20%7D',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /application\/json/,
  },
  {
    name: 'no content type',
    contentType: null,
    body: '{"query":"{ releases { code } }"}',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /\(none\)/,
  },
  {
    name: 'an unknown operation name',
    body: { query: 'query A { releases { code } } query B { clusters { id } }', operationName: 'C' },
    status: 400,
    code: 'OPERATION_RESOLUTION_FAILURE',
    message: /Unknown operation named "C"/,
  },
  {
    name: 'an unknown field',
    body: { query: '{ releases { nope } }' },
    status: 400,
    code: 'GRAPHQL_VALIDATION_FAILED',
    message: /Cannot query field "nope"/,
  },
  { name: 'a syntax error', body: { query: '{ releases { code }' }, status: 400, code: 'GRAPHQL_PARSE_FAILED', message: /Syntax Error/ },
  { name: 'no query', body: {}, status: 400, code: 'BAD_REQUEST', message: /POST body missing|JSON object has no keys/ },
  {
    name: 'variables that are not an object',
    body: { query: '{ releases { code } }', variables: 'R2' },
    status: 400,
    code: 'BAD_REQUEST',
    message: /variables/,
  },
  {
    name: 'an unknown persisted operation',
    body: { documentId: 'DropTables' },
    status: 404,
    code: 'PERSISTED_QUERY_NOT_FOUND',
    message: /DropTables|not found/i,
  },
  {
    name: 'a batched request (batching off)',
    body: [{ query: '{ releases { code } }' }, { query: '{ clusters { id } }' }],
    status: 400,
    code: 'BAD_REQUEST',
    message: /batching/i,
  },
  {
    name: 'a GET without a CSRF-safe header',
    method: 'GET',
    contentType: null,
    search: '?query=%7B%20releases%20%7B%20code%20%7D%20%7D',
    status: 400,
    code: 'BAD_REQUEST',
    message: /Cross-Site Request Forgery/,
  },
  {
    name: 'a mutation (there are none)',
    body: { query: 'mutation { drop }' },
    status: 400,
    code: 'OPERATION_RESOLUTION_FAILURE',
    message: /no mutation operations/,
  },
];

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack({ env: { BODY_LIMIT: String(BODY_LIMIT), RATE_LIMIT_REQUESTS: '0' }, log: () => {} });
});
afterAll(() => stack.close());

async function send(request: BadRequest): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { ...request.headers };
  const contentType = request.contentType === undefined ? 'application/json' : request.contentType;
  let body: string | Blob | undefined;
  if (request.body !== undefined) body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  if (contentType) headers['content-type'] = contentType;
  // fetch adds text/plain to a string body without a type; an untyped Blob sends none.
  if (contentType === null && typeof body === 'string') body = new Blob([body]);
  const response = await fetch(stack.gatewayUrl + (request.search ?? ''), {
    method: request.method ?? 'POST',
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) };
}

describe('bad requests to the gateway', () => {
  it.each(CORPUS)('$name: $status $code', async (request) => {
    const { status, body } = await send(request);
    expect(status).toBe(request.status);
    expect(body.data ?? null).toBeNull();
    const error = body.errors?.[0];
    expect(error?.extensions?.code).toBe(request.code);
    expect(error?.message).toMatch(request.message);
    // No stack traces, no internals.
    expect(JSON.stringify(body)).not.toMatch(/stacktrace|node_modules|at \w+ \(/);
  });

  it('refuses over-limit operations before calling any subgraph', async () => {
    const fetches = async () => {
      const text = await (await fetch(stack.gatewayUrl.replace('/graphql', '/metrics'))).text();
      return [...text.matchAll(/^gateway_subgraph_fetch_duration_seconds_count\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const before = await fetches();
    for (const request of CORPUS.filter((r) => r.code === 'QUERY_TOO_COMPLEX')) expect((await send(request)).status).toBe(400);
    expect(await fetches()).toBe(before);
  });

  it('is unharmed: still answers, and is still healthy', async () => {
    const data = await query(stack.gatewayUrl, '{ compareRelease(code: "R2") { divergent } }');
    expect(data.compareRelease.divergent).toBe(true);
    expect((await fetch(stack.gatewayUrl.replace('/graphql', '/health'))).status).toBe(200);
  });
});
