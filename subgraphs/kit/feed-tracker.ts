import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { excerpt, FeedValidationError, type FeedIssue, type FeedReference } from './feed.js';
import { dateIssues, horizonOf } from './feed-dates.js';
import { folderMarker, notReadable, readFolderFile } from './feed-file.js';
import { readFeed, type FeedFormat } from './feed-format.js';
import { manifestAt, type ViewStore } from './store.js';
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
  | { readonly outcome: 'rejected'; readonly file: string; readonly error: Error }
  | { readonly outcome: 'withdrawn'; readonly file: string };

/** How a report reached the tracker. */
export interface IngestOptions {
  /** Orders two versions of the same file: an older copy never replaces a newer one. */
  readonly modifiedAt?: string;
  /** The name must carry the report's date: true for folder files, false for polled reports (the kit names those). */
  readonly dated?: boolean;
}

export interface FeedTrackerOptions {
  readonly name: string;
  readonly format: FeedFormat<object>;
  readonly reference: FeedReference;
  readonly store: ViewStore<object>;
  /** Files larger than this are refused unread. */
  readonly maxBytes: number;
  /** Reports dated more than this many days after today are refused (`FEED_MAX_FUTURE_DAYS`). */
  readonly maxFutureDays?: number;
  readonly log?: (line: string) => void;
}

/** How many of a file's problems `lastRejected` lists (`errorCount` counts them all). */
const MAX_SHOWN_ERRORS = 100;
/** The longest message `lastRejected` shows. */
const MAX_MESSAGE = 200;
export const DEFAULT_MAX_FUTURE_DAYS = 1;

/**
 * A message as anyone may read it: URLs are operators' business (the log has them), and a
 * message that quotes what it read (a JSON parser's excerpt) stays short.
 */
function publicMessage(message: string): string {
  const text = message.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]*/gi, '(a URL)');
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/**
 * The public shape of a refusal, bounded here for every format and every source: at most
 * `MAX_SHOWN_ERRORS` problems, each with an excerpt of the field and value read (never a
 * whole line of whatever file was offered) and a message without URLs.
 */
function asRejection(file: string, error: Error): Rejection {
  const issues: readonly FeedIssue[] =
    error instanceof FeedValidationError ? error.issues : [{ file, field: '(file)', value: null, message: error.message }];
  const errors = issues.slice(0, MAX_SHOWN_ERRORS).map((i) => ({
    file: i.file,
    line: i.line ?? null,
    path: i.path ? publicMessage(i.path) : null,
    field: excerpt(i.field) ?? '(file)',
    value: excerpt(i.value),
    message: publicMessage(i.message),
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
  /** Folder files whose report this tracker published: removing one withdraws its report. */
  readonly #taken = new Set<string>();
  /** Files refused last time they were read: a withdrawal may make them acceptable (one report per date). */
  readonly #refused = new Set<string>();
  readonly #options: FeedTrackerOptions;
  readonly #listeners: (() => Promise<void>)[] = [];
  readonly #rejectionListeners: (() => Promise<void>)[] = [];

  constructor(options: FeedTrackerOptions) {
    this.#options = options;
  }

  /**
   * Awaits `listener` after each accepted file is published (before the file counts as
   * taken) and after each report withdrawn because its file was removed.
   */
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

  /**
   * Records a report refused before it could be read (a URL that cannot be fetched or sends
   * too much): `reason` is what `lastRejected` shows, `detail` (with the URL) goes to the log.
   */
  refuse(file: string, reason: string, detail: string): Promise<IngestOutcome> {
    return this.#reject(file, new Error(reason), detail);
  }

  async #reject(file: string, error: Error, detail?: string): Promise<IngestOutcome> {
    this.#lastRejected = asRejection(file, error);
    this.#refused.add(file);
    // A validation error already says "Feed file … rejected" with every problem; others need the file named.
    const said = error instanceof FeedValidationError ? error.message : `rejected ${file}: ${detail ?? error.message}`;
    this.#options.log?.(`${this.#options.name}: ${said}`);
    for (const listener of this.#rejectionListeners) await listener();
    return { outcome: 'rejected', file, error };
  }

  #oversize(file: string, size: number, unread = false): FeedValidationError {
    const message = `the file is ${size} bytes, over the limit of ${this.#options.maxBytes}${unread ? ' (not read)' : ''}`;
    return new FeedValidationError(file, [{ file, field: '(file)', value: size, message }]);
  }

  /**
   * Offers one report's bytes (from the feed folder or a polled URL). It is validated whole,
   * then its date is checked against the name, the horizon and the reports already served.
   */
  async ingest(file: string, bytes: Buffer, options: IngestOptions = {}): Promise<IngestOutcome> {
    const { format, reference, store, log } = this.#options;
    const checksum = createHash('sha256').update(bytes).digest('hex');
    if (this.#seen.get(file) === checksum) return { outcome: 'unchanged', file };
    this.#seen.set(file, checksum);
    try {
      if (bytes.length > this.#options.maxBytes) throw this.#oversize(file, bytes.length);
      const snapshot = readFeed(format, file, bytes, reference, checksum);
      const issues = dateIssues(file, snapshot.asOf, {
        dated: options.dated ?? false,
        horizon: horizonOf(new Date(), this.#options.maxFutureDays ?? DEFAULT_MAX_FUTURE_DAYS),
        horizonSetting: `FEED_MAX_FUTURE_DAYS=${this.#options.maxFutureDays ?? DEFAULT_MAX_FUTURE_DAYS}`,
        current: manifestAt(await store.manifest(), null).snapshots,
      });
      if (issues.length > 0) throw new FeedValidationError(file, issues);
      // Published even when another replica already shared it: this replica keeps its own
      // copy to serve while a shared store is away.
      await store.publish(buildViews(snapshot, options.modifiedAt ?? new Date().toISOString()));
      this.#refused.delete(file);
      if (options.dated) this.#taken.add(file);
      for (const listener of this.#listeners) await listener();
      log?.(`${this.#options.name}: accepted ${file} (report of ${snapshot.asOf}, ${snapshot.rows} rows)`);
      return { outcome: 'accepted', file, asOf: snapshot.asOf, rows: snapshot.rows };
    } catch (error) {
      return this.#reject(file, error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Offers a file from disk (see feed-file.ts): only a regular file is read, never through a
   * link, never more than the size limit, and a file whose size and modification time have
   * not changed since the last scan is not read again.
   */
  async ingestPath(dir: string, file: string): Promise<IngestOutcome> {
    const path = join(dir, file);
    const { marker, info } = await folderMarker(path);
    if (this.#stats.get(file) === marker) return { outcome: 'unchanged', file };
    this.#stats.set(file, marker);
    const notRead = (message: string) =>
      this.#reject(file, new FeedValidationError(file, [{ file, field: '(file)', value: null, message }]));
    const refused = notReadable(info);
    if (refused) return notRead(refused);
    if (info.size > this.#options.maxBytes) return this.#reject(file, this.#oversize(file, info.size, true));
    const read = await readFolderFile(path, this.#options.maxBytes);
    if (read.kind === 'refused') return notRead(read.reason);
    if (read.kind === 'oversize') return this.#reject(file, this.#oversize(file, read.size, true));
    return this.ingest(file, read.bytes, { modifiedAt: read.modifiedAt, dated: true });
  }

  /**
   * Makes the files refused until now be read again on the next scan, though unchanged: what
   * refused them may have changed (a date became free, a trust was registered).
   */
  reconsiderRefused(): void {
    for (const name of this.#refused) {
      this.#seen.delete(name);
      this.#stats.delete(name);
    }
  }

  /**
   * Withdraws the report of a folder file that is gone, in the store (Redis too), and
   * forgets the file, so putting it back takes it up again. Files refused until now are
   * read again: one of them may have waited for this date to become free.
   */
  async #withdraw(file: string): Promise<IngestOutcome> {
    this.#taken.delete(file);
    this.#seen.delete(file);
    await this.#options.store.withdraw(file);
    this.reconsiderRefused();
    for (const listener of this.#listeners) await listener();
    this.#options.log?.(`${this.#options.name}: withdrew ${file} (the file was removed)`);
    return { outcome: 'withdrawn', file };
  }

  /**
   * Offers every feed file of `dir`, in name order, and withdraws the reports of files this
   * tracker took that are no longer there. Only those: a replica whose folder is behind
   * never withdraws what another one published.
   */
  async scan(dir: string): Promise<IngestOutcome[]> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith(this.#options.format.extension)).sort();
    } catch (error) {
      throw new Error(`Feed folder ${dir} cannot be read: ${(error as Error).message}`);
    }
    const outcomes: IngestOutcome[] = [];
    const listed = new Set(names);
    const known = new Set([...this.#stats.keys(), ...this.#taken]);
    for (const name of [...known].filter((n) => !listed.has(n))) {
      this.#stats.delete(name);
      this.#seen.delete(name);
      this.#refused.delete(name);
      if (this.#taken.has(name)) outcomes.push(await this.#withdraw(name));
    }
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
