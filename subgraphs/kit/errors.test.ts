/**
 * A kit subgraph masks errors as the gateway does: an unknown resolver error leaves it as
 * `INTERNAL_SERVER_ERROR` "Internal server error" (with the gateway's request id), logged in
 * full; errors with a public code keep their message.
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, GraphQLErrorWithCode } from '../../schema/errors.js';
import { DateScalar } from './date.js';
import { maskError } from './errors.js';
import { createService, listen, subgraphApollo, type Listening } from './http.js';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  scalar Date
  type Query { broken: String, feed: String, mine: String, on(day: Date!): String }
`;

const SECRET = 'connect ECONNREFUSED 10.1.2.3:6379 (redis://:secretpw@10.1.2.3:6379)';

let subgraph: Listening;
const lines: string[] = [];

beforeAll(async () => {
  const schema = buildSubgraphSchema({
    typeDefs: parse(SDL),
    resolvers: {
      Date: DateScalar,
      Query: {
        broken: () => {
          throw new Error(SECRET);
        },
        feed: () => {
          throw new GraphQLErrorWithCode('south-2010-06-30.csv line 4, field goLive: not a date', ErrorCode.FEED_INVALID, {
            file: '/srv/feeds/south',
          });
        },
        // A code the supplier made up is not public.
        mine: () => {
          throw new GraphQLErrorWithCode('pool exhausted at db-3.corp.local', 'DB_POOL' as ErrorCode);
        },
        on: (_: unknown, args: { day: string }) => args.day,
      },
    },
  });
  subgraph = await listen(
    await createService({
      name: 'kitsub',
      apollo: subgraphApollo(schema, { name: 'kitsub', log: (line) => lines.push(line) }),
      context: async () => ({}),
    }),
    '127.0.0.1',
    0,
  );
});

afterAll(() => subgraph?.close());

async function ask(query: string, requestId = 'kit-req-1') {
  const response = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ query }),
  });
  const text = await response.text();
  return { text, body: JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe("a kit subgraph's errors", () => {
  it.each([
    ['an unknown resolver error', '{ broken }', 'kit-broken', SECRET],
    ['a code outside the catalogue', '{ mine }', 'kit-mine', 'db-3.corp.local'],
  ])('masks %s as INTERNAL_SERVER_ERROR and logs it in full', async (_, query, requestId, secret) => {
    const { text, body } = await ask(query, requestId);
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/stacktrace|secretpw|corp\.local/);
    expect(body.errors?.[0]).toMatchObject({
      message: 'Internal server error',
      path: [query.slice(2, -2)],
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
    });
    const log = lines.filter((line) => line.includes(requestId)).join('\n');
    expect(log).toContain(secret);
    expect(log).toMatch(/^kitsub: /);
    expect(log).toMatch(/errors\.test\.ts:\d+/);
  });

  it('keeps the message of a public code and drops its other extensions', async () => {
    const { body } = await ask('{ feed }');
    expect(body.errors?.[0]).toMatchObject({
      message: 'south-2010-06-30.csv line 4, field goLive: not a date',
      extensions: { code: 'FEED_INVALID' },
    });
    expect(body.errors?.[0]?.extensions).not.toHaveProperty('file');
    const bad = await ask('{ on(day: "2007-02-30") }');
    expect(bad.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/Date must be an ISO date/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});

describe('maskError', () => {
  it('never shows a masked message, even with INCLUDE_STACKTRACE=true', () => {
    const formatted = { message: SECRET, extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: [`Error: ${SECRET}`] } };
    const { shown, masked } = maskError(formatted, new Error(SECRET), { includeStacktrace: true });
    expect(masked).toBe(true);
    expect(shown).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it("keeps a public error's stack trace only with INCLUDE_STACKTRACE=true", () => {
    const formatted = { message: 'Date must be…', extensions: { code: 'BAD_USER_INPUT', stacktrace: ['GraphQLError: Date must be…'] } };
    expect(maskError(formatted, null).shown.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(maskError(formatted, null, { includeStacktrace: true }).shown.extensions).toHaveProperty('stacktrace');
  });

  it("keeps the extensions the catalogue lists for a code, and no other's", () => {
    const limit = { message: 'too deep (MAX_DEPTH)', extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'MAX_DEPTH', subgraph: 'x' } };
    expect(maskError(limit, null)).toMatchObject({
      shown: { extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'MAX_DEPTH' } },
      withheld: ['subgraph'],
    });
  });
});
