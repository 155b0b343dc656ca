import { describe, expect, it } from 'vitest';
import { hintHeader, storableResult, subgraphHint } from './cache-policy.js';

describe('subgraphHint: an answer is cacheable only when its subgraph allowed it', () => {
  it('gives no default to a subgraph without Cache-Control and without feed versions', () => {
    expect(subgraphHint(null, false, 60)).toEqual({ maxAge: 0, markedPublic: false });
    expect(subgraphHint('public', false, 60)).toEqual({ maxAge: 0, markedPublic: true });
  });

  it('keeps an answer of a subgraph with feed versions for the default when it states no max-age', () => {
    expect(subgraphHint(undefined, true, 60)).toEqual({ maxAge: 60, markedPublic: false });
  });

  it("honours the subgraph's own max-age (s-maxage first: the gateway is a shared cache) and public", () => {
    expect(subgraphHint('max-age=30, public', false, 60)).toEqual({ maxAge: 30, markedPublic: true });
    expect(subgraphHint('Max-Age=30', false, 60)).toEqual({ maxAge: 30, markedPublic: false });
    expect(subgraphHint('max-age=30, s-maxage=5', true, 60)).toEqual({ maxAge: 5, markedPublic: false });
    expect(subgraphHint('max-age=0', true, 60)).toEqual({ maxAge: 0, markedPublic: false });
  });

  it('keeps nothing marked no-store, no-cache or private (entries are not keyed by client)', () => {
    for (const header of ['no-store', 'max-age=60, no-store', 'no-cache, max-age=60', 'max-age=60, private']) {
      expect(subgraphHint(header, true, 60).maxAge).toBe(0);
    }
  });

  it('hands Apollo a header that carries the decision', () => {
    expect(hintHeader({ maxAge: 0, markedPublic: false })).toBe('max-age=0');
    expect(hintHeader({ maxAge: 60, markedPublic: true })).toBe('max-age=60, public');
  });
});

describe('storableResult', () => {
  it('keeps data without errors or extensions other than the cache status', () => {
    expect(storableResult({ data: { a: 1 } })).toBe(true);
    expect(storableResult({ data: { a: 1 }, extensions: { cache: { status: 'MISS' } } })).toBe(true);
  });

  it('keeps nothing a hit would lose: errors, valueCompletion or any other extension', () => {
    expect(storableResult({ data: null })).toBe(false);
    expect(storableResult({ data: { a: null }, errors: [{ message: 'x' }] })).toBe(false);
    expect(storableResult({ data: { a: null }, extensions: { valueCompletion: [{ message: 'Cannot return null' }] } })).toBe(false);
    expect(storableResult({ data: { a: 1 }, extensions: { warnings: ['x'] } })).toBe(false);
  });
});
