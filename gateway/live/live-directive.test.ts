import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { readLive } from './live-directive.js';

describe('readLive', () => {
  it('reads @live off a query and removes it, so neither validation nor a subgraph sees it', () => {
    const read = readLive('query Matrix @live { releases { code } }', null, 1000);
    expect(read).toMatchObject({ live: true });
    expect((read as { query: string }).query).not.toMatch(/@live/);
    expect((read as { query: string }).query).toMatch(/query Matrix/);
  });

  it('leaves a document without @live exactly as sent', () => {
    const query = '{ releases { code } }  # a comment';
    expect(readLive(query, null, 1000)).toEqual({ live: false, query });
  });

  it('reads the operation the request names', () => {
    const query = 'query A @live { a } query B { b }';
    expect(readLive(query, 'A', 1000)).toMatchObject({ live: true });
    const b = readLive(query, 'B', 1000);
    expect(b).toMatchObject({ live: false });
    expect((b as { query: string }).query).not.toMatch(/@live/);
  });

  it('refuses @live on a mutation', () => {
    const read = readLive('mutation M @live { x }', null, 1000);
    expect(read).toBeInstanceOf(GraphQLError);
    expect((read as GraphQLError).message).toMatch(/queries only, not to the mutation M/);
  });

  it('leaves a document it cannot parse (or one over MAX_TOKENS) to Apollo, which reports it', () => {
    expect(readLive('query @live {', null, 1000)).toEqual({ live: false, query: 'query @live {' });
    const long = `query Q @live { ${'a '.repeat(100)}}`;
    expect(readLive(long, null, 10)).toEqual({ live: false, query: long });
  });
});
