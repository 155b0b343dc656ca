import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';

/** The `extensions.code` of `error` or of any error it wraps (`originalError`). */
function wrappedCode(error: unknown, depth = 0): unknown {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const { extensions, originalError } = error as { extensions?: Record<string, unknown>; originalError?: unknown };
  const code = extensions?.['code'];
  return code === ErrorCode.BAD_USER_INPUT ? code : wrappedCode(originalError, depth + 1);
}

/**
 * Normalizes errors in one place, for every service: a value the schema refuses (a bad
 * `Date`) keeps its `BAD_USER_INPUT` code even when GraphQL validation caught it, which
 * would otherwise report it as `GRAPHQL_VALIDATION_FAILED`. Never throws.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (formatted.extensions?.['code'] !== ErrorCode.BAD_USER_INPUT && wrappedCode(error) === ErrorCode.BAD_USER_INPUT) {
    return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BAD_USER_INPUT } };
  }
  return formatted;
}
