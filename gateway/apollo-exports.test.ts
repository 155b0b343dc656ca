import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { plainExports } from './apollo-exports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** An index as TypeScript's CommonJS `export *` builds it: a getter per name, `__esModule` hidden. */
function reexporting(module: Record<string, unknown>): object {
  const index = {};
  Object.defineProperty(index, '__esModule', { value: true });
  for (const name of Object.keys(module)) Object.defineProperty(index, name, { enumerable: true, get: () => module[name] });
  return index;
}

describe('plainExports', () => {
  it('gives every re-exported name as a data property with the same value, and keeps `__esModule`', () => {
    const assert = () => undefined;
    const ERRORS = { A: 1 };
    const plain = plainExports(reexporting({ assert, ERRORS })) as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(plain, 'assert')).toEqual({
      value: assert,
      enumerable: true,
      writable: false,
      configurable: false,
    });
    expect(plain['ERRORS']).toBe(ERRORS);
    expect(plain['__esModule']).toBe(true);
    expect(Object.keys(plain)).toEqual(['assert', 'ERRORS']);
  });

  it('leaves an object without getters as it is', () => {
    const exports = { a: 1 };
    expect(plainExports(exports)).toBe(exports);
  });
});

describe('at gateway start-up', () => {
  it('runs before Apollo’s packages load, and leaves their indexes without getters', () => {
    // A process of its own, with the gateway's import graph as Node's ESM loader links it
    // (an `import` registers a CommonJS package before any module runs, loading it later).
    const script = `
      import './gateway/server.ts';
      import { loadedEarly } from './gateway/apollo-exports.ts';
      import { createRequire } from 'node:module';
      const require = createRequire(${JSON.stringify(`${ROOT}gateway/`)});
      const getters = (name) =>
        Object.values(Object.getOwnPropertyDescriptors(require.cache[require.resolve(name)].exports)).filter((d) => d.get).length;
      const names = ['@apollo/federation-internals', '@apollo/query-graphs', '@apollo/query-planner'];
      console.log(JSON.stringify({ loadedEarly, getters: names.map(getters) }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ loadedEarly: [], getters: [0, 0, 0] });
  });
});
