/**
 * The programs as users run them: `npm start`'s entry point, a subgraph's own main, and
 * what they say when a setting or a feed is wrong.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EPHEMERAL_ENV, query } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// One process (no tsx wrapper) so signals reach the program itself, as in production.
const NODE_ARGS = ['--import', 'tsx'];
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    // A child in a process group of its own (npm) is stopped with whatever it left behind.
    if (child.spawnargs[0] === 'npm' && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is gone already.
      }
    } else if (child.exitCode === null) child.kill('SIGKILL');
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exit: Promise<number | null>;
}

function run(script: string, env: NodeJS.ProcessEnv): Run {
  return runCommand(process.execPath, [...NODE_ARGS, script], env);
}

function runCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // npm gets a process group of its own, so the test can stop whatever it leaves running.
    detached: command === 'npm',
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function waitFor(run: Run, pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const match = pattern.exec(run.output());
    if (match) return match;
    if (run.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`did not see ${pattern} in:\n${run.output()}`);
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'msg-test-'));
  dirs.push(dir);
  return dir;
}

describe('npm start', () => {
  it('starts four subgraphs and the gateway, prints where each listens, and stops cleanly on SIGTERM', async () => {
    const app = run('scripts/start.ts', EPHEMERAL_ENV);
    const [, url] = await waitFor(app, /gateway\s+listening on (http:\/\/\S+)/);
    for (const name of ['programme', 'south', 'london', 'insights'])
      expect(app.output()).toMatch(new RegExp(`${name}\\s+listening on http://127\\.0\\.0\\.1:\\d+/graphql`));
    const health = await fetch(url!.replace('/graphql', '/health'));
    expect(health.status).toBe(200);
    const data = await query(url!, '{ compareRelease(code: "R2") { divergent } }');
    expect(data.compareRelease.divergent).toBe(true);
    app.child.kill('SIGTERM');
    expect(await app.exit).toBe(0);
    expect(app.output()).toMatch(/SIGTERM: shutting down/);
  });

  it('run as `npm start`, stops every service when npm is sent SIGTERM (nothing keeps the ports)', async () => {
    const app = runCommand('npm', ['start'], EPHEMERAL_ENV);
    const [, url] = await waitFor(app, /gateway\s+listening on (http:\/\/\S+)/, 60_000);
    const health = url!.replace('/graphql', '/health');
    expect((await fetch(health)).status).toBe(200);
    app.child.kill('SIGTERM');
    await app.exit;
    await waitFor(app, /SIGTERM: shutting down/);
    const deadline = Date.now() + 15_000;
    let answering = true;
    while (answering && Date.now() < deadline) {
      answering = await fetch(health).then(
        () => true,
        () => false,
      );
      if (answering) await new Promise((r) => setTimeout(r, 200));
    }
    expect(answering).toBe(false);
  }, 90_000);

  it('says which port is taken and which variable moves the service', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const app = run('scripts/start.ts', { ...EPHEMERAL_ENV, PROGRAMME_PORT: String(port) });
      expect(await app.exit).toBe(1);
      expect(app.output()).toContain(`programme: port ${port} on 127.0.0.1 is already in use; set PROGRAMME_PORT to another port`);
      expect(app.output()).not.toMatch(/listening on/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('refuses a bad setting before anything starts, naming the variable and value', async () => {
    const app = run('scripts/start.ts', { ...EPHEMERAL_ENV, GATEWAY_PORT: 'four thousand' });
    expect(await app.exit).toBe(1);
    expect(app.output()).toMatch(/GATEWAY_PORT="four thousand"/);
    expect(app.output()).not.toMatch(/listening on/);
  });
});

describe('a cluster subgraph at start-up', () => {
  it('stops with an error naming file, line and field when its feed is broken', async () => {
    const dir = tempDir();
    const good = readFileSync(join(ROOT, 'subgraphs/south/feed/fujitsu-south-2007-09-06.csv'), 'utf8');
    writeFileSync(join(dir, 'fujitsu-south-2007-09-06.csv'), good.replace('22/12/2005', '32/12/2005'));
    const south = run('subgraphs/south/main.ts', { SOUTH_PORT: '0', SOUTH_FEED_DIR: dir });
    expect(await south.exit).toBe(1);
    const line = good.split('\n').findIndex((l) => l.includes('22/12/2005')) + 1;
    expect(south.output()).toContain(`fujitsu-south-2007-09-06.csv line ${line}, field ActualLive`);
    expect(south.output()).toContain('"32/12/2005"');
  });

  it('stops with a clear error when its feed folder is empty or missing', async () => {
    const empty = run('subgraphs/london/main.ts', { LONDON_PORT: '0', LONDON_FEED_DIR: tempDir() });
    expect(await empty.exit).toBe(1);
    expect(empty.output()).toMatch(/LONDON_FEED_DIR=".*": Feed folder .* holds no \.json feed file/);
    const missing = run('subgraphs/london/main.ts', { LONDON_PORT: '0', LONDON_FEED_DIR: '/nonexistent/feed' });
    expect(await missing.exit).toBe(1);
    expect(missing.output()).toMatch(/LONDON_FEED_DIR="\/nonexistent\/feed": Feed folder \/nonexistent\/feed cannot be read/);
  });

  it('serves its feed when run alone', async () => {
    const dir = tempDir();
    copyFileSync(join(ROOT, 'subgraphs/london/feed/bt-london-2007-09-06.json'), join(dir, 'bt-london-2007-09-06.json'));
    const london = run('subgraphs/london/main.ts', { LONDON_PORT: '0', LONDON_FEED_DIR: dir });
    const [, url] = await waitFor(london, /london\s+listening on (http:\/\/\S+)/);
    const data = await query(
      url!,
      '{ _entities(representations: [{ __typename: "Release", code: "R1" }]) { ... on Release { london { localName } } } }',
    );
    expect(data._entities).toEqual([{ london: { localName: 'LC1' } }]);
    london.child.kill('SIGTERM');
    expect(await london.exit).toBe(0);
  });
});
