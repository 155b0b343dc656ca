import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryCache } from './cache.js';
import { EntityCache } from './entity-cache.js';

const QUERY = 'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { stock } } }';
const variables = {
  representations: [
    { __typename: 'Product', id: '1' },
    { __typename: 'Product', id: '2' },
  ],
};

afterEach(() => {
  vi.useRealTimers();
});

describe('the entity cache', () => {
  it('keys by subgraph, feed version and mutation epoch, so a mutation makes every entity a miss', async () => {
    const cache = new EntityCache(new MemoryCache(1024 * 1024));
    const before = cache.keys('inventory', null, 'epoch-1', QUERY, variables)!;
    await cache.set([[before[0]!, { stock: 5 }]], 60);
    expect((await cache.get(before)).map((e) => e?.entity)).toEqual([{ stock: 5 }, undefined]);
    const after = cache.keys('inventory', null, 'epoch-2', QUERY, variables)!;
    expect(after[0]).not.toBe(before[0]);
    expect(await cache.get(after)).toEqual([undefined, undefined]);
    expect(cache.keys('inventory', 'v2', 'epoch-1', QUERY, variables)![0]).not.toBe(before[0]);
  });

  it('keeps an entity only as long as its answer allowed, and says how long is left', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    const cache = new EntityCache(new MemoryCache(1024 * 1024));
    const keys = cache.keys('inventory', 'v1', 'e', QUERY, variables)!;
    await cache.set([[keys[0]!, { stock: 5 }]], 30);
    await cache.set([[keys[1]!, { stock: 6 }]], 0);
    vi.setSystemTime(1_000_000 + 10_000);
    expect(await cache.get(keys)).toEqual([{ entity: { stock: 5 }, maxAge: 20 }, undefined]);
    vi.setSystemTime(1_000_000 + 30_000);
    expect(await cache.get(keys)).toEqual([undefined, undefined]);
  });

  it('does not key representations nested too deep, instead of failing the fetch', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const cache = new EntityCache(new MemoryCache(1024));
    expect(cache.keys('inventory', null, 'e', QUERY, { representations: [{ __typename: 'Product', id: deep }] })).toBeNull();
  });
});
