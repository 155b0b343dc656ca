import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FeedValidationError, type FeedIssue, type FeedReference } from './feed.js';
import { readFeed, type FeedFormat } from './feed-format.js';
import type { ViewStore } from './store.js';
import { buildViews } from './views.js';

/** A refused feed file, as `FeedStatus.lastRejected` shows it. */
export interface Rejection {
  readonly file: string;
  readonly rejectedAt: string;
  readonly errors: readonly {
    file: string;
    line: number | null;
    path: string | null;
    field: string;
    value: string | null;
    message: string;
  }[];
  readonly errorCount: number;
  /** Identifies the refusal (file and errors, not the time): the same on every replica. */
  readonly id: string;
}

/** What happened to one file offered to the feed. */
export type IngestOutcome =
  | { readonly outcome: 'accepted'; readonly file: string; readonly asOf: string; readonly rows: number }
  | { readonly outcome: 'unchanged'; readonly file: string }
  | { readonly outcome: 'rejected'; readonly file: string; readonly error: Error };

export interface FeedTrackerOptions {
  readonly name: string;
  readonly format: FeedFormat<object>;
  readonly reference: FeedReference;
  readonly store: ViewStore<object>;
  /** Files larger than this are refused unread. */
  readonly maxBytes: number;
  readonly log?: (line: string) => void;
}

const MAX_SHOWN_ERRORS = 100;

function asRejection(file: string, error: Error): Rejection {
  const issues: readonly FeedIssue[] =
    error instanceof FeedValidationError ? error.issues : [{ file, field: '(file)', value: null, message: error.message }];
  const errors = issues.slice(0, MAX_SHOWN_ERRORS).map((i) => ({
    file: i.file,
    line: i.line ?? null,
    path: i.path ?? null,
    field: i.field,
    value: i.value === null || i.value === undefined ? null : typeof i.value === 'string' ? i.value : JSON.stringify(i.value),
    message: i.message,
  }));
  const id = createHash('sha256')
    .update(JSON.stringify([file, issues.length, errors]))
    .digest('hex')
    .slice(0, 16);
  return { file, rejectedAt: new Date().toISOString(), errorCount: issues.length, errors, id };
}

/**
 * Takes feed files into a store: validates each whole, publishes good ones as new
 * snapshots, and keeps the last refusal for `FeedStatus`. A refused file changes nothing:
 * the snapshots before it keep serving and the file itself is never touched.
 */
export class FeedTracker {
  #lastRejected: Rejection | null = null;
  /** Checksums already taken or refused, by file name: an unchanged report is not re-parsed. */
  readonly #seen = new Map<string, string>();
  /** Size and modification time of each folder file at the last scan: an unchanged file is not re-read. */
  readonly #stats = new Map<string, string>();
  readonly #options: FeedTrackerOptions;
  readonly #listeners: (() => Promise<void>)[] = [];
  readonly #rejectionListeners: (() => Promise<void>)[] = [];

  constructor(options: FeedTrackerOptions) {
    this.#options = options;
  }

  /** Awaits `listener` after each accepted file is published, before the file counts as taken. */
  onAccepted(listener: () => Promise<void>): void {
    this.#listeners.push(listener);
  }

  /** Awaits `listener` after each refusal (`lastRejected` then shows it). */
  onRejected(listener: () => Promise<void>): void {
    this.#rejectionListeners.push(listener);
  }

  get lastRejected(): Rejection | null {
    return this.#lastRejected;
  }

  /** Records a report refused before it could be read (e.g. a URL that sends too much). */
  refuse(file: string, error: Error): Promise<IngestOutcome> {
    return this.#reject(file, error);
  }

  async #reject(file: string, error: Error): Promise<IngestOutcome> {
    this.#lastRejected = asRejection(file, error);
    // A validation error already says "Feed file … rejected" with every problem; others need the file named.
    const said = error instanceof FeedValidationError ? error.message : `rejected ${file}: ${error.message}`;
    this.#options.log?.(`${this.#options.name}: ${said}`);
    for (const listener of this.#rejectionListeners) await listener();
    return { outcome: 'rejected', file, error };
  }

  #oversize(file: string, size: number, unread = false): FeedValidationError {
    const message = `the file is ${size} bytes, over the limit of ${this.#options.maxBytes}${unread ? ' (not read)' : ''}`;
    return new FeedValidationError(file, [{ file, field: '(file)', value: size, message }]);
  }

  /**
   * Offers one report's bytes (from the feed folder or a polled URL). `modifiedAt` orders
   * two versions of the same file: an older copy never replaces a newer one.
   */
  async ingest(file: string, bytes: Buffer, modifiedAt: string = new Date().toISOString()): Promise<IngestOutcome> {
    const { format, reference, store, log } = this.#options;
    const checksum = createHash('sha256').update(bytes).digest('hex');
    if (this.#seen.get(file) === checksum) return { outcome: 'unchanged', file };
    this.#seen.set(file, checksum);
    try {
      if (bytes.length > this.#options.maxBytes) throw this.#oversize(file, bytes.length);
      const snapshot = readFeed(format, file, bytes, reference, checksum);
      // Published even when another replica already shared it: this replica keeps its own
      // copy to serve while a shared store is away.
      await store.publish(buildViews(snapshot, modifiedAt));
      for (const listener of this.#listeners) await listener();
      log?.(`${this.#options.name}: accepted ${file} (report of ${snapshot.asOf}, ${snapshot.rows} rows)`);
      return { outcome: 'accepted', file, asOf: snapshot.asOf, rows: snapshot.rows };
    } catch (error) {
      return this.#reject(file, error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Offers a file from disk. Only regular files are read (a FIFO or device would block or
   * never end), never more than the size limit, and a file whose size and modification time
   * have not changed since the last scan is not read again.
   */
  async ingestPath(dir: string, file: string): Promise<IngestOutcome> {
    const path = join(dir, file);
    const info = await stat(path);
    const marker = `${info.size}:${info.mtimeMs}`;
    if (this.#stats.get(file) === marker) return { outcome: 'unchanged', file };
    this.#stats.set(file, marker);
    if (!info.isFile())
      return this.#reject(file, new FeedValidationError(file, [{ file, field: '(file)', value: null, message: 'not a regular file' }]));
    if (info.size > this.#options.maxBytes) return this.#reject(file, this.#oversize(file, info.size, true));
    const bytes = await readAtMost(path, this.#options.maxBytes + 1);
    return this.ingest(file, bytes, info.mtime.toISOString());
  }

  /** Offers every feed file of `dir`, in name order. */
  async scan(dir: string): Promise<IngestOutcome[]> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith(this.#options.format.extension)).sort();
    } catch (error) {
      throw new Error(`Feed folder ${dir} cannot be read: ${(error as Error).message}`);
    }
    const outcomes: IngestOutcome[] = [];
    for (const name of names) {
      try {
        outcomes.push(await this.ingestPath(dir, name));
      } catch (error) {
        // The file vanished or became unreadable between listing and reading: try next scan.
        this.#stats.delete(name);
        outcomes.push({ outcome: 'rejected', file: name, error: error as Error });
      }
    }
    return outcomes;
  }
}

/** Reads at most `limit` bytes of a file. */
async function readAtMost(path: string, limit: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
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
  } finally {
    await handle.close();
  }
}
