import { createHash } from 'node:crypto';

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
 * The one key builder of the gateway's caches (response cache, entity cache, in-flight
 * merging): `namespace:` and the SHA-256 of the parts' canonical JSON. Null when a part is too
 * deep to key: the caller then does without the cache, never fails the request.
 */
export function cacheKey(namespace: string, ...parts: unknown[]): string | null {
  // Each part may nest MAX_KEY_DEPTH levels: the list of parts is one more.
  const material = canonicalJson(parts, MAX_KEY_DEPTH + 1);
  return material === null ? null : `${namespace}:${createHash('sha256').update(material).digest('hex')}`;
}
