/**
 * "Same answer" for `npm run bench`: before anything is timed, every variant must answer each
 * workload as plain Apollo Gateway does. Gateways differ, legitimately, in what they put in
 * `extensions` (cache status, traces, error codes of their own), so the comparison is a deep
 * equality of `data` and of `errors` with every error's `extensions` removed. Key order does
 * not matter; list order does.
 */
import { isDeepStrictEqual } from 'node:util';

/** What the comparison looks at in one answer. */
export interface Answer {
  readonly status: number;
  readonly data: unknown;
  readonly errors: unknown;
}

/** Parses an HTTP answer; a body that is not a JSON object is kept as an error, never thrown. */
export function readAnswer(status: number, text: string): Answer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status, data: undefined, errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    return { status, data: undefined, errors: [{ message: `not a GraphQL answer: ${text.slice(0, 200)}` }] };
  const { data, errors } = json as { data?: unknown; errors?: unknown };
  return {
    status,
    data,
    errors: Array.isArray(errors)
      ? errors.map((error: unknown) => {
          if (error === null || typeof error !== 'object') return error;
          const { extensions: _ignored, ...rest } = error as Record<string, unknown>;
          return rest;
        })
      : errors,
  };
}

/** Why `answer` is not the same as `expected`, or null when it is. */
export function answerDifference(expected: Answer, answer: Answer): string | null {
  if (!isDeepStrictEqual(answer.errors, expected.errors))
    return `errors differ: ${JSON.stringify(answer.errors ?? null).slice(0, 300)} where plain Apollo Gateway gives ${JSON.stringify(expected.errors ?? null).slice(0, 300)}`;
  if (!isDeepStrictEqual(answer.data, expected.data)) return `data differs${firstDifference(expected.data, answer.data, '')}`;
  return null;
}

/** ` at <path>` of the first place two JSON trees differ, to make a report actionable. */
function firstDifference(a: unknown, b: unknown, path: string): string {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const inA = (a as Record<string, unknown>)[key];
      const inB = (b as Record<string, unknown>)[key];
      if (!isDeepStrictEqual(inA, inB)) return firstDifference(inA, inB, `${path}${Array.isArray(a) ? `[${key}]` : `.${key}`}`);
    }
    return '';
  }
  return ` at ${path || '(root)'}: ${JSON.stringify(b)?.slice(0, 120)} where plain Apollo Gateway gives ${JSON.stringify(a)?.slice(0, 120)}`;
}

/** Posts `body` to `url` and reads the answer. */
export async function fetchAnswer(url: string, body: string): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return readAnswer(response.status, await response.text());
}
