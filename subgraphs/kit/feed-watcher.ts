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
  const stem = served.endsWith(extension) ? served.slice(0, -extension.length) : served;
  return `${stem}-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}${extension}`;
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
      throw new Error(`Feed URL ${url} sent more than ${limit} bytes: refused`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Polls an HTTP(S) URL for the supplier's latest report and offers what it serves to the
 * tracker; `ETag` and `Last-Modified` avoid downloading an unchanged report.
 */
export function pollFeedUrl(
  url: string,
  tracker: FeedTracker,
  options: { intervalMs: number; extension: string; maxBytes: number; onError: (error: Error) => void },
): Closable {
  let etag: string | null = null;
  let lastModified: string | null = null;
  const fetchOnce = async () => {
    const headers: Record<string, string> = {};
    if (etag) headers['if-none-match'] = etag;
    if (lastModified) headers['if-modified-since'] = lastModified;
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(Math.max(1000, options.intervalMs)) });
    if (response.status === 304) return;
    if (!response.ok) throw new Error(`Feed URL ${url} answered ${response.status} ${response.statusText}`);
    const length = Number(response.headers.get('content-length') ?? 0);
    const served = basename(new URL(url).pathname) || 'feed';
    if (length > options.maxBytes) {
      await response.body?.cancel();
      await tracker.refuse(served, new Error(`Feed URL ${url} offers ${length} bytes, over the limit of ${options.maxBytes}`));
      return;
    }
    let bytes: Buffer;
    try {
      bytes = await readBody(response, options.maxBytes, url);
    } catch (error) {
      await tracker.refuse(served, error as Error);
      return;
    }
    etag = response.headers.get('etag');
    lastModified = response.headers.get('last-modified');
    await tracker.ingest(
      fileNameOf(url, response, options.extension, bytes),
      bytes,
      lastModified ? new Date(lastModified).toISOString() : undefined,
    );
  };
  const poll = serialized(fetchOnce, options.onError);
  poll();
  const timer = setInterval(poll, options.intervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
