import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFolderFile } from './feed-file.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-feed-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reading a folder file', () => {
  it('reads a regular file, at most the limit', async () => {
    writeFileSync(join(dir, 'a.csv'), 'HDR');
    expect(await readFolderFile(join(dir, 'a.csv'), 10)).toMatchObject({ kind: 'read', bytes: Buffer.from('HDR') });
    expect(await readFolderFile(join(dir, 'a.csv'), 2)).toEqual({ kind: 'oversize', size: 3 });
  });

  // The name was a regular file when it was listed, and became a link before the open: O_NOFOLLOW and fstat refuse it.
  it('refuses a link or a directory swapped in after the listing, on the open itself', async () => {
    symlinkSync('/etc/passwd', join(dir, 'link.csv'));
    mkdirSync(join(dir, 'folder.csv'));
    expect(await readFolderFile(join(dir, 'link.csv'), 1e6)).toEqual({ kind: 'refused', reason: expect.stringMatching(/symbolic link/) });
    expect(await readFolderFile(join(dir, 'folder.csv'), 1e6)).toEqual({ kind: 'refused', reason: 'not a regular file' });
  });
});
