import { z } from 'zod';
import type { FeedIssue } from './feed.js';

/**
 * Turns a zod validation failure of one record into feed issues naming the field (the
 * supplier's own column or key name) and the value found there. A key the format does not
 * have is named itself (its path, its value), not the record around it, so a misspelt key
 * is found at once.
 */
export function recordIssues(file: string, error: z.ZodError, raw: unknown, at: { line?: number; path?: string }): FeedIssue[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => recordIssue(file, [...issue.path, key], raw, at, 'is not a key of this format (misspelt?)'))
      : [recordIssue(file, issue.path, raw, at, issue.message)],
  );
}

function recordIssue(
  file: string,
  issuePath: readonly PropertyKey[],
  raw: unknown,
  at: { line?: number; path?: string },
  message: string,
): FeedIssue {
  const field = issuePath.length > 0 ? issuePath.map(String).join('.') : '(record)';
  let value: unknown = raw;
  for (const key of issuePath) {
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  const path =
    at.path !== undefined ? `${at.path}${issuePath.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}` : undefined;
  return {
    file,
    ...(at.line !== undefined ? { line: at.line } : {}),
    ...(path !== undefined ? { path } : {}),
    field,
    value: value === undefined ? null : value,
    message,
  };
}

/** Builds a zod enum error message that lists the accepted words. */
export function oneOf(words: readonly string[]): string {
  return `must be one of ${words.map((w) => JSON.stringify(w)).join(', ')}`;
}

/**
 * A supplier's own word, one of `table`'s keys; the schema's output is the word as written.
 * Own keys only: `toString` or `constructor` are not words of any format.
 */
export function supplierWord(table: Readonly<Record<string, unknown>>) {
  return z.string().refine((v) => Object.hasOwn(table, v), { message: oneOf(Object.keys(table)) });
}

/** Like `supplierWord`, but outputs what the word means in the contract's terms. */
export function translatedWord<T>(table: Readonly<Record<string, T>>) {
  return supplierWord(table).transform((v) => table[v] as T);
}
