import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PEER_PACKAGES, ensurePeers, hiveLaunch, missingPeers, npmFailure } from './peers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function peersDir(versions: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-peers-'));
  dirs.push(dir);
  for (const [name, version] of Object.entries(versions)) {
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version }));
  }
  return dir;
}
/** A registry URL nothing answers on: a port that was free a moment ago. */
async function deadRegistry(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/`;
}

describe("the benchmark's peers", () => {
  it('are reinstalled when missing or at another version than pinned', () => {
    expect(missingPeers(peersDir({}))).toEqual(Object.entries(PEER_PACKAGES).map(([n, v]) => `${n}@${v}`));
    expect(missingPeers(peersDir({ ...PEER_PACKAGES, '@graphql-hive/gateway': '2.15.0' }))).toEqual(['@graphql-hive/gateway@2.15.1']);
  });

  it('are reused at the pinned versions without asking the registry', async () => {
    const dir = peersDir(PEER_PACKAGES);
    mkdirSync(join(dir, 'node_modules/@graphql-hive/gateway/dist'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/@graphql-hive/gateway/dist/bin.js'), '');
    const lines: string[] = [];
    const env = { ...process.env, npm_config_registry: await deadRegistry() };
    expect(await ensurePeers(dir, { env, log: (line) => lines.push(line) })).toEqual({ ok: true, bin: expect.stringContaining('bin.js') });
    expect(lines).toEqual([]);
  });

  it('are skipped with one line naming the error when npm cannot reach the registry', async () => {
    const dir = peersDir({});
    const lines: string[] = [];
    const env = {
      ...process.env,
      npm_config_registry: await deadRegistry(),
      npm_config_cache: join(dir, 'cache'),
      npm_config_prefer_online: 'true',
    };
    const result = await ensurePeers(dir, { env, log: (line) => lines.push(line), timeoutMs: 60_000 });
    expect(lines).toEqual([expect.stringMatching(/^installing the benchmark's peers into .*@graphql-hive\/gateway@2\.15\.1/)]);
    expect(result.ok).toBe(false);
    const reason = result.ok ? '' : result.reason;
    expect(reason).toMatch(/^npm could not install @graphql-hive\/gateway@2\.15\.1.*: ECONNREFUSED/);
    expect(reason).not.toContain('\n');
  }, 90_000);

  it("say npm's failure in one line", () => {
    const output = [
      'npm error code ENOTFOUND',
      'npm error syscall getaddrinfo',
      'npm error errno ENOTFOUND',
      'npm error network request to https://registry.npmjs.org/x failed',
      'npm error A complete log of this run can be found in: /x.log',
    ].join('\n');
    expect(npmFailure(output, 1)).toBe('ENOTFOUND: network request to https://registry.npmjs.org/x failed');
    expect(npmFailure('', 1)).toBe('npm exited with 1');
  });

  it('refuse a Hive that fell back from the Rust planner', () => {
    const launch = hiveLaunch('bin.js', 'sg.graphql', 4000, true);
    expect(launch.args).toContain('--hive-router-runtime');
    expect(launch.check(['WRN Using Hive Router Runtime', 'INF Listening on http://127.0.0.1:4000'])).toBeNull();
    expect(launch.check(['WRN Using Hive Router Runtime', 'WRN Could not load the @graphql-hive/router-runtime package.'])).toMatch(
      /fell back/,
    );
    expect(hiveLaunch('bin.js', 'sg.graphql', 4000, false).check([])).toBeNull();
  });
});
