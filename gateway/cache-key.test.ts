import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, MAX_KEY_DEPTH } from './cache-key.js';

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
