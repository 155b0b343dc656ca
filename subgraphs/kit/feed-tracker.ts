import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FeedValidationError, type FeedIssue, type FeedReference } from './feed.js';
import { readFeed, type FeedFormat } from './feed-directory.js';
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
  return {
    file,
    rejectedAt: new Date().toISOString(),
    errorCount: issues.length,
    errors: issues.slice(0, MAX_SHOWN_ERRORS).map((i) => ({
      file: i.file,
      line: i.line ?? null,
      path: i.path ?? null,
      field: i.field,
      value: i.value === null || i.value === undefined ? null : typeof i.value === 'string' ? i.value : JSON.stringify(i.value),
      message: i.message,
    })),
  };
}

/**
 * Takes feed files into a store: validates each whole, publishes good ones as new
 * snapshots, and keeps the last refusal for `FeedStatus`. A refused file changes nothing:
 * the snapshots before it keep serving and the file itself is never touched.
 */
export class FeedTracker {
  #lastRejected: Rejection | null = null;
  /** Checksums already taken or refused, by file name: an unchanged file is not re-read. */
  readonly #seen = new Map<string, string>();
  readonly #options: FeedTrackerOptions;
  readonly #listeners: (() => void)[] = [];

  constructor(options: FeedTrackerOptions) {
    this.#options = options;
  }

  /** Calls `listener` after each accepted file is published. */
  onAccepted(listener: () => void): void {
    this.#listeners.push(listener);
  }

  get lastRejected(): Rejection | null {
    return this.#lastRejected;
  }

  /** Offers one file's bytes (from the feed folder or a polled URL). */
  async ingest(file: string, bytes: Buffer): Promise<IngestOutcome> {
    const { format, reference, store, log } = this.#options;
    const checksum = createHash('sha256').update(bytes).digest('hex');
    if (this.#seen.get(file) === checksum) return { outcome: 'unchanged', file };
    this.#seen.set(file, checksum);
    try {
      if (bytes.length > this.#options.maxBytes) {
        throw new FeedValidationError(file, [
          {
            file,
            field: '(file)',
            value: bytes.length,
            message: `the file is ${bytes.length} bytes, over the limit of ${this.#options.maxBytes}`,
          },
        ]);
      }
      if (
        bytes
          .toString('utf8')
          .replace(/^\uFEFF/, '')
          .trim() === ''
      ) {
        throw new FeedValidationError(file, [{ file, field: '(file)', value: null, message: 'the file is empty' }]);
      }
      const snapshot = readFeed(format, file, bytes, reference);
      // Published even when another replica already shared it: this replica keeps its own
      // copy to serve while a shared store is away.
      await store.publish(buildViews(snapshot));
      for (const listener of this.#listeners) listener();
      log?.(`${this.#options.name}: accepted ${file} (report of ${snapshot.asOf}, ${snapshot.rows} rows)`);
      return { outcome: 'accepted', file, asOf: snapshot.asOf, rows: snapshot.rows };
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.#lastRejected = asRejection(file, err);
      log?.(`${this.#options.name}: rejected ${err.message}`);
      return { outcome: 'rejected', file, error: err };
    }
  }

  /** Offers a file from disk; a file over the size limit is refused without reading it. */
  async ingestPath(dir: string, file: string): Promise<IngestOutcome> {
    const path = join(dir, file);
    const info = await stat(path);
    if (info.size > this.#options.maxBytes) {
      // Refuse unread, and remember size+mtime so the same oversize file is not refused again and again.
      const marker = `oversize:${info.size}:${info.mtimeMs}`;
      if (this.#seen.get(file) === marker) return { outcome: 'unchanged', file };
      this.#seen.set(file, marker);
      const error = new FeedValidationError(file, [
        { file, field: '(file)', value: info.size, message: `the file is ${info.size} bytes, over the limit of ${this.#options.maxBytes}` },
      ]);
      this.#lastRejected = asRejection(file, error);
      this.#options.log?.(`${this.#options.name}: rejected ${error.message}`);
      return { outcome: 'rejected', file, error };
    }
    return this.ingest(file, await readFile(path));
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
        this.#seen.delete(name);
        outcomes.push({ outcome: 'rejected', file: name, error: error as Error });
      }
    }
    return outcomes;
  }
}
