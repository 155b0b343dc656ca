import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, PrivateRedis } from '../test/redis.js';
import { MemoryCache, RedisCache } from './cache.js';
import { MutationEpochs } from './mutation-epochs.js';

const until = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`never ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('mutation epochs', () => {
  it('starts a missing epoch, keeps it, and changes it on a bump', async () => {
    const epochs = new MutationEpochs(new MemoryCache(1024 * 1024));
    const first = await epochs.read(['a', 'b']);
    expect(first.get('a')).toEqual(expect.any(String));
    expect(await epochs.read(['a', 'b'])).toEqual(first);
    await epochs.bump(['a']);
    const after = await epochs.read(['a', 'b']);
    expect(after.get('a')).not.toBe(first.get('a'));
    expect(after.get('b')).toBe(first.get('b'));
  });
});

describe('mutation epochs on Redis', () => {
  const redis = new PrivateRedis(0);
  let cache: RedisCache;
  beforeAll(async () => {
    redis.port = await freePort();
    await redis.start();
    cache = new RedisCache({ url: redis.url, prefix: 'epochs-test:' });
    await until(() => cache.health().available, 'connected');
  });
  afterAll(async () => {
    await cache.close();
    await redis.stop();
  });

  it('makes a bump that Redis missed (connection lost, data kept) before anything is read again', async () => {
    const epochs = new MutationEpochs(cache);
    const before = (await epochs.read(['s'])).get('s');
    const admin = new Redis(redis.url);
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    admin.disconnect();
    await until(() => !cache.health().available, 'disconnected');
    await epochs.bump(['s']);
    expect(epochs.pending).toBe(true);
    await until(() => cache.health().available, 'reconnected');
    expect((await epochs.read(['s'])).get('s')).not.toBe(before);
    expect(epochs.pending).toBe(false);
  });
});
