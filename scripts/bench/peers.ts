/**
 * The peers `npm run bench` measures this gateway against: Hive Gateway, with its JavaScript
 * planner and with its Rust planner (`@graphql-hive/router-runtime`, which Hive's CLI loads
 * for `--hive-router-runtime` / HIVE_ROUTER_RUNTIME=true). They are not project dependencies:
 * they are installed on demand, at the exact versions below, into `.bench-peers/` (ignored by
 * git) and reused while they are there at those versions. Without the registry they are
 * skipped with one line saying why; the rest of the benchmark runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The pinned versions (the newest that run on Node 20: both declare `engines.node >= 20`). */
export const PEER_PACKAGES: Readonly<Record<string, string>> = {
  '@graphql-hive/gateway': '2.15.1',
  '@graphql-hive/router-runtime': '1.4.23',
  // Hive's peer dependency, the same version as this project's.
  graphql: '16.15.0',
};

export type PeerInstall = { readonly ok: true; readonly bin: string } | { readonly ok: false; readonly reason: string };

/** The packages of PEER_PACKAGES missing from `dir` or present at another version. */
export function missingPeers(dir: string): string[] {
  return Object.entries(PEER_PACKAGES)
    .filter(([name, version]) => {
      const manifest = join(dir, 'node_modules', name, 'package.json');
      if (!existsSync(manifest)) return true;
      return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version !== version;
    })
    .map(([name, version]) => `${name}@${version}`);
}

export interface EnsureOptions {
  /** npm's environment (e.g. npm_config_registry); the benchmark's by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Progress lines. */
  readonly log: (line: string) => void;
  /** How long npm may take before it is stopped; 10 minutes by default. */
  readonly timeoutMs?: number;
}

/**
 * Makes sure `dir` holds the peers at their pinned versions: reuses them when present,
 * otherwise installs them with npm. Never throws: a failure comes back as one line.
 */
export async function ensurePeers(dir: string, options: EnsureOptions): Promise<PeerInstall> {
  const bin = join(dir, 'node_modules', '@graphql-hive', 'gateway', 'dist', 'bin.js');
  const missing = missingPeers(dir);
  if (missing.length === 0 && existsSync(bin)) return { ok: true, bin };
  options.log(`installing the benchmark's peers into ${dir} (${missing.join(', ')}); this takes a minute the first time...`);
  mkdirSync(dir, { recursive: true });
  // A manifest of its own, so npm never walks up to the project's package.json and lockfile.
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'bench-peers', private: true, description: 'npm run bench installs these; not committed', dependencies: PEER_PACKAGES }, null, 2)}\n`,
  );
  const args = [
    'install',
    '--prefix',
    dir,
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--fetch-retries=1',
    '--fetch-timeout=30000',
    '--fetch-retry-mintimeout=2000',
    '--fetch-retry-maxtimeout=5000',
  ];
  const { code, output } = await run('npm', args, options.env ?? process.env, options.timeoutMs ?? 600_000);
  if (code !== 0) return { ok: false, reason: `npm could not install ${missing.join(', ')} into ${dir}: ${npmFailure(output, code)}` };
  const still = missingPeers(dir);
  if (still.length > 0) return { ok: false, reason: `npm finished but ${still.join(', ')} is not in ${dir}` };
  return { ok: true, bin };
}

/** npm's failure in one line: its error code and first message (e.g. `ENOTFOUND: request to ... failed`). */
export function npmFailure(output: string, code: number | string): string {
  const errors = output
    .split('\n')
    .map((line) => /^npm (?:error|ERR!) (.*)$/.exec(line.trim())?.[1]?.trim())
    .filter((line): line is string => Boolean(line));
  const errorCode = errors.map((line) => /^code (\S+)/.exec(line)?.[1]).find(Boolean);
  const message = errors.find((line) => !/^(code|errno|syscall|A complete log|Log files|\d{4}-|path|dest) ?/.test(line));
  const text = [errorCode, message].filter(Boolean).join(': ');
  return text || `npm exited with ${code}${output.trim() ? `: ${output.trim().split('\n').pop()}` : ''}`;
}

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      output += `\nnpm error stopped after ${timeoutMs / 1000} s`;
      child.kill('SIGTERM');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 'spawn', output: `npm error ${error.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', output });
    });
  });
}

/** How the benchmark runs a Hive Gateway variant: the command line and what proves it is up. */
export interface HiveLaunch {
  readonly args: string[];
  /** The ready line; its group is the origin Hive listens on (it serves /graphql). */
  readonly ready: RegExp;
  /** Why a started process is not the variant asked for, or null. */
  check(lines: readonly string[]): string | null;
}

/**
 * Hive Gateway serving `supergraph` (a file) on 127.0.0.1:port, one process (Hive's default
 * `--fork 1`), with the Rust planner when `rust`. Hive falls back to its JavaScript planner,
 * with only a warning, when the Rust one cannot load: that would measure the wrong gateway,
 * so it is refused.
 */
export function hiveLaunch(bin: string, supergraph: string, port: number, rust: boolean): HiveLaunch {
  return {
    args: [bin, 'supergraph', supergraph, '--host', '127.0.0.1', '--port', String(port), ...(rust ? ['--hive-router-runtime'] : [])],
    ready: /Listening on (http:\/\/\S+)/,
    check: (lines) => {
      if (!rust) return null;
      if (lines.some((line) => line.includes('Could not load the @graphql-hive/router-runtime')))
        return 'Hive could not load @graphql-hive/router-runtime and fell back to its JavaScript planner';
      if (!lines.some((line) => line.includes('Using Hive Router Runtime'))) return 'Hive did not say it uses the Hive Router Runtime';
      return null;
    },
  };
}
