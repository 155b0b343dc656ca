import type { z } from 'zod';
import type { FeedIssue } from './feed.js';

/**
 * Turns a zod validation failure of one record into feed issues naming the field (the
 * supplier's own column or key name) and the value found there.
 */
export function recordIssues(file: string, error: z.ZodError, raw: unknown, at: { line?: number; path?: string }): FeedIssue[] {
  return error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)';
    let value: unknown = raw;
    for (const key of issue.path) {
      value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined;
    }
    const path =
      at.path !== undefined
        ? `${at.path}${issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')}`
        : undefined;
    return {
      file,
      ...(at.line !== undefined ? { line: at.line } : {}),
      ...(path !== undefined ? { path } : {}),
      field,
      value: value === undefined ? null : value,
      message: issue.message,
    };
  });
}

/** Builds a zod enum error message that lists the accepted words. */
export function oneOf(words: readonly string[]): string {
  return `must be one of ${words.map((w) => JSON.stringify(w)).join(', ')}`;
}
