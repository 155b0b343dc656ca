import { hash } from 'node:crypto';

/**
 * Deepest nesting a key is built from. Client variables deeper than this are not keyed (the
 * request is answered uncached); real input objects and entity representations are a few
 * levels deep.
 */
export const MAX_KEY_DEPTH = 64;

type Frame = { readonly value: unknown; readonly depth: number } | string;

/**
 * JSON with every object's keys sorted, so `{a,b}` and `{b,a}` give the same text; built with
 * an explicit stack, never by recursion, so no input can exhaust the call stack. Null when the
 * value nests deeper than `maxDepth`.
 */
export function canonicalJson(value: unknown, maxDepth = MAX_KEY_DEPTH): string | null {
  let out = '';
  const stack: Frame[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (typeof frame === 'string') {
      out += frame;
      continue;
    }
    const { value: v, depth } = frame;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
      if (depth >= maxDepth) return null;
      // Pushed in reverse, so they are popped (written) in order.
      if (Array.isArray(v)) {
        out += '[';
        stack.push(']');
        for (let i = v.length - 1; i >= 0; i--) {
          const item: unknown = v[i];
          stack.push({ value: item === undefined || typeof item === 'function' ? null : item, depth: depth + 1 });
          if (i > 0) stack.push(',');
        }
      } else {
        const record = v as Record<string, unknown>;
        const keys = Object.keys(record)
          .filter((k) => record[k] !== undefined && typeof record[k] !== 'function')
          .sort();
        out += '{';
        stack.push('}');
        for (let i = keys.length - 1; i >= 0; i--) {
          stack.push({ value: record[keys[i]!], depth: depth + 1 });
          stack.push(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`);
        }
      }
    } else {
      out += JSON.stringify(v) ?? 'null';
    }
  }
  return out;
}

/**
 * The one key builder of the gateway's caches (response cache, entity cache): `namespace:`
 * and the SHA-256 of the parts' canonical JSON. Null when a part is too deep to key: the
 * caller then does without the cache, never fails the request.
 */
export function cacheKey(namespace: string, ...parts: unknown[]): string | null {
  // Each part may nest MAX_KEY_DEPTH levels: the list of parts is one more.
  const material = canonicalJson(parts, MAX_KEY_DEPTH + 1);
  // The one-shot digest: half the cost of a `createHash` object for a key's few hundred bytes.
  return material === null ? null : `${namespace}:${hash('sha256', material, 'hex')}`;
}

/**
 * The key of an in-flight subgraph fetch (`SUBGRAPH_DEDUPE`): the parts' JSON as they are,
 * neither canonical nor hashed. Two fetches merge only when they would send the same request
 * (the data source writes its body with the same `JSON.stringify`), so a pair built in
 * another key order is just not merged. Such a key never leaves the process and lives only as
 * long as its fetch; sorting and hashing it, as `cacheKey` does, cost 9% of the gateway's CPU
 * on the Guild workload B, whose entity fetches carry long representation lists. Null for
 * parts JSON cannot write (too deep, cyclic): that fetch is made on its own.
 */
export function inflightKey(...parts: unknown[]): string | null {
  try {
    return JSON.stringify(parts);
  } catch {
    return null;
  }
}
