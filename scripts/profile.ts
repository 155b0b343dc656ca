/**
 * `npm run profile`: a CPU profile of one gateway under one of the bench's Guild workloads, with
 * its self time summed by area of code (scripts/bench/profile-areas.ts). It starts the Guild
 * subgraphs and the gateway as `npm run bench` does (same environment and heap), the gateway
 * under `node --cpu-prof`, loads it with autocannon, stops it and reads the profile it wrote.
 * Shares are what to read: on a loaded machine the absolute times mean little.
 * Options: --workload A|B (A), --variant off|memory|plain (off), --warmup S (3), --duration S (10),
 *          --connections N (20), --heap-mib N (256), --top N (25), --keep DIR (keep the .cpuprofile there).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { guildQueries } from './bench/guild-queries.js';
import { start, stop, stopAll } from './bench/process.js';
import { readRequestCount } from './bench/request-counter.js';
import { selfTimes, shareRows, type CpuProfile } from './bench/profile-areas.js';
import { startGuildSubgraphs } from './bench/supergraphs.js';
import { CACHING_OFF, GATEWAY_READY, gatewayEnv, heapEnv } from './bench/variants.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    workload: { type: 'string', default: 'A' },
    variant: { type: 'string', default: 'off' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    'heap-mib': { type: 'string', default: '256' },
    top: { type: 'string', default: '25' },
    keep: { type: 'string' },
  },
});

const QUERIES: Readonly<Record<string, string>> = guildQueries();
const query = QUERIES[args.workload];
if (!query) throw new Error(`--workload ${args.workload}: one of ${Object.keys(QUERIES).join(', ')}`);
const body = JSON.stringify({ query, variables: {} });

const VARIANTS: Record<string, { script: string; env: NodeJS.ProcessEnv }> = {
  // As scripts/bench/variants.ts starts them.
  off: { script: 'gateway/main.ts', env: CACHING_OFF },
  memory: { script: 'gateway/main.ts', env: {} },
  plain: { script: 'scripts/bench/plain-gateway.ts', env: {} },
};
const variant = VARIANTS[args.variant];
if (!variant) throw new Error(`--variant ${args.variant}: one of ${Object.keys(VARIANTS).join(', ')}`);

async function load(url: string, seconds: number) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: Number(args.connections),
    duration: seconds,
    timeout: 60,
  });
  if (result.errors || result.non2xx) throw new Error(`${result.errors} errors, ${result.non2xx} non-2xx responses`);
  return result;
}

const work = mkdtempSync(join(tmpdir(), 'msg-profile-'));
try {
  const guild = await startGuildSubgraphs(ROOT, join(work, 'supergraph.graphql'));
  const { counter, file: supergraph } = guild;
  const profiles = join(work, 'profiles');
  const gateway = await start(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${profiles}`, '--import', 'tsx', variant.script],
    GATEWAY_READY,
    {
      cwd: ROOT,
      env: { ...process.env, ...heapEnv(Number(args['heap-mib'])), ...gatewayEnv(supergraph), ...variant.env },
    },
  );
  await load(gateway.url, Number(args.warmup));
  const from = Number(process.hrtime.bigint() / 1000n);
  const before = await readRequestCount(counter);
  const result = await load(gateway.url, Number(args.duration));
  const subgraphRequests = (await readRequestCount(counter)) - before;
  await stop(gateway);
  await stop(guild.proc);
  const file = readdirSync(profiles).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the gateway wrote no profile into ${profiles}`);
  if (args.keep) {
    mkdirSync(args.keep, { recursive: true });
    copyFileSync(join(profiles, file), join(args.keep, `${args.workload}-${args.variant}.cpuprofile`));
    // When the timed run began, on the profile's clock (microseconds), for a closer look at it.
    writeFileSync(join(args.keep, `${args.workload}-${args.variant}.from`), String(from));
  }
  const profile = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as CpuProfile;
  const { total, areas, functions } = selfTimes(profile, from);
  const top = Number(args.top);
  console.log(
    `workload ${args.workload}, variant ${args.variant}: ${result.requests.sent} requests sent in ${args.duration} s ` +
      `(${result.requests.average} RPS, p99 ${result.latency.p99} ms), ${(subgraphRequests / result.requests.sent).toFixed(2)} subgraph requests each; ` +
      `profile: ${(total / 1000).toFixed(1)} s of CPU outside idle over the timed run (${(total / result.requests.sent).toFixed(2)} ms per timed request)`,
  );
  console.log('\n| area | self time |\n|---|---|');
  for (const row of shareRows(areas, total, top)) console.log(row);
  console.log('\n| function | self time |\n|---|---|');
  for (const row of shareRows(functions, total, top)) console.log(row);
} finally {
  stopAll();
  rmSync(work, { recursive: true, force: true });
}
