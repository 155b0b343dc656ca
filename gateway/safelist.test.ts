import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { indexPersisted, loadPersistedOperations, operationHash, persistedResolver, type OnUnlisted } from './persisted-operations.js';
import { PersistedManifest, unlistedReporter } from './safelist.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-safelist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shipped = indexPersisted(loadPersistedOperations());
const matrix = shipped.operations.get('ReleaseMatrix')!.body;
const UNLISTED = 'query Mine { programme { name } }';

function manifestText(ops: { id: string; body: string }[]): string {
  return JSON.stringify({
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: ops.map((op) => ({ ...op, name: op.id, type: 'query' })),
  });
}

const until = async (check: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('persistedResolver, by stage', () => {
  const seen: Parameters<OnUnlisted>[0][] = [];
  afterEach(() => void seen.splice(0));
  const resolver = (stage: 'off' | 'log' | 'enforce') =>
    persistedResolver({ manifest: () => shipped, stage, onUnlisted: (op) => seen.push(op) });

  it('enforce refuses text outside the manifest, and serves what is in it', () => {
    expect(resolver('enforce')(undefined, UNLISTED)).toMatchObject({ status: 400, code: 'OPERATION_NOT_PERSISTED' });
    expect(resolver('enforce')(undefined, matrix)).toEqual({ query: matrix });
    expect(seen).toEqual([]);
  });

  it('log serves text outside the manifest and reports it with its hash; manifest text and ids are not reported', () => {
    expect(resolver('log')(undefined, UNLISTED)).toEqual({ query: UNLISTED });
    expect(resolver('log')(undefined, matrix)).toEqual({ query: matrix });
    expect(resolver('log')('ReleaseMatrix', undefined)).toEqual({ query: matrix });
    expect(seen).toEqual([{ text: UNLISTED, hash: operationHash(UNLISTED) }]);
    // The hash is the text's SHA-256 in hex (what APQ clients send), not merely some digest.
    expect(operationHash(UNLISTED)).toBe('2af6e7f9a324aa83636ad252a3d6632bdef87476d0c3b7eb4e83bebad7679a7b');
  });

  it('log reports an APQ hash that is no manifest operation, not one that is', () => {
    expect(resolver('log')(undefined, undefined, 'ab'.repeat(32))).toEqual({ query: undefined });
    resolver('log')(undefined, undefined, operationHash(matrix));
    expect(seen).toEqual([{ text: undefined, hash: 'ab'.repeat(32) }]);
  });

  it('off serves anything and reports nothing; an unknown id is refused in every stage', () => {
    expect(resolver('off')(undefined, UNLISTED)).toEqual({ query: UNLISTED });
    expect(seen).toEqual([]);
    for (const stage of ['off', 'log', 'enforce'] as const)
      expect(resolver(stage)('Nope', undefined)).toMatchObject({ status: 404, code: 'PERSISTED_QUERY_NOT_FOUND' });
  });
});

describe('unlistedReporter', () => {
  it('counts every request, and logs each operation once per interval with its name and hash', async () => {
    const log: string[] = [];
    let counted = 0;
    const report = unlistedReporter({ log: (l) => log.push(l), count: () => counted++, againMs: 100 });
    for (let i = 0; i < 50; i++) report({ text: UNLISTED, hash: operationHash(UNLISTED) });
    report({ text: '{ releases { code } }', hash: operationHash('{ releases { code } }') });
    expect(counted).toBe(51);
    expect(log).toEqual([
      `gateway: served operation "Mine" (sha256 ${operationHash(UNLISTED)}) that is not in the persisted-operation manifest (PERSISTED_OPERATIONS_ONLY=log); add it to the manifest before enforcing`,
      expect.stringContaining('served operation (anonymous) (sha256 '),
    ]);
    await new Promise((r) => setTimeout(r, 120));
    report({ text: UNLISTED, hash: operationHash(UNLISTED) });
    expect(log[2]).toContain('"Mine"');
    expect(log[2]).toContain('50 requests of it since last logged');
  });
});

describe('PersistedManifest', () => {
  let manifest: PersistedManifest | null = null;
  afterEach(() => manifest?.close());

  it('reloads when the file changes, in place or replaced by a rename', async () => {
    const file = join(dir, 'reload.json');
    writeFileSync(file, manifestText([{ id: 'A', body: 'query A { programme { name } }' }]));
    const log: string[] = [];
    manifest = new PersistedManifest({ file, log: (l) => log.push(l), pollMs: 50 });
    expect([...manifest.current().operations.keys()]).toEqual(['A']);
    writeFileSync(
      file,
      manifestText([
        { id: 'A', body: 'query A { programme { name } }' },
        { id: 'B', body: UNLISTED },
      ]),
    );
    await until(() => manifest!.current().operations.has('B'));
    expect(manifest.current().bodies.has(UNLISTED)).toBe(true);
    expect(log).toEqual([`gateway: reloaded PERSISTED_OPERATIONS_FILE=${JSON.stringify(file)}: 2 operations`]);
    writeFileSync(`${file}.new`, manifestText([{ id: 'C', body: UNLISTED }]));
    renameSync(`${file}.new`, file);
    await until(() => manifest!.current().operations.has('C'));
  });

  it('keeps the manifest it has when the new file is broken, and logs the file and the problem', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, manifestText([{ id: 'A', body: 'query A { programme { name } }' }]));
    const log: string[] = [];
    manifest = new PersistedManifest({ file, log: (l) => log.push(l), pollMs: 50 });
    writeFileSync(file, '{ "format": "apollo-persisted-query-manifest", ');
    await until(() => log.length > 0);
    expect(log[0]).toMatch(
      new RegExp(
        `^gateway: PERSISTED_OPERATIONS_FILE=${JSON.stringify(file)} is not JSON: .*; keeping the 1 persisted operations loaded before$`,
      ),
    );
    expect([...manifest.current().operations.keys()]).toEqual(['A']);
    writeFileSync(file, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'X' }] }));
    await until(() => log.length > 1);
    expect(log[1]).toMatch(/is not an Apollo persisted query manifest: .*\(at operations\.0\.name\); keeping the 1/);
    rmSync(file);
    await until(() => log.length > 2);
    expect(log[2]).toMatch(/cannot be read: ENOENT.*; keeping the 1/);
    expect(manifest.current().operations.has('A')).toBe(true);
  });

  it('does not follow the shipped manifest', () => {
    manifest = new PersistedManifest({ file: null, log: () => {} });
    expect(manifest.current().operations.size).toBe(shipped.operations.size);
    expect(manifest.reload()).toBe(false);
    expect(readFileSync(new URL('./persisted-operations.json', import.meta.url), 'utf8')).toContain('ReleaseMatrix');
  });
});
