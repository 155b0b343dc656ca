/**
 * `npm run audit`: runs The Guild's federation gateway audit
 * (github.com/graphql-hive/federation-gateway-audit, 46 suites, about 200 cases) against this
 * gateway, each suite's supergraph served through `SUPERGRAPH_PATH`, and compares the outcome,
 * case by case, with plain Apollo Gateway's as the audit itself records it
 * (`gateways/apollo-gateway/results.txt`). The audit is not on npm: it is read from a checkout
 * (`--dir`, by default `.audit/`, git-ignored), cloned there with git when absent. Nothing of
 * it is committed. Its own dependencies are installed into the checkout on first use, without
 * the packages it only needs to run other gateways.
 *
 *   npm run audit                       # every suite
 *   npm run audit -- --only requires-interface,mutations
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/redis.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPOSITORY = 'https://github.com/graphql-hive/federation-gateway-audit';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string', default: join(ROOT, '.audit') },
    only: { type: 'string' },
    // A suite's gateway starts from scratch; on a busy machine that can take a while.
    'start-timeout-ms': { type: 'string', default: '120000' },
  },
});
const dir = args.dir;
const log = (line: string) => process.stderr.write(`${line}\n`);

function run(command: string, argv: string[], cwd: string): void {
  const result = spawnSync(command, argv, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${argv.join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal})`);
}

/** The audit checkout, cloned when absent, with its own dependencies installed. */
function prepare(): void {
  if (!existsSync(join(dir, 'package.json'))) {
    log(`cloning ${REPOSITORY} into ${dir}...`);
    const clone = spawnSync('git', ['clone', '--depth', '1', REPOSITORY, dir], { stdio: 'inherit' });
    if (clone.status !== 0) {
      throw new Error(`cannot clone ${REPOSITORY} (no network?): put a checkout of it at ${dir} or pass --dir <checkout>`);
    }
  }
  if (existsSync(join(dir, 'node_modules', 'graphql-yoga'))) return;
  // Its devDependencies run the other gateways it audits (and one, wgc, is not on npm):
  // this run needs only what serves the suites and runs the tests.
  const manifestPath = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { devDependencies?: Record<string, string> };
  const keep = new Set(['graphql', 'tsx', 'typescript', '@types/node', '@types/async-retry', '@types/wait-on', '@types/yargs']);
  manifest.devDependencies = Object.fromEntries(Object.entries(manifest.devDependencies ?? {}).filter(([name]) => keep.has(name)));
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  log(`installing the audit's dependencies in ${dir} (once)...`);
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], dir);
}

/** Each line pair of a results.txt: suite id, then one `.` or `X` per case. */
function readResults(path: string): Map<string, string> {
  const lines = readFileSync(path, 'utf8').split('\n');
  const results = new Map<string, string>();
  // After the pairs comes a summary (Total, Passed, Failed): only a line of dots and Xs is a result.
  for (let i = 0; i + 1 < lines.length; i += 2)
    if (lines[i]!.trim() && /^[.X]+$/.test(lines[i + 1]!.trim())) results.set(lines[i]!.trim(), lines[i + 1]!.trim());
  return results;
}

async function main(): Promise<void> {
  prepare();
  const work = join(dir, 'gateways', 'millennium-supergraph');
  mkdirSync(work, { recursive: true });
  const [gatewayPort, suitesPort] = [await freePort(), await freePort()];
  // The audit calls this once per suite: write that suite's supergraph, then run the gateway on
  // it in the foreground (the audit stops it when the suite is done).
  writeFileSync(
    join(work, 'run.sh'),
    [
      'set -e',
      `node --import tsx "${join(dir, 'src', 'cli.ts')}" supergraph --port ${suitesPort} --cwd "${work}" --test "$1" >/dev/null`,
      `cd "${ROOT}"`,
      `SUPERGRAPH_PATH="${join(work, 'supergraph.graphql')}" GATEWAY_PORT=${gatewayPort} HOST=127.0.0.1 LOG_LEVEL=warn exec node --import tsx gateway/main.ts`,
      '',
    ].join('\n'),
  );
  // The audit's CLI uses Promise.withResolvers (Node 22); on Node 20 it gets the same few lines.
  const shim = join(work, 'node20-shim.mjs');
  writeFileSync(
    shim,
    'if (!Promise.withResolvers) Promise.withResolvers = function () { let resolve, reject; const promise = new Promise((a, b) => { resolve = a; reject = b; }); return { promise, resolve, reject }; };\n',
  );
  const suites = args.only ? args.only.split(',').map((s) => s.trim()) : null;
  const common = [
    '--run-script',
    join(work, 'run.sh'),
    '--graphql',
    `http://127.0.0.1:${gatewayPort}/graphql`,
    '--healthcheck',
    `http://127.0.0.1:${gatewayPort}/health`,
    '--cwd',
    work,
    '--port',
    String(suitesPort),
  ];
  const env = { ...process.env, NODE_OPTIONS: `--import ${shim}`, GATEWAY_TIMEOUT: args['start-timeout-ms'] };
  const ours = new Map<string, string>();
  const invocations = suites ? suites.map((id) => ['test-suite', '--test', id, '--reporter', 'dot']) : [['test', '--write', 'results.txt']];
  for (const invocation of invocations) {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(dir, 'src', 'cli.ts'), ...invocation, ...common], {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        process.stderr.write(chunk);
      });
      child.once('error', reject);
      child.once('exit', () => resolve(text));
    });
    if (!suites) for (const [id, result] of readResults(join(work, 'results.txt'))) ours.set(id, result);
    else ours.set(invocation[2]!, (output.match(/^[.X]+$/m)?.[0] ?? '').trim());
  }
  const apollo = readResults(join(dir, 'gateways', 'apollo-gateway', 'results.txt'));
  let passed = 0;
  let total = 0;
  const worse: string[] = [];
  const better: string[] = [];
  for (const [id, result] of ours) {
    total += result.length;
    passed += [...result].filter((c) => c === '.').length;
    const theirs = apollo.get(id) ?? '';
    [...result].forEach((c, i) => {
      if (c === 'X' && theirs[i] === '.') worse.push(`${id}_${i}`);
      if (c === '.' && theirs[i] === 'X') better.push(`${id}_${i}`);
    });
  }
  const head = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  console.log(`federation gateway audit ${head || '(unknown commit)'}: ${passed}/${total} cases passed in ${ours.size} suites`);
  console.log(
    `against plain Apollo Gateway's recorded results: ${worse.length} worse${worse.length ? ` (${worse.join(', ')})` : ''}, ${better.length} better${better.length ? ` (${better.join(', ')})` : ''}`,
  );
  process.exitCode = worse.length > 0 ? 1 : 0;
}

await main().catch((error: unknown) => {
  log(`npm run audit: ${(error as Error).message}`);
  process.exitCode = 2;
});
