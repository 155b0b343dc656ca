/**
 * Safelisting in stages, as Apollo Router's persisted-query safelist is rolled out: the
 * manifest (`PERSISTED_OPERATIONS_FILE`) is reloaded when its file changes, with no restart,
 * and in the `log` stage (`PERSISTED_OPERATIONS_ONLY=log`) operations outside it are served,
 * counted and logged, so an operator sees who would be refused before enforcing.
 *
 * The file is polled (`fs.watchFile`), not watched with `fs.watch`: a poll sees a file
 * replaced by a rename (editors, `kubectl` ConfigMap updates swap a symlink), and works on
 * network mounts, where `fs.watch` misses changes. A change is read once the file has been
 * quiet for a moment (a writer may take several writes); a new file that cannot be read or is
 * not a manifest is logged, naming the file and the problem, and the manifest loaded before is
 * kept: a bad deploy never empties the safelist.
 */
import { statSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { indexPersisted, loadPersistedOperations, type OnUnlisted, type PersistedIndex } from './persisted-operations.js';

/** How often the manifest file is polled, and how long it must stay unchanged before it is read. */
const POLL_MS = 500;
const QUIET_MS = 150;

export interface ManifestOptions {
  /** `PERSISTED_OPERATIONS_FILE`; null: the shipped manifest, which does not change while serving. */
  readonly file: string | null;
  readonly log: (line: string) => void;
  /** Called after each successful reload. */
  readonly onReload?: (index: PersistedIndex) => void;
  readonly pollMs?: number;
}

/** The persisted-operation manifest, current: everything that consults it calls `current()`. */
export class PersistedManifest {
  #index: PersistedIndex;
  readonly #options: ManifestOptions;
  #quiet: NodeJS.Timeout | null = null;
  #watching = false;
  /** The file as it was when last read (null: not there, or no file). */
  #loaded: FileStamp | null;

  /** Loads the manifest (a bad one at start stops the gateway, naming the setting) and follows its file. */
  constructor(options: ManifestOptions) {
    this.#options = options;
    this.#loaded = options.file ? statOf(options.file) : null;
    this.#index = indexPersisted(loadPersistedOperations(options.file ?? undefined));
    if (options.file) {
      const interval = options.pollMs ?? POLL_MS;
      // Not persistent: a watched manifest never keeps a stopping process alive.
      watchFile(options.file, { interval, persistent: false }, this.#changed);
      this.#watching = true;
      // watchFile takes its first look at the file in the background: a change made before it
      // looked would never be reported. Compare once with what was loaded.
      setTimeout(() => {
        const now = statOf(options.file!);
        if (this.#watching && !sameFile(now, this.#loaded)) this.reload();
      }, interval * 2).unref();
    }
  }

  /** The manifest now. */
  current(): PersistedIndex {
    return this.#index;
  }

  readonly #changed = (now: Stats, before: Stats): void => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size && now.ino === before.ino) return;
    if (this.#quiet) clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.reload(), QUIET_MS);
    this.#quiet.unref();
  };

  /** Reads the file again; on any problem keeps the manifest it has, and says so. */
  reload(): boolean {
    this.#quiet = null;
    const file = this.#options.file;
    if (!file) return false;
    this.#loaded = statOf(file);
    try {
      this.#index = indexPersisted(loadPersistedOperations(file));
    } catch (error) {
      this.#options.log(
        `gateway: ${(error as Error).message}; keeping the ${this.#index.operations.size} persisted operations loaded before`,
      );
      return false;
    }
    this.#options.log(`gateway: reloaded PERSISTED_OPERATIONS_FILE=${JSON.stringify(file)}: ${this.#index.operations.size} operations`);
    this.#options.onReload?.(this.#index);
    return true;
  }

  close(): void {
    if (this.#quiet) clearTimeout(this.#quiet);
    if (this.#watching && this.#options.file) unwatchFile(this.#options.file, this.#changed);
    this.#watching = false;
  }
}

type FileStamp = Pick<Stats, 'mtimeMs' | 'size' | 'ino'>;

function statOf(file: string): FileStamp | null {
  try {
    const { mtimeMs, size, ino } = statSync(file);
    return { mtimeMs, size, ino };
  } catch {
    return null;
  }
}

const sameFile = (a: FileStamp | null, b: FileStamp | null) =>
  a === b || (a !== null && b !== null && a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino);

/** How often one operation outside the manifest is logged again, and how many are remembered. */
const LOG_AGAIN_MS = 10 * 60_000;
const REMEMBERED = 1000;

/** The first operation name in a text, for the log (no parse: most of these are seen once). */
const nameIn = (text: string | undefined) => (text ? /^\s*(?:query|mutation|subscription)\s+([A-Za-z_]\w*)/.exec(text)?.[1] : undefined);

export interface UnlistedReporterOptions {
  readonly log: (line: string) => void;
  /** Counts every request served with an operation outside the manifest. */
  readonly count: () => void;
  readonly againMs?: number;
}

/**
 * The `log` stage's report: every request counted (`gateway_unsafelisted_operations_total`),
 * each distinct operation (by its SHA-256) logged once per ten minutes with its name, hash
 * and how many requests ran it since, so a client in a loop cannot flood the log. The memory
 * of what was logged is bounded (forgotten wholesale when full: at worst a line logged again).
 */
export function unlistedReporter(options: UnlistedReporterOptions): OnUnlisted {
  const againMs = options.againMs ?? LOG_AGAIN_MS;
  const seen = new Map<string, { at: number; since: number }>();
  return ({ text, hash }) => {
    options.count();
    const now = Date.now();
    const last = seen.get(hash);
    if (last && now - last.at < againMs) {
      last.since += 1;
      return;
    }
    if (!last && seen.size >= REMEMBERED) seen.clear();
    seen.set(hash, { at: now, since: 0 });
    const name = nameIn(text);
    const again = last ? `, ${last.since + 1} requests of it since last logged` : '';
    options.log(
      `gateway: served operation ${name ? `"${name}"` : '(anonymous)'} (sha256 ${hash}) that is not in the persisted-operation manifest` +
        ` (PERSISTED_OPERATIONS_ONLY=log${again}); add it to the manifest before enforcing`,
    );
  };
}
