/**
 * Apollo's federation packages are TypeScript compiled to CommonJS, whose `export * from` puts
 * a getter on every re-exported name of a package's index (`__createBinding`): each
 * `federation_internals_1.assert(…)` or `isCompositeType(…)` in Apollo Gateway's result
 * shaping is a getter call. Result shaping does that for each field of each entity, and on
 * the Guild workload B that one getter was 5–7% of the gateway's CPU.
 *
 * Imported before anything else of the gateway (first in `server.ts`), this module loads
 * those indexes and puts in their place in `require.cache` a copy whose properties hold the
 * same values as plain data, so every package required after it (the query planner, Apollo
 * Gateway, composition) reads the copy. Sound because no module of these packages reassigns an
 * export after it has loaded (their `exports.x = …` run only at load): the getters would
 * always return what the copy holds. A package loaded before this module runs keeps its
 * getters, which is only slower.
 */
import { createRequire } from 'node:module';

/**
 * In dependency order: each is flattened before the next is loaded, since a package keeps the
 * object its `require` returned when it loaded.
 */
const PACKAGES = ['@apollo/federation-internals', '@apollo/query-graphs', '@apollo/query-planner'] as const;

/** An object with the same properties as `exports`, each a data property with the getter's value; the same object if it has no getter. */
export function plainExports(exports: object): object {
  const descriptors = Object.getOwnPropertyDescriptors(exports);
  if (!Object.values(descriptors).some((d) => d.get)) return exports;
  const plain: Record<PropertyKey, PropertyDescriptor> = {};
  for (const key of Reflect.ownKeys(descriptors)) {
    const { get, set: _set, ...descriptor } = descriptors[key as keyof typeof descriptors]!;
    plain[key] = get
      ? { value: get.call(exports), enumerable: descriptor.enumerable ?? false, writable: false, configurable: false }
      : descriptor;
  }
  return Object.defineProperties({}, plain);
}

/**
 * Replaces each package's index in `require.cache` with its plain copy; returns the packages
 * that had loaded already (they keep their getters for whoever holds them). An `import` of a
 * package elsewhere in the gateway puts an entry for it in `require.cache` before any module
 * runs (Node's ESM loader pre-parses CommonJS) but loads it only later: loading it here first
 * is what makes the copy the exports every later `require` and `import` gets.
 */
function flattenApolloExports(require: NodeJS.Require = createRequire(import.meta.url)): string[] {
  const late: string[] = [];
  for (const name of PACKAGES) {
    const path = require.resolve(name);
    if (require.cache[path]?.loaded) late.push(name);
    require(name);
    const module = require.cache[path];
    if (module) module.exports = plainExports(module.exports as object);
  }
  return late;
}

/** The packages that had loaded before the gateway's first module ran (empty when `server.ts` imports this first). */
export const loadedEarly: readonly string[] = flattenApolloExports();
