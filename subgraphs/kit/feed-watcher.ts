import { watch, type FSWatcher } from 'node:fs';
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

function fileNameOf(url: string, response: Response, extension: string): string {
  const disposition = /filename="?([^";]+)"?/.exec(response.headers.get('content-disposition') ?? '')?.[1];
  const name = basename(disposition ?? new URL(url).pathname);
  return name.endsWith(extension) ? name : `${name || 'feed'}${extension}`;
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
  let modified: string | null = null;
  const fetchOnce = async () => {
    const headers: Record<string, string> = {};
    if (etag) headers['if-none-match'] = etag;
    if (modified) headers['if-modified-since'] = modified;
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(Math.max(1000, options.intervalMs)) });
    if (response.status === 304) return;
    if (!response.ok) throw new Error(`Feed URL ${url} answered ${response.status} ${response.statusText}`);
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > options.maxBytes) {
      await response.body?.cancel();
      throw new Error(`Feed URL ${url} offers ${length} bytes, over the limit of ${options.maxBytes}`);
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    await tracker.ingest(fileNameOf(url, response, options.extension), bytes);
    etag = response.headers.get('etag');
    modified = response.headers.get('last-modified');
  };
  const poll = serialized(fetchOnce, options.onError);
  poll();
  const timer = setInterval(poll, options.intervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
