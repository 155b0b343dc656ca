import { watch, type FSWatcher } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { FeedTracker } from './feed-tracker.js';

/** Something that runs until closed. */
export interface Closable {
  close(): void;
}

/**
 * Runs `task` when asked, never twice at once: a request that arrives while it runs makes
 * it run once more afterwards.
 */
function serialized(task: () => Promise<unknown>, onError: (error: Error) => void): () => void {
  let running = false;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await task().catch(onError);
      } while (again);
    } finally {
      running = false;
    }
  };
  return () => void run();
}

/**
 * Watches a feed folder and offers new or changed files to the tracker without a restart.
 * File-system events are debounced (an editor or a copy writes in several steps), and the
 * folder is also rescanned every `pollMs`, because file watching can miss events on some
 * file systems.
 */
export function watchFeedFolder(
  dir: string,
  tracker: FeedTracker,
  options: { pollMs: number; debounceMs?: number; onError: (error: Error) => void },
): Closable {
  const scan = serialized(() => tracker.scan(dir), options.onError);
  let timer: NodeJS.Timeout | null = null;
  const soon = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(scan, options.debounceMs ?? 150);
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, soon);
    watcher.on('error', (error) => options.onError(error));
  } catch (error) {
    options.onError(new Error(`Cannot watch ${dir}; polling every ${options.pollMs} ms instead: ${(error as Error).message}`));
  }
  const poll = setInterval(scan, options.pollMs);
  poll.unref();
  return {
    close() {
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * The name a polled report is kept under: the served name plus the first hex digits of its
 * checksum, so a URL such as `/latest.csv` that serves a new report every week keeps every
 * one of them (they are history), while the same report served again is unchanged.
 */
function fileNameOf(url: string, response: Response, extension: string, bytes: Buffer): string {
  const disposition = /filename="?([^";]+)"?/.exec(response.headers.get('content-disposition') ?? '')?.[1];
  const served = basename(disposition ?? new URL(url).pathname) || 'feed';
  // The supplier's server names it: kept short, as clients see it in FeedStatus.
  const stem = (served.endsWith(extension) ? served.slice(0, -extension.length) : served).slice(0, 64);
  return `${stem}-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}${extension}`;
}

/** A report a URL could not deliver: `reason` is public, `detail` (with the URL) is for the log. */
class UndeliveredReport extends Error {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Reads a response body, refusing it once it passes `limit` bytes (whatever its headers say). */
async function readBody(response: Response, limit: number, url: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new UndeliveredReport(
        `the feed source sent more than ${limit} bytes: refused`,
        `Feed URL ${url} sent more than ${limit} bytes: refused`,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** Why a fetch failed, as Node's `fetch` hides it in `cause` ("fetch failed" alone says nothing). */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const own = error instanceof Error ? error.message : String(error);
  return cause ? `${own}: ${cause.code ?? cause.message ?? String(cause)}` : own;
}

/**
 * Polls an HTTP(S) URL for the supplier's latest report and offers what it serves to the
 * tracker; `ETag` and `Last-Modified` avoid downloading an unchanged report. A URL that
 * cannot be fetched, answers an error or sends too much is a refusal in `lastRejected`
 * ("the feed source could not be fetched"), without the URL: the log names it and the cause,
 * once per change of failure rather than on every poll.
 */
export function pollFeedUrl(
  url: string,
  tracker: FeedTracker,
  options: { intervalMs: number; extension: string; maxBytes: number; onError: (error: Error) => void },
): Closable {
  let etag: string | null = null;
  let lastModified: string | null = null;
  let failing: string | null = null;
  const served = basename(new URL(url).pathname) || 'feed';
  const fetchReport = async (): Promise<{ response: Response; bytes: Buffer } | null> => {
    const headers: Record<string, string> = {};
    if (etag) headers['if-none-match'] = etag;
    if (lastModified) headers['if-modified-since'] = lastModified;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(Math.max(1000, options.intervalMs)) });
    } catch (error) {
      throw new UndeliveredReport('the feed source could not be fetched', `Feed URL ${url} could not be fetched: ${causeOf(error)}`);
    }
    if (response.status === 304) return null;
    if (!response.ok) {
      await response.body?.cancel();
      throw new UndeliveredReport(
        `the feed source could not be fetched (it answered ${response.status})`,
        `Feed URL ${url} answered ${response.status} ${response.statusText}`,
      );
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > options.maxBytes) {
      await response.body?.cancel();
      throw new UndeliveredReport(
        `the feed source offers ${length} bytes, over the limit of ${options.maxBytes}`,
        `Feed URL ${url} offers ${length} bytes, over the limit of ${options.maxBytes}`,
      );
    }
    return { response, bytes: await readBody(response, options.maxBytes, url) };
  };
  const fetchOnce = async () => {
    let report: Awaited<ReturnType<typeof fetchReport>>;
    try {
      report = await fetchReport();
    } catch (error) {
      if (!(error instanceof UndeliveredReport)) throw error;
      if (failing !== error.detail) await tracker.refuse(served, error.reason, error.detail);
      failing = error.detail;
      return;
    }
    failing = null;
    if (!report) return;
    const { response, bytes } = report;
    etag = response.headers.get('etag');
    lastModified = response.headers.get('last-modified');
    await tracker.ingest(fileNameOf(url, response, options.extension, bytes), bytes, {
      ...(lastModified ? { modifiedAt: new Date(lastModified).toISOString() } : {}),
    });
  };
  const poll = serialized(fetchOnce, options.onError);
  poll();
  const timer = setInterval(poll, options.intervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
