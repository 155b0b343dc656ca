/**
 * What, besides the operation itself, makes two requests for one operation get different
 * answers: the client headers the subgraphs receive (`headers.ts`) and what authorization
 * decided for the caller (`auth/`). One function, so the response cache and the merging of
 * identical in-flight operations (`operation-dedupe.ts`) can never disagree on it.
 */
import type { Authorization } from './auth/index.js';
import type { HeaderRules } from './headers.js';
import type { CachedOperation } from './response-cache.js';

/** A request's own key parts; null: its answer is not to be shared (auth/ could not decide it). */
export type KeyParts = (operation: CachedOperation) => readonly unknown[] | null;

/** The key parts of a request under these access rules and `PROPAGATE_HEADERS` rules. */
export function requestKeyParts(access: Pick<Authorization, 'accessKey'>, headerRules: HeaderRules): KeyParts {
  return (operation) => {
    const decided = access.accessKey(operation.query, operation.operationName, operation.caller);
    if (decided === null) return null;
    const vary = headerRules.empty ? null : headerRules.cacheVary(operation.headers());
    return [...(vary === null ? [] : [{ vary }]), ...(decided ? [{ access: decided }] : [])];
  };
}
