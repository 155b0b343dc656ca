import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRegistryStore, type RegistryState } from './store.js';

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
