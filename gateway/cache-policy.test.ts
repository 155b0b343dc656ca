import { describe, expect, it } from 'vitest';
import { feedAnswer, hintHeader, storableResult, subgraphHint } from './cache-policy.js';

describe('subgraphHint: an answer is cacheable only when its subgraph allowed it', () => {
  it('gives no default to a subgraph without Cache-Control and without feed versions', () => {
    expect(subgraphHint(null, 'none', 60)).toEqual({ maxAge: 0, markedPublic: false });
    expect(subgraphHint('public', 'none', 60)).toEqual({ maxAge: 0, markedPublic: true });
  });

  it('keeps an answer from the feed version it is keyed by for the default when it states no max-age', () => {
    expect(subgraphHint(undefined, 'current', 60)).toEqual({ maxAge: 60, markedPublic: false });
  });

  it('keeps nothing a subgraph answered from another feed version than the key, whatever it states', () => {
    expect(subgraphHint(undefined, 'other', 60).maxAge).toBe(0);
    expect(subgraphHint('max-age=30, public', 'other', 60).maxAge).toBe(0);
  });

  it('gives a feed subgraph that does not say which version it answered from only its own max-age', () => {
    expect(subgraphHint(undefined, 'unstated', 60).maxAge).toBe(0);
    expect(subgraphHint('max-age=30', 'unstated', 60).maxAge).toBe(30);
  });

  it("honours the subgraph's own max-age (s-maxage first: the gateway is a shared cache) and public", () => {
    expect(subgraphHint('max-age=30, public', 'none', 60)).toEqual({ maxAge: 30, markedPublic: true });
    expect(subgraphHint('Max-Age=30', 'none', 60)).toEqual({ maxAge: 30, markedPublic: false });
    expect(subgraphHint('max-age=30, s-maxage=5', 'current', 60)).toEqual({ maxAge: 5, markedPublic: false });
    expect(subgraphHint('max-age=0', 'current', 60)).toEqual({ maxAge: 0, markedPublic: false });
  });

  it('keeps nothing marked no-store, no-cache or private (entries are not keyed by client)', () => {
    for (const header of ['no-store', 'max-age=60, no-store', 'no-cache, max-age=60', 'max-age=60, private']) {
      expect(subgraphHint(header, 'current', 60).maxAge).toBe(0);
    }
  });

  it('hands Apollo a header that carries the decision', () => {
    expect(hintHeader({ maxAge: 0, markedPublic: false })).toBe('max-age=0');
    expect(hintHeader({ maxAge: 60, markedPublic: true })).toBe('max-age=60, public');
  });
});

describe('feedAnswer', () => {
  it("compares the version a subgraph answered from with the operation's", () => {
    expect(feedAnswer(null, 'v1')).toBe('none');
    expect(feedAnswer(undefined, 'v1')).toBe('none');
    expect(feedAnswer('v2', 'v2')).toBe('current');
    expect(feedAnswer('v2', 'v1')).toBe('other');
    expect(feedAnswer('v2', null)).toBe('unstated');
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
