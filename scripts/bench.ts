/**
 * `npm run bench`: this gateway against plain Apollo Gateway, side by side in one run, on
 * loopback only. It starts everything itself:
 *   - this project's subgraphs over a generated South feed of 10,000 trusts;
 *   - the public Guild workload's four subgraphs, ported to Node (test/bench/guild);
 *   - for each workload, one process per gateway: (a) plain @apollo/gateway, (b) this
 *     gateway with caching off, (c) with the in-memory cache, (d) with Redis (when Redis
 *     answers on REDIS_URL, default redis://127.0.0.1:6379);
 *   - (e) the subgraph hit directly, for the single-subgraph workload.
 * Each figure: a warm-up, then interleaved rounds (a, b, c, d, e, a, b, ...) with autocannon;
 * medians of the rounds. Prints a table with each figure's ratio to (a) and writes it into
 * README.md between the bench markers (`--no-readme` to skip).
 *
 * autocannon abandons the requests still in flight when a run ends, and the servers finish
 * them anyway: so each run is followed by a pause (--settle) and each round starts one
 * variant further on, so no variant always runs in the wake of the slowest one.
 * Every gateway process, plain Apollo Gateway's included, runs with the same V8 old-space
 * limit (--heap-mib, as the Dockerfile's gateway target sets it; 0 for Node's default).
 * Options: --warmup S (5), --duration S (8), --rounds N (3), --settle S (3), --heap-mib N (256), --connections N (20),
 *          --trusts N (10000), --only workload[,workload].
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { composeSupergraph } from '../gateway/compose.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { loadPersistedOperations } from '../gateway/persisted-operations.js';
import { supergraphSubgraphs } from '../subgraphs/catalog.js';
import { composeGuildSupergraph, guildBaseUrl, guildSubgraphUrls } from '../test/bench/guild/subgraphs.js';
import { freePort } from '../test/redis.js';
import { generateFeeds } from './feed-generate.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = [process.execPath, '--import', 'tsx'];

const { values: args } = parseArgs({
  options: {
    warmup: { type: 'string', default: '5' },
    duration: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    settle: { type: 'string', default: '3' },
    'heap-mib': { type: 'string', default: '256' },
    connections: { type: 'string', default: '20' },
    trusts: { type: 'string', default: '10000' },
    only: { type: 'string' },
    'no-readme': { type: 'boolean', default: false },
  },
});

interface Proc {
  readonly child: ChildProcess;
  readonly url: string;
  readonly lines: string[];
}

const children: ChildProcess[] = [];
const stopAll = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
};
process.once('exit', stopAll);
process.once('SIGINT', () => {
  stopAll();
  process.exit(130);
});

/** Starts a process and waits for a line matching `ready`; returns its captured first match group. */
function start(script: string, env: NodeJS.ProcessEnv, ready: RegExp, scriptArgs: string[] = []): Promise<Proc> {
  const child = spawn(NODE[0]!, [...NODE.slice(1), script, ...scriptArgs], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${lines.join('\n')}`)), 60_000);
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        lines.push(line);
        const match = ready.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve({ child, url: match[1] ?? line, lines });
        }
      }
    };
    child.stdout?.on('data', onLine);
    child.stderr?.on('data', onLine);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}):\n${lines.join('\n')}`)));
  });
}

/** Peak resident memory of a process so far (Linux VmHWM), in MB. */
function peakRssMb(child: ChildProcess): number {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return Number.NaN;
  }
}

interface Target {
  readonly variant: string;
  readonly url: string;
  readonly proc: Proc | null;
}

interface Workload {
  readonly name: string;
  readonly description: string;
  readonly body: string;
  /** Concurrent connections, when not --connections (same for every target of the workload). */
  readonly connections?: number;
  readonly targets: Target[];
}

async function checkAnswer(url: string, body: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const json = (await response.json()) as { data?: unknown; errors?: unknown };
  if (!response.ok || json.errors || !json.data)
    throw new Error(`${url} answered ${response.status}: ${JSON.stringify(json).slice(0, 500)}`);
  return JSON.stringify(json.data);
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}

async function measure(url: string, body: string, seconds: number, connections: number): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: seconds,
    timeout: 60,
  });
  if (result.errors || result.non2xx) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx responses`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'msg-bench-'));
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const withRedis = await redisAnswers(redisUrl);
  try {
    process.stderr.write(`generating a South feed of ${args.trusts} trusts...\n`);
    const generated = await generateFeeds({ supplier: 'south', trusts: Number(args.trusts), snapshots: 1, outRoot: join(work, 'feeds') });
    const subgraphs = await start(
      'scripts/bench/subgraphs.ts',
      {
        HOST: '127.0.0.1',
        PROGRAMME_PORT: '0',
        SOUTH_PORT: '0',
        LONDON_PORT: '0',
        INSIGHTS_PORT: '0',
        SOUTH_FEED_DIR: generated.dir,
        EXTRA_TRUSTS_FILE: generated.trustsFile,
        FEED_POLL_MS: '0',
      },
      /^(\{.*\})$/,
    );
    const urls = JSON.parse(subgraphs.url) as Record<'programme' | 'south' | 'london' | 'insights', string>;
    const ours = composeSupergraph(supergraphSubgraphs({ ...loadGatewayConfig({}).subgraphUrls, ...urls }));
    if (!ours.ok) throw new Error(ours.errors.join('\n'));
    const oursFile = join(work, 'supergraph.graphql');
    writeFileSync(oursFile, ours.supergraphSdl);

    const guildPort = await freePort();
    await start('test/bench/guild/main.ts', {}, /^accounts: (\S+)/, ['--port', String(guildPort)]);
    const guildSdl = composeGuildSupergraph(guildSubgraphUrls(guildBaseUrl('127.0.0.1', guildPort)));
    const guildFile = join(work, 'guild-supergraph.graphql');
    writeFileSync(guildFile, guildSdl);

    const operations = loadPersistedOperations();
    const dashboard = operations.get('ReleaseMatrix')!.body;
    const gatewayReady = /gateway\s+listening on (http:\/\/\S+)/;
    // The same heap limit for every gateway, so the ratios stay like for like.
    const heapMib = Number(args['heap-mib']);
    const heap: NodeJS.ProcessEnv = heapMib > 0 ? { NODE_OPTIONS: `--max-old-space-size=${heapMib}` } : {};
    const gatewayEnv = (supergraph: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
      HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      SUPERGRAPH_PATH: supergraph,
      // The load comes from one client address, and access logs would measure the terminal.
      RATE_LIMIT_REQUESTS: '0',
      LOG_LEVEL: 'warn',
      ...heap,
      ...extra,
    });
    const gateways = async (supergraph: string): Promise<Target[]> => {
      const targets: Target[] = [];
      const a = await start('scripts/bench/plain-gateway.ts', { GATEWAY_PORT: '0', SUPERGRAPH_PATH: supergraph, ...heap }, gatewayReady);
      targets.push({ variant: '(a) plain Apollo Gateway', url: a.url, proc: a });
      const b = await start('gateway/main.ts', gatewayEnv(supergraph, { RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false' }), gatewayReady);
      targets.push({ variant: '(b) this gateway, caching off', url: b.url, proc: b });
      const c = await start('gateway/main.ts', gatewayEnv(supergraph, {}), gatewayReady);
      targets.push({ variant: '(c) in-memory cache', url: c.url, proc: c });
      if (withRedis) {
        const d = await start('gateway/main.ts', gatewayEnv(supergraph, { REDIS_URL: redisUrl }), gatewayReady);
        targets.push({ variant: '(d) Redis cache', url: d.url, proc: d });
      }
      return targets;
    };
    const body = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });
    const all: Workload[] = [
      { name: 'dashboard', description: 'comparison of every release across clusters (ReleaseMatrix)', body: body(dashboard), targets: [] },
      {
        name: 'rollout',
        description: `rollout list of ${args.trusts} generated South trusts (1.3 MB answers; 4 connections, so that requests complete within a run)`,
        connections: 4,
        body: body(
          'query Rollout { trusts(cluster: "SOUTH") { odsCode south { rollout { release { code } status plannedGoLive actualGoLive } } } }',
        ),
        targets: [],
      },
      {
        name: 'guild',
        description: 'the public Guild workload (query.graphql, four subgraphs)',
        body: body(readFileSync(join(ROOT, 'test/bench/guild/query.graphql'), 'utf8')),
        targets: [],
      },
      {
        name: 'single',
        description: 'a single-subgraph query (programme releases)',
        body: body('query Releases { releases { code name phase spineCompliant dueYear } }'),
        targets: [],
      },
    ];
    const only = args.only?.split(',');
    const workloads = all.filter((w) => !only || only.includes(w.name));
    for (const workload of workloads) {
      workload.targets.push(...(await gateways(workload.name === 'guild' ? guildFile : oursFile)));
      if (workload.name === 'single') workload.targets.push({ variant: '(e) subgraph directly', url: urls.programme, proc: null });
      // Every target must give the same answer before it is timed.
      const answers = await Promise.all(workload.targets.map((t) => checkAnswer(t.url, workload.body)));
      if (answers.some((a) => a !== answers[0])) throw new Error(`${workload.name}: the targets answer differently`);
    }

    const warmup = Number(args.warmup);
    const seconds = Number(args.duration);
    const rounds = Number(args.rounds);
    const results = new Map<string, Figures[]>();
    for (const workload of workloads) {
      for (const target of workload.targets) {
        process.stderr.write(`warming up ${workload.name} ${target.variant}\n`);
        await measure(target.url, workload.body, warmup, workload.connections ?? Number(args.connections));
      }
    }
    const settle = () => new Promise((resolve) => setTimeout(resolve, Number(args.settle) * 1000));
    for (let round = 1; round <= rounds; round += 1) {
      for (const workload of workloads) {
        const n = workload.targets.length;
        const order = workload.targets.map((_, i) => workload.targets[(i + round - 1) % n]!);
        for (const target of order) {
          process.stderr.write(`round ${round}/${rounds}: ${workload.name} ${target.variant}\n`);
          const key = `${workload.name}|${target.variant}`;
          results.set(key, [
            ...(results.get(key) ?? []),
            await measure(target.url, workload.body, seconds, workload.connections ?? Number(args.connections)),
          ]);
          await settle();
        }
      }
    }

    const lines = [
      `Node ${process.version}, ${Number(args.connections)} connections (rollout: 4), warm-up ${warmup} s, median of ${rounds} interleaved ${seconds} s runs (order rotated each round, ${Number(args.settle)} s pause after each), every gateway with ${Number(args['heap-mib']) > 0 ? `a ${args['heap-mib']} MiB V8 old space` : "Node's default heap"}; ratios to (a) in the same run.`,
      '',
      '| workload | gateway | RPS | × (a) | p50 ms | p99 ms | peak RSS MB |',
      '|---|---|---|---|---|---|---|',
    ];
    for (const workload of workloads) {
      const base = median((results.get(`${workload.name}|${workload.targets[0]!.variant}`) ?? []).map((r) => r.rps));
      for (const target of workload.targets) {
        const runs = results.get(`${workload.name}|${target.variant}`) ?? [];
        const rps = median(runs.map((r) => r.rps));
        const rss = target.proc ? peakRssMb(target.proc.child).toFixed(0) : '-';
        lines.push(
          `| ${workload.name} | ${target.variant} | ${rps.toFixed(0)} | ${(rps / base).toFixed(2)} | ${median(runs.map((r) => r.p50)).toFixed(1)} | ${median(runs.map((r) => r.p99)).toFixed(1)} | ${rss} |`,
        );
      }
    }
    lines.push('', ...workloads.map((w) => `- ${w.name}: ${w.description}`));
    if (!withRedis) lines.push(`- (d) skipped: no Redis answered on ${redisUrl}`);
    const table = lines.join('\n');
    console.log(table);
    if (!args['no-readme']) {
      const readmePath = join(ROOT, 'README.md');
      const readme = readFileSync(readmePath, 'utf8');
      const marked = /(<!-- bench:start -->\n)[\s\S]*?(\n<!-- bench:end -->)/;
      if (marked.test(readme)) {
        writeFileSync(readmePath, readme.replace(marked, `$1${table}$2`));
        console.log('\nwrote the table into README.md');
      }
    }
  } finally {
    stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
