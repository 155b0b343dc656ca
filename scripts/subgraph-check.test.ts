import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EPHEMERAL_ENV } from '../test/helpers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'msg-subgraph-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `npm run subgraph:check` as a supplier does, against an empty registry of its own. */
function subgraphCheck(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/subgraph-check.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...EPHEMERAL_ENV, REGISTRY_DIR: join(dir, 'registry'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('subgraph:check', () => {
  // A publish answers 422 CHECKS_ABORTED here; the command once died with the error's stack trace.
  it('gives a verdict, not a stack trace, when the checks are stopped', async () => {
    const schema = join(ROOT, 'test/fixtures/nme/schema.graphql');
    const run = await subgraphCheck(['--name', 'nme', '--schema', schema], { REGISTRY_CHECK_TIMEOUT_MS: '1' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED: the checks took longer than 1 ms (REGISTRY_CHECK_TIMEOUT_MS) and were stopped');
    expect(run.stderr).not.toContain('    at ');
  }, 60_000);
});
