import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, inflightKey, MAX_KEY_DEPTH } from './cache-key.js';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

describe('canonicalJson', () => {
  it('writes what JSON.stringify writes, with object keys sorted', () => {
    const value = { b: [1, 'two', null, { d: true, c: undefined }], a: { y: 2.5, x: 'é"\n' }, u: undefined };
    expect(canonicalJson(value)).toBe('{"a":{"x":"é\\"\\n","y":2.5},"b":[1,"two",null,{"d":true}]}');
    expect(JSON.parse(canonicalJson(value)!)).toEqual(JSON.parse(JSON.stringify(value)));
    expect(canonicalJson([undefined, () => 1])).toBe('[null,null]');
    expect(canonicalJson(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
  });

  it('gives {a,b} and {b,a} the same text', () => {
    expect(canonicalJson({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalJson({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it('refuses, without recursing, a value nested deeper than the bound (200,000 deep)', () => {
    expect(canonicalJson(nested(MAX_KEY_DEPTH - 1))).not.toBeNull();
    expect(canonicalJson(nested(MAX_KEY_DEPTH + 1))).toBeNull();
    expect(canonicalJson(JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`))).toBeNull();
  });
});

describe('cacheKey', () => {
  it('is the namespace and a hash of the parts, the same for reordered objects', () => {
    const key = cacheKey('rc', 'v1', { a: 1, b: 2 });
    expect(key).toMatch(/^rc:[0-9a-f]{64}$/);
    expect(cacheKey('rc', 'v1', { b: 2, a: 1 })).toBe(key);
    expect(cacheKey('rc', 'v2', { a: 1, b: 2 })).not.toBe(key);
    expect(cacheKey('ec', 'v1', { a: 1, b: 2 })).not.toBe(key);
  });

  it('is null for a part nested deeper than the bound', () => {
    expect(cacheKey('rc', nested(MAX_KEY_DEPTH))).not.toBeNull();
    expect(cacheKey('rc', nested(MAX_KEY_DEPTH + 1))).toBeNull();
    expect(cacheKey('rc', { deep: nested(100_000) })).toBeNull();
  });
});

describe('inflightKey', () => {
  it('is the same for the same request, and differs when any part does', () => {
    const query = 'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { name } } }';
    const representations = [{ __typename: 'Product', upc: '1' }];
    const key = inflightKey(query, { representations }, null, { 'x-subgraphs': 'a,b' });
    expect(inflightKey(query, { representations: [{ __typename: 'Product', upc: '1' }] }, null, { 'x-subgraphs': 'a,b' })).toBe(key);
    expect(inflightKey(query, { representations: [{ __typename: 'Product', upc: '2' }] }, null, { 'x-subgraphs': 'a,b' })).not.toBe(key);
    expect(inflightKey(query, { representations }, '2026-01-01T00:00:00.000Z', { 'x-subgraphs': 'a,b' })).not.toBe(key);
    expect(inflightKey(query, { representations }, null, { 'x-subgraphs': 'a' })).not.toBe(key);
    // Parts never run into each other: ("ab", "c") is not ("a", "bc").
    expect(inflightKey('ab', 'c')).not.toBe(inflightKey('a', 'bc'));
  });

  it('is null for parts JSON cannot write (too deep for the stack, cyclic), so that fetch is made alone', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(inflightKey('q', cyclic)).toBeNull();
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = { a: deep };
    expect(inflightKey('q', deep)).toBeNull();
  });
});
