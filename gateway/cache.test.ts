import { describe, expect, it } from 'vitest';
import { bytesOf, MemoryCache } from './cache.js';

describe('the in-memory cache', () => {
  it('counts what V8 stores: one byte a character for Latin-1 text, two for any other', () => {
    expect(bytesOf('{"a":"café"}')).toBe(12);
    expect(bytesOf('{"a":"it’s"}')).toBe(24);
  });

  it('keeps within CACHE_MAX_BYTES when answers hold characters outside Latin-1', async () => {
    const cache = new MemoryCache(1000);
    // 400 characters each, 800 bytes each as V8 keeps them: both together exceed the bound.
    await cache.set('a', '’'.repeat(400));
    await cache.set('b', '’'.repeat(400));
    expect(await cache.get('b')).toBeDefined();
    expect(await cache.get('a')).toBeUndefined();
  });

  it('keeps Latin-1 answers up to the bound', async () => {
    const cache = new MemoryCache(1000);
    await cache.set('a', 'x'.repeat(400));
    await cache.set('b', 'x'.repeat(400));
    expect(await cache.get('a')).toBeDefined();
    expect(await cache.get('b')).toBeDefined();
  });
});
