/**
 * Nesting bounds for JSON feed files. `JSON.parse` itself takes any depth, but everything
 * that walks the result afterwards (zod, the issue builder) recurses, and a 1,000,000-deep
 * file once ended as "Maximum call stack size exceeded" with no hint of where. A cheap scan
 * of the text before parsing refuses such a file with the line and JSON path at which it
 * went too deep.
 */
import { excerpt, FeedValidationError } from './feed.js';
import type { FeedFile } from './feed-format.js';

/** Deepest nesting of arrays and objects a feed file may have; real reports nest 4 deep. */
export const MAX_JSON_DEPTH = 64;

interface Frame {
  readonly array: boolean;
  index: number;
  key: string | null;
  awaitingKey: boolean;
}

function pathOf(frames: readonly Frame[]): string {
  let path = '$';
  for (const frame of frames) {
    if (frame.array) path += `[${frame.index}]`;
    else if (frame.key !== null) path += /^[A-Za-z_$][\w$]*$/.test(frame.key) ? `.${frame.key}` : `[${JSON.stringify(frame.key)}]`;
  }
  return path;
}

/**
 * Throws a `FeedValidationError` naming the line and path where `input` nests deeper than
 * `maxDepth`. Only brackets outside strings count; malformed JSON is left to `JSON.parse`.
 */
export function checkJsonDepth(input: FeedFile, maxDepth: number = MAX_JSON_DEPTH): void {
  const { text, file } = input;
  const frames: Frame[] = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i + 1;
      for (i = start; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
        else if (d === 0x0a) line++;
      }
      const top = frames.at(-1);
      if (top && !top.array && top.awaitingKey) {
        // Keys are kept only as excerpts: the path in a refusal stays short.
        top.key = excerpt(text.slice(start, Math.min(i, start + 64)));
        top.awaitingKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (frames.length >= maxDepth) {
        throw new FeedValidationError(file, [
          {
            file,
            line,
            path: pathOf(frames),
            field: '(document)',
            value: null,
            message: `nests arrays and objects more than ${maxDepth} deep`,
          },
        ]);
      }
      frames.push({ array: c === 0x5b, index: 0, key: null, awaitingKey: c === 0x7b });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      frames.pop();
    } else if (c === 0x2c /* , */) {
      const top = frames.at(-1);
      if (top?.array) top.index++;
      else if (top) top.awaitingKey = true;
    } else if (c === 0x0a) {
      line++;
    }
  }
}

/** Parses a JSON feed file's text, refusing it first if it nests too deep to walk safely. */
export function parseFeedJson(input: FeedFile, maxDepth: number = MAX_JSON_DEPTH): unknown {
  checkJsonDepth(input, maxDepth);
  return JSON.parse(input.text);
}
