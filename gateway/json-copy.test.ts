import { describe, expect, it } from 'vitest';
import { copyJson } from './json-copy.js';

/** Every array and object of a value, depth first. */
function containers(value: unknown, out: object[] = []): object[] {
  if (value !== null && typeof value === 'object') {
    out.push(value);
    for (const child of Object.values(value)) containers(child, out);
  }
  return out;
}

describe('copyJson', () => {
  it('copies a parsed answer: equal, and sharing no array or object with it', () => {
    const answer = JSON.parse(
      '{"data":{"topProducts":[{"upc":"1","price":899,"inStock":true,"reviews":[{"id":"1","body":"x","author":null}]}]},"errors":[{"message":"m","path":["a",0]}]}',
    ) as unknown;
    const copy = copyJson(answer);
    expect(copy).toEqual(answer);
    const originals = new Set(containers(answer));
    expect(containers(copy).filter((c) => originals.has(c))).toEqual([]);
  });

  it('lets an operation write into its copy without touching the other operations’ answers', () => {
    const shared = { data: { product: { upc: '1' } } };
    const copy = copyJson(shared);
    Object.assign(copy.data.product, { reviews: [] });
    expect(shared).toEqual({ data: { product: { upc: '1' } } });
  });

  it('keeps a "__proto__" key as a key, as JSON.parse made it, never as the prototype', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const copy = copyJson(parsed);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('shares what is not an array or a plain object (an answer’s http with its Headers)', () => {
    const http = { headers: new Headers({ 'cache-control': 'max-age=5' }) };
    const copy = copyJson({ data: {}, http });
    expect(copy.http.headers).toBe(http.headers);
  });

  it('copies an answer nested 100,000 deep (arrays in objects in arrays) without exhausting the stack', () => {
    const deep = JSON.parse(`${'[{"a":'.repeat(50_000)}1${'}]'.repeat(50_000)}`) as unknown;
    const copied = copyJson(deep);
    // Walked without recursion too: every level is a new container with the same shape.
    let original = deep as unknown[];
    let copy = copied as unknown[];
    let shared = 0;
    for (let level = 0; level < 50_000; level++) {
      const [inner, innerCopy] = [original[0] as { a: unknown }, copy[0] as { a: unknown }];
      if (copy === original || innerCopy === inner) shared += 1;
      [original, copy] = [inner.a as unknown[], innerCopy.a as unknown[]];
    }
    expect(shared).toBe(0);
    expect(copy).toBe(1);
  });
});
