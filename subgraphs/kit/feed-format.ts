/** A supplier feed format, and reading one report through it into the kit's feed model. */
import { createHash } from 'node:crypto';
import { checkConsistency, FeedValidationError, type FeedReference, type FeedSnapshot } from './feed.js';

/** What a parser receives: one feed file's text (byte-order mark removed). */
export interface FeedFile {
  readonly file: string;
  readonly text: string;
}

/** Where in the file a parsed record came from, for consistency errors. */
export interface Located<T> {
  readonly value: T;
  readonly line?: number;
  readonly path?: string;
}

/** A parser's result before the kit adds the checksum and the cross-row checks. */
export interface ParsedFeed<Extra> extends Omit<FeedSnapshot<Extra>, 'checksum' | 'releases' | 'rollout'> {
  readonly releases: readonly Located<FeedSnapshot<Extra>['releases'][number]>[];
  readonly rollout: readonly Located<FeedSnapshot<Extra>['rollout'][number]>[];
}

/** A supplier's feed format: which files are feeds, and how to read one. */
export interface FeedFormat<Extra> {
  /** File name ending of this supplier's feed files, e.g. `.csv`. */
  readonly extension: string;
  /** Parses one file; throws `FeedValidationError` naming each bad row and field. */
  parse(input: FeedFile): ParsedFeed<Extra>;
}

/** Reads, validates and normalizes one feed file. */
export function readFeed<Extra>(
  format: FeedFormat<Extra>,
  file: string,
  bytes: Buffer,
  reference: FeedReference,
  checksum: string = createHash('sha256').update(bytes).digest('hex'),
): FeedSnapshot<Extra> {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new FeedValidationError(file, [{ file, field: '(file)', value: null, message: 'the file is empty' }]);
  let parsed: ParsedFeed<Extra>;
  try {
    parsed = format.parse({ file, text });
  } catch (error) {
    // Any parser that recurses over what it read can overflow the stack on a hostile file;
    // that is a refusal of the file, not a failure of the subgraph.
    if (!(error instanceof RangeError)) throw error;
    throw new FeedValidationError(file, [{ file, field: '(file)', value: null, message: `the file cannot be read: ${error.message}` }]);
  }
  const snapshot = {
    ...parsed,
    checksum,
    releases: parsed.releases.map((r) => r.value),
    rollout: parsed.rollout.map((r) => r.value),
  };
  const locate = (list: readonly Located<unknown>[]) => (index: number) => {
    const at = list[index];
    return { ...(at?.line !== undefined ? { line: at.line } : {}), ...(at?.path !== undefined ? { path: at.path } : {}) };
  };
  const issues = checkConsistency(snapshot, reference, { release: locate(parsed.releases), rollout: locate(parsed.rollout) });
  if (issues.length > 0) throw new FeedValidationError(file, issues);
  return snapshot;
}
