/**
 * The benchmark runs every Node gateway from JavaScript compiled ahead (`tsconfig.build.json`
 * into `dist/`), not through tsx: tsx's loader thread and the transformed sources it keeps
 * cost this gateway, with its hundred-odd TypeScript files, some 40 MB of resident memory
 * that plain Apollo Gateway's single file does not pay, so peak memory compared the loaders
 * more than the gateways. The files read beside the code (SDL, HTML, JSON) are copied along.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Where the compiled twin of a TypeScript file of the project is. */
export const compiled = (root: string, script: string): string => join(root, 'dist', script.replace(/\.ts$/, '.js'));

/** Compiles the project into `dist/` (replacing what was there) and copies the files its code reads. */
export function buildDist(root: string): void {
  const dist = join(root, 'dist');
  rmSync(dist, { recursive: true, force: true });
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${result.stdout}${result.stderr}`);
  for (const folder of ['gateway', 'schema', 'subgraphs'])
    cpSync(join(root, folder), join(dist, folder), { recursive: true, filter: (source) => !source.endsWith('.ts') });
}
