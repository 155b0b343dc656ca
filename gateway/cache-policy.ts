/**
 * What the gateway's caches may keep, decided in one place for the response cache and the
 * entity cache alike.
 */

/** A subgraph answer's cacheability, as the gateway's caches apply it. */
export interface SubgraphHint {
  /** Seconds the answer may be kept; 0: not at all. */
  readonly maxAge: number;
  /** The subgraph itself marked it `public`: it may also be shared with authorised requests. */
  readonly markedPublic: boolean;
}

/** The directives of a `Cache-Control` header, lower-cased (`max-age=60, public` → {max-age: "60", public: true}). */
function directives(header: string): Map<string, string | true> {
  const found = new Map<string, string | true>();
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2) as [string, string | undefined];
    if (name) found.set(name.toLowerCase(), value === undefined ? true : value.trim().replace(/^"|"$/g, ''));
  }
  return found;
}

/**
 * How a subgraph's answer stands to the feed version the caches would key it by (the
 * operation's, as it started): `none`, the subgraph has no known feed version; `current`, it
 * said it answered from exactly that version (`FEED_VERSION_HEADER`); `other`, it answered
 * from another one (the new report was not yet visible at the operation's pin: its clock is
 * ahead of the gateway's, or the gateway heard of it within the millisecond it became
 * visible; or a replica behind the others); `unstated`, it has feed versions but does not say
 * which it answered from (a supplier on an older kit).
 */
export type FeedAnswer = 'none' | 'current' | 'other' | 'unstated';

/** `expected`: the operation's version of the subgraph (null: no feed; undefined: unknown); `answered`: its header. */
export function feedAnswer(expected: string | null | undefined, answered: string | null | undefined): FeedAnswer {
  if (typeof expected !== 'string') return 'none';
  if (!answered) return 'unstated';
  return answered === expected ? 'current' : 'other';
}

/**
 * An answer is cacheable only when its subgraph said so: its own `Cache-Control` with a
 * `max-age` (or `s-maxage`, as the gateway is a shared cache) and neither `no-store`,
 * `no-cache` nor `private` (the caches are not keyed by client); or, without a `max-age`,
 * when it answered from exactly the feed version the caches key by (`current`), for
 * `defaultMaxAge`. An answer from another version than the key's (`other`) is never kept: it
 * would be an old report served under the new version until the next one. A feed subgraph
 * that does not say which version it answered from (`unstated`) gets no default, only what
 * its own `Cache-Control` allows, as a subgraph without feed versions does.
 */
export function subgraphHint(header: string | null | undefined, feed: FeedAnswer, defaultMaxAge: number): SubgraphHint {
  const d = directives(header ?? '');
  const markedPublic = d.get('public') === true;
  if (feed === 'other' || d.has('no-store') || d.has('no-cache') || d.has('private')) return { maxAge: 0, markedPublic: false };
  const stated = d.get('s-maxage') ?? d.get('max-age');
  if (typeof stated === 'string' && /^\d+$/.test(stated)) return { maxAge: Number(stated), markedPublic };
  return { maxAge: feed === 'current' ? defaultMaxAge : 0, markedPublic };
}

/** The `Cache-Control` Apollo Gateway reads to restrict the operation's cache policy. */
export function hintHeader(hint: SubgraphHint): string {
  return `max-age=${hint.maxAge}${hint.markedPublic ? ', public' : ''}`;
}

/**
 * Whether an operation's result may be kept: data, no errors, and no extension a client must
 * see (`valueCompletion` and the like). Only data is stored, so anything else would be lost
 * on a hit; `cache` is the response cache's own status, added to every answer.
 */
export function storableResult(result: { data?: unknown; errors?: readonly unknown[]; extensions?: Record<string, unknown> }): boolean {
  if (!result.data || result.errors?.length) return false;
  return Object.keys(result.extensions ?? {}).every((name) => name === 'cache');
}
