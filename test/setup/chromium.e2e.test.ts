/**
 * `npm test` without a usable Chromium stops before any test with the one line that says how
 * to get one, and exit code 1: never a summary of passing tests over two failed files.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs vitest on `files` as `npm test` would, with a clean environment plus `env`. */
function vitest(files: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...files], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('a run with the browser tests and no usable Chromium', () => {
  it('stops before any test with one line naming the setting, and exits 1', async () => {
    const { code, output } = await vitest(['test/explorer.e2e.test.ts'], { CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(code).toBe(1);
    expect(output).toContain('CHROMIUM_PATH=/nonexistent/chromium is not an executable file');
    expect(output).not.toMatch(/Test Files|Tests +\d|passed/);
  });
});
