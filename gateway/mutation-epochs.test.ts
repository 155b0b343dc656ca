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

describe('mutation epochs in memory', () => {
  it('gives an operation the epochs it started with, whatever a bump does meanwhile', async () => {
    const epochs = new MutationEpochs(new MemoryCache(1024 * 1024));
    const started = await epochs.read(['s']);
    const before = started.get('s');
    await epochs.bump(['s']);
    expect(started.get('s')).toBe(before);
    const { epochs: now } = await epochs.withEntry('k', ['s']);
    expect(now.get('s')).not.toBe(before);
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

  it('reads an entry and the epochs in one lookup, a bump through another instance included', async () => {
    const one = new MutationEpochs(cache);
    const two = new MutationEpochs(cache);
    await cache.set('entry', 'stored');
    const before = (await one.read(['t'])).get('t');
    await two.bump(['t']);
    const { stored, epochs } = await one.withEntry('entry', ['t']);
    expect(stored).toBe('stored');
    expect(epochs.get('t')).not.toBe(before);
  });
});
