/**
 * Reading one file of a feed folder safely. Only regular files are read, never through a
 * symbolic link: `ln -s /etc/passwd feed/fujitsu-south-2011-06-01.csv` once published the
 * password file's first line to anonymous clients in the refusal. The name is checked with
 * `lstat`, then opened with `O_NOFOLLOW` and checked again on the open descriptor (`fstat`),
 * so a file swapped for a link or a FIFO between the two steps is refused as well. A hard link
 * is a link too (`ln /etc/passwd feed/fujitsu-south-2011-06-01.csv` is a regular file that
 * published the same first line): a file with more than one name is refused. Never more than
 * the size limit is read.
 */
import { constants } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/** What reading a folder file gave: its bytes, or why it was not read (naming the file only). */
export type FolderRead =
  | { readonly kind: 'read'; readonly bytes: Buffer; readonly modifiedAt: string }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'oversize'; readonly size: number };

const NOT_REGULAR = 'not a regular file';
const LINK = 'a symbolic link: only regular files are read, never through a link';
const HARD_LINK = 'a hard link (the file has other names): only files of their own are read, never through a link';

/** The size and modification time of the name itself (a link is not followed): an unchanged file is not re-read. */
export async function folderMarker(path: string): Promise<{ marker: string; info: Stats }> {
  const info = await lstat(path);
  return { marker: `${info.size}:${info.mtimeMs}:${info.ino}`, info };
}

/** Why `info` (from `lstat`) is not a file to read, or null when it is one. */
export function notReadable(info: Stats): string | null {
  if (info.isSymbolicLink()) return LINK;
  if (!info.isFile()) return NOT_REGULAR;
  return info.nlink > 1 ? HARD_LINK : null;
}

/**
 * Reads the regular file at `path`, at most `maxBytes` (a larger one is refused unread).
 * `O_NONBLOCK` keeps a FIFO swapped in after the `lstat` from blocking the open.
 */
export async function readFolderFile(path: string, maxBytes: number): Promise<FolderRead> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return { kind: 'refused', reason: LINK };
    throw error;
  }
  try {
    const info = await handle.stat();
    const refused = notReadable(info);
    if (refused) return { kind: 'refused', reason: refused };
    if (info.size > maxBytes) return { kind: 'oversize', size: info.size };
    return { kind: 'read', bytes: await readAtMost(handle, maxBytes + 1), modifiedAt: info.mtime.toISOString() };
  } finally {
    await handle.close();
  }
}

/** Reads at most `limit` bytes: a file that grows while it is read stays bounded. */
async function readAtMost(handle: FileHandle, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = Buffer.alloc(Math.min(1024 * 1024, limit - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    chunks.push(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
    total += bytesRead;
  }
  return Buffer.concat(chunks, total);
}
