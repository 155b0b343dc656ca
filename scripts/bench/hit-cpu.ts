/**
 * CPU per response-cache hit, against a bare `node:http` server writing the same bytes: a
 * measure that load on a shared machine does not distort as it distorts requests per second.
 * Starts this project's subgraphs, the gateway (in-memory cache, as `npm run bench`'s (c)
 * variant but through tsx, not compiled into dist/; access logs on when --logs) and the bench's bare server with the bytes of a hit of
 * the dashboard query; sends each `--requests` hits over `--connections` connections and
 * reads the server process's own CPU time (Linux /proc/<pid>/stat) before and after.
 * Run: `node --import tsx scripts/bench/hit-cpu.ts [--requests 20000] [--connections 20] [--rounds 3] [--rate-limit] [--logs] [--profile DIR]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadPersistedOperations } from '../../gateway/persisted-operations.js';
import { cpuTimes, start, stopAll, type Proc } from './process.js';
import { median } from './stats.js';
import { startOurSubgraphs } from './supergraphs.js';
import { GATEWAY_READY, gatewayEnv, startBare, type Target } from './variants.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '20' },
    'rate-limit': { type: 'boolean', default: false },
    logs: { type: 'boolean', default: false },
    /** Interleaved rounds (gateway, bare, gateway, …); medians are reported. */
    rounds: { type: 'string', default: '3' },
    /** A folder for a V8 CPU profile of the gateway (written when it stops). */
    profile: { type: 'string' },
  },
});

/** A process's user and system CPU time so far, in microseconds (clock ticks of 10 ms). */
function cpuMicros(proc: Proc): { user: number; system: number } {
  const { userMs, systemMs } = cpuTimes(proc.child.pid!);
  return { user: userMs * 1000, system: systemMs * 1000 };
}

async function cpuPerRequest(proc: Proc, url: string, body: string): Promise<{ micros: number; userMicros: number; rps: number }> {
  const send = (amount: number) =>
    autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections: Number(args.connections),
      amount,
    });
  await send(2000);
  const before = cpuMicros(proc);
  const result = await send(Number(args.requests));
  if (result.errors || result.non2xx) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx`);
  const after = cpuMicros(proc);
  const user = (after.user - before.user) / result.requests.total;
  return { micros: user + (after.system - before.system) / result.requests.total, userMicros: user, rps: result.requests.average };
}

const work = mkdtempSync(join(tmpdir(), 'msg-hit-cpu-'));
const node = (script: string, env: NodeJS.ProcessEnv, ready: RegExp, flags: string[] = []) =>
  start(process.execPath, [...flags, '--import', 'tsx', script], ready, { cwd: ROOT, env: { ...process.env, ...env } });
try {
  const { file: supergraph } = await startOurSubgraphs(ROOT, {}, join(work, 'supergraph.graphql'));
  const gateway = await node(
    'gateway/main.ts',
    {
      ...gatewayEnv(supergraph),
      ...(args['rate-limit'] ? { RATE_LIMIT_REQUESTS: '100000000' } : {}),
      ...(args.logs ? { LOG_LEVEL: 'info' } : {}),
    },
    GATEWAY_READY,
    args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [],
  );
  const body = JSON.stringify({ query: loadPersistedOperations().get('ReleaseMatrix')!.body, variables: {} });
  const cached: Target = { key: 'memory', label: 'gateway', url: gateway.url, proc: gateway };
  const bare = await startBare(ROOT, cached, body, work);
  if (!('target' in bare)) throw new Error(bare.reason);
  const idleBefore = cpuMicros(gateway);
  await new Promise((r) => setTimeout(r, 5000));
  const idleAfter = cpuMicros(gateway);
  console.log(`gateway idle: ${(idleAfter.user + idleAfter.system - idleBefore.user - idleBefore.system) / 5000} µs CPU per ms`);
  const oursRuns: Awaited<ReturnType<typeof cpuPerRequest>>[] = [];
  const bareRuns: Awaited<ReturnType<typeof cpuPerRequest>>[] = [];
  for (let round = 0; round < Number(args.rounds); round++) {
    oursRuns.push(await cpuPerRequest(gateway, gateway.url, body));
    bareRuns.push(await cpuPerRequest(bare.target.proc!, bare.target.url, body));
  }
  const medians = (runs: typeof oursRuns) => ({
    micros: median(runs.map((r) => r.micros)),
    userMicros: median(runs.map((r) => r.userMicros)),
    rps: median(runs.map((r) => r.rps)),
  });
  const ours = medians(oursRuns);
  const ceiling = medians(bareRuns);
  console.log(
    JSON.stringify({
      connections: Number(args.connections),
      requests: Number(args.requests),
      rateLimit: args['rate-limit'],
      logs: args.logs,
      hitMicrosCpu: Math.round(ours.micros * 10) / 10,
      bareMicrosCpu: Math.round(ceiling.micros * 10) / 10,
      hitMicrosUser: Math.round(ours.userMicros * 10) / 10,
      bareMicrosUser: Math.round(ceiling.userMicros * 10) / 10,
      cpuRatio: Math.round((ceiling.micros / ours.micros) * 100) / 100,
      hitRps: Math.round(ours.rps),
      bareRps: Math.round(ceiling.rps),
    }),
  );
} finally {
  stopAll();
  // The profile is written as the gateway exits.
  if (args.profile) await new Promise((r) => setTimeout(r, 3000));
  rmSync(work, { recursive: true, force: true });
}
