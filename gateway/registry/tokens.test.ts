import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { authenticate, bearerToken, mayChange, mintToken, readTokens } from './tokens.js';

const dirs: string[] = [];
const tokensFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'msg-tokens-'));
  dirs.push(dir);
  return join(dir, 'tokens.json');
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('registry tokens', () => {
  it('are stored only as hashes, and name their supplier and subgraphs when presented', () => {
    const file = tokensFile();
    const csc = mintToken(file, { supplier: 'CSC', subgraphs: ['nme'], operator: false });
    const operator = mintToken(file, { supplier: 'OPS', subgraphs: [], operator: true });
    expect(readFileSync(file, 'utf8')).not.toContain(csc);
    const entries = readTokens(file);
    const supplier = authenticate(entries, csc)!;
    expect(supplier).toEqual({ supplier: 'CSC', operator: false, subgraphs: ['nme'] });
    expect(mayChange(supplier, 'nme')).toBe(true);
    expect(mayChange(supplier, 'south')).toBe(false);
    expect(mayChange(authenticate(entries, operator)!, 'anything')).toBe(true);
    expect(authenticate(entries, `${csc}x`)).toBeNull();
    expect(authenticate([], csc)).toBeNull();
  });

  it('read from Authorization: Bearer only', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });

  it('refuse a tokens file that is not what the registry wrote, naming where', () => {
    const file = tokensFile();
    writeFileSync(file, JSON.stringify({ tokens: [{ supplier: 'CSC', sha256: 'not-a-hash' }] }));
    expect(() => readTokens(file)).toThrow(/tokens\.0\.sha256: must be 64 hex digits/);
    writeFileSync(file, '{');
    expect(() => readTokens(file)).toThrow(/is not JSON/);
    expect(readTokens(join(tmpdir(), 'no-such-dir', 'tokens.json'))).toEqual([]);
  });
});
