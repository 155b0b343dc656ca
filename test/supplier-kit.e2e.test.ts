/**
 * A new supplier's path through docs/SUPPLIERS.md, with the programs as a user runs them:
 * scaffold a subgraph, check it, mint a token, run it next to `npm start`, publish it, and
 * see its cluster in the comparison; no file of this repository edited, nothing restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EPHEMERAL_ENV, query } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'msg-supplier-'));
const children: ChildProcess[] = [];
const env = { ...EPHEMERAL_ENV, REGISTRY_DIR: join(dir, 'registry') };

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly stdout: () => string;
  readonly exit: Promise<number | null>;
}

function run(script: string, args: readonly string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, stdout: () => stdout, exit };
}

async function listening(program: Run, name: string): Promise<string> {
  const pattern = new RegExp(`${name}\\s+listening on (http://\\S+)`);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const match = pattern.exec(program.output());
    if (match) return match[1]!;
    if (program.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not start:\n${program.output()}`);
}

describe('a new supplier following docs/SUPPLIERS.md', () => {
  const out = join(dir, 'nme');

  it('scaffolds a subgraph that passes the checks as generated, and sees the checks fail when it breaks the contract', async () => {
    const scaffold = run('scripts/subgraph-new.ts', ['NME', '--out', out]);
    expect(await scaffold.exit).toBe(0);
    expect(scaffold.output()).toContain('Scaffolded subgraph "nme" (cluster NME, supplier CSC)');
    const check = run('scripts/subgraph-check.ts', ['--name', 'nme', '--schema', join(out, 'schema.graphql')]);
    expect(await check.exit).toBe(0);
    expect(check.output()).toContain('PASSED');
    const untagged = readFileSync(join(out, 'schema.graphql'), 'utf8').replace(
      'NmeReleaseView @tag(name: "cluster-view")',
      'NmeReleaseView',
    );
    writeFileSync(join(dir, 'untagged.graphql'), untagged);
    const failing = run('scripts/subgraph-check.ts', ['--name', 'nme', '--schema', join(dir, 'untagged.graphql'), '--json']);
    expect(await failing.exit).toBe(1);
    const report = JSON.parse(failing.stdout());
    expect(report.ok).toBe(false);
    expect(report.contract[0]).toMatchObject({ code: 'CONTRACT_TAG', message: expect.stringContaining('Release.nme') });
  });

  it('runs it, publishes it into a running npm start, and sees its cluster in the comparison', async () => {
    const minted = run('scripts/registry-token.ts', ['--supplier', 'CSC', '--subgraphs', 'nme']);
    expect(await minted.exit).toBe(0);
    const token = minted.stdout().trim();
    expect(token).toMatch(/^msr_/);
    expect(readFileSync(join(env.REGISTRY_DIR, 'tokens.json'), 'utf8')).not.toContain(token);

    const stack = run('scripts/start.ts');
    const gateway = await listening(stack, 'gateway');
    const subgraph = run(join(out, 'main.ts'), [], { NME_PORT: '0' });
    const nmeUrl = await listening(subgraph, 'nme');
    expect((await query(gateway, '{ compareRelease(code: "R2") { clusters { id } } }')).compareRelease.clusters).toHaveLength(2);

    const response = await fetch(new URL('/registry/subgraphs/nme', gateway), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ sdl: readFileSync(join(out, 'schema.graphql'), 'utf8'), url: nmeUrl }),
    });
    const body = (await response.json()) as { accepted: boolean; served: boolean };
    expect(response.status).toBe(201);
    expect(body).toMatchObject({ accepted: true, served: true });
    const data = await query(
      gateway,
      '{ compareRelease(code: "R2", asOf: "2007-09-06") { clusters { id } } release(code: "R2") { nme { localName remarks } } }',
    );
    expect(data.compareRelease.clusters.map((c: { id: string }) => c.id).sort()).toEqual(['LONDON', 'NME', 'SOUTH']);
    expect(data.release.nme.localName).toBe('NME Release 2');
    stack.child.kill('SIGTERM');
    subgraph.child.kill('SIGTERM');
    expect(await stack.exit).toBe(0);
    expect(await subgraph.exit).toBe(0);
  });
});
