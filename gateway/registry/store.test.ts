import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisRegistryStore } from './redis-store.js';
import {
  EMPTY_REGISTRY,
  FileRegistryStore,
  mergeOperations,
  RegistryUnavailableError,
  type RecordedOperation,
  type RegistryState,
  type RegistryStore,
} from './store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const state = (version: number, names: string[]): RegistryState => ({
  version,
  subgraphs: names.map((name) => ({
    name,
    url: `http://${name}/graphql`,
    sdl: 'type Query { a: Int }',
    version: 1,
    publishedAt: 'now',
    publishedBy: 'X',
  })),
  change: null,
});

describe('the file registry store', () => {
  it('changes only from the version it was given, keeps history, and survives a new instance (a restart)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msg-store-'));
    dirs.push(dir);
    const store = new FileRegistryStore(dir);
    expect((await store.current()).version).toBe(0);
    const racing = await Promise.all([store.compareAndSet(0, state(1, ['a'])), store.compareAndSet(0, state(1, ['b']))]);
    expect(racing.sort()).toEqual([false, true]);
    expect(await store.compareAndSet(1, state(2, ['a', 'c']))).toBe(true);
    await store.close();
    const again = new FileRegistryStore(dir);
    expect((await again.current()).subgraphs.map((s) => s.name)).toEqual(['a', 'c']);
    expect((await again.history()).map((s) => s.version)).toEqual([2, 1]);
    await again.recordOperations([{ name: 'Q', document: '{ a }', lastSeen: '2026-01-01' }], 50);
    await again.recordOperations([{ name: 'Q', document: '{ a b }', lastSeen: '2026-01-02' }], 50);
    expect(await again.recentOperations()).toEqual([{ name: 'Q', document: '{ a b }', lastSeen: '2026-01-02' }]);
    await again.close();
  });
});

const backends: [string, () => RegistryStore][] = [
  [
    'file',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'msg-store-'));
      dirs.push(dir);
      return new FileRegistryStore(dir);
    },
  ],
  ['Redis', () => new RedisRegistryStore('redis://127.0.0.1:6379', `test:${randomUUID()}:registry:`)],
];

describe.each(backends)('the %s registry store', (_name, open) => {
  it('withdraws a change as if it had never been stored, only while it is still current', async () => {
    const store = open();
    try {
      expect(await store.compareAndSet(0, state(1, ['a']))).toBe(true);
      expect(await store.compareAndSet(1, state(2, ['a', 'b']))).toBe(true);
      expect(await store.withdraw(state(2, ['a', 'b']), state(1, ['a']))).toBe(true);
      expect(await store.current()).toEqual(state(1, ['a']));
      expect((await store.history()).map((s) => s.version)).toEqual([1]);
      // The next change takes the withdrawn version's number.
      expect(await store.compareAndSet(1, state(2, ['c']))).toBe(true);
      expect(await store.withdraw(state(1, ['a']), EMPTY_REGISTRY)).toBe(false);
      expect(await store.withdraw(state(2, ['c']), state(1, ['a']))).toBe(true);
      expect(await store.withdraw(state(1, ['a']), EMPTY_REGISTRY)).toBe(true);
      expect(await store.current()).toEqual(EMPTY_REGISTRY);
      expect(await store.history()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('merging recorded operations', () => {
  it('keeps the newest of each client when many are seen in one millisecond, merged one at a time', () => {
    // The recorder merges each operation into its pending list as it is seen: on a fast
    // machine ten of them share one timestamp, and the order seen must still decide.
    const at = '2026-12-01T12:00:00.000Z';
    const seen = (name: string): RecordedOperation => ({ name, document: `query ${name} { a }`, lastSeen: at, client: 'a' });
    let kept: RecordedOperation[] = [];
    for (let i = 0; i < 10; i++) kept = mergeOperations(kept, [seen(`Busy${i}`)], 3);
    expect(kept.map((op) => op.name)).toEqual(['Busy9', 'Busy8', 'Busy7']);
    // Seen again, an operation takes its new place.
    kept = mergeOperations(kept, [seen('Busy7')], 3);
    expect(kept.map((op) => op.name)).toEqual(['Busy7', 'Busy9', 'Busy8']);
  });
});

describe('a damaged registry file', () => {
  it('is refused as unavailable, naming the file and what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msg-store-'));
    dirs.push(dir);
    const store = new FileRegistryStore(dir);
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ current: { version: 1, subgraphs: [{ name: 'nme' }] }, history: [] }));
    await expect(store.current()).rejects.toThrow(RegistryUnavailableError);
    await expect(store.current()).rejects.toThrow(/state\.json \(current\) is not a registry state/);
    writeFileSync(join(dir, 'state.json'), '{"current": ');
    await expect(store.history()).rejects.toThrow(/state\.json cannot be read: /);
    await store.close();
  });
});
