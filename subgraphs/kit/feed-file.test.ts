import { linkSync, lstatSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { notReadable, readFolderFile } from './feed-file.js';

const dir = mkdtempSync(join(tmpdir(), 'msg-feed-file-'));
const elsewhere = mkdtempSync(join(tmpdir(), 'msg-feed-secret-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(elsewhere, { recursive: true, force: true });
});

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

  // A hard link is a regular file, but its content is another file's (the password file's, on a shared disk).
  it('refuses a hard link to a file elsewhere, by its lstat and on the open', async () => {
    writeFileSync(join(elsewhere, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    linkSync(join(elsewhere, 'passwd'), join(dir, 'fujitsu-south-2011-06-01.csv'));
    const refused = { kind: 'refused', reason: expect.stringMatching(/hard link/) };
    expect(await readFolderFile(join(dir, 'fujitsu-south-2011-06-01.csv'), 1e6)).toEqual(refused);
    expect(notReadable(lstatSync(join(dir, 'fujitsu-south-2011-06-01.csv')))).toMatch(/hard link/);
  });
});
