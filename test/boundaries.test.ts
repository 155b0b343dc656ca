/**
 * The import boundaries: the gateway knows subgraphs only by what they serve, the subgraphs
 * (the kit among them) know nothing of the gateway, and the contract in `schema/` knows
 * neither. Every `.ts` (and `.mjs`) file's imports are read: static `import`/`export … from`,
 * dynamic `import()`, and `new URL('…', import.meta.url)` paths to code. `scripts/` and
 * `test/` may import everyone (they start the whole stack).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Which top-level folders a folder's files must not import from. */
const RULES: Readonly<Record<string, readonly string[]>> = {
  gateway: ['subgraphs'],
  subgraphs: ['gateway'],
  schema: ['gateway', 'subgraphs'],
};

const SPECIFIER = [
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, // import x from '…', export { x } from '…'
  /\bimport\s*['"]([^'"]+)['"]/g, // import '…'
  /\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g, // import('…')
  /\bnew\s+URL\s*\(\s*['"`]([^'"`]+)['"`]\s*,\s*import\.meta\.url/g, // new URL('…', import.meta.url)
];

/** Paths a file refers to, relative to the repository (only relative specifiers can cross folders). */
export function referencesOf(file: string, text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = SPECIFIER.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1]!));
  return found.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every import that crosses a boundary: `from -> to`. */
export function offenders(): string[] {
  return Object.entries(RULES).flatMap(([folder, forbidden]) =>
    sourceFiles(folder).flatMap((file) =>
      referencesOf(file, readFileSync(join(ROOT, file), 'utf8'))
        .filter((to) => forbidden.some((f) => to === f || to.startsWith(`${f}/`)))
        .map((to) => `${file} -> ${to}`),
    ),
  );
}

describe('import boundaries', () => {
  it('reads static, dynamic and import.meta.url references, and leaves comments and packages out', () => {
    const text = [
      "import { a } from '../subgraphs/kit/http.js';",
      "export { b } from '../subgraphs/kit/date.js';",
      "import '../subgraphs/side-effect.js';",
      "const c = await import('../subgraphs/lazy.js');",
      "const d = new URL('../subgraphs/worker.mjs', import.meta.url);",
      "// import { e } from '../subgraphs/commented.js';",
      "import { z } from 'zod';",
    ].join('\n');
    expect(referencesOf('gateway/x.ts', text)).toEqual([
      'subgraphs/kit/http.js',
      'subgraphs/kit/date.js',
      'subgraphs/side-effect.js',
      'subgraphs/lazy.js',
      'subgraphs/worker.mjs',
    ]);
  });

  it('keep gateway/ out of subgraphs/, subgraphs/ out of gateway/, and schema/ out of both', () => {
    expect(offenders()).toEqual([]);
  });
});
