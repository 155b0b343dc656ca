/**
 * `npm run bench`: this gateway against plain Apollo Gateway and Hive Gateway, side by side
 * in one run, on loopback only. It starts everything itself:
 *   - this project's subgraphs over a generated South feed of 10,000 trusts;
 *   - the public Guild workload's four subgraphs, ported to Node (test/bench/guild);
 *   - for each workload, one process per variant (scripts/bench/variants.ts): plain Apollo
 *     Gateway, this gateway caching off / in memory / with Redis (when Redis answers on
 *     REDIS_URL, default redis://127.0.0.1:6379), and on the Guild workloads Hive Gateway with
 *     and without its Rust planner (installed on demand into .bench-peers/, skipped without
 *     the registry); the subgraph directly for the single-subgraph workload, and a bare
 *     node:http server writing the bytes of a dashboard cache hit.
 * Before anything is timed, every variant must give plain Apollo Gateway's answer (data, and
 * errors without extensions); one that does not is reported and left out.
 * Each figure: a warm-up, then interleaved rounds with autocannon, medians of the rounds.
 * The subgraph processes count the requests they answer, which gives subgraph requests per
 * gateway request, and this gateway's metrics the operations merged into another's execution
 * (executions per gateway request, caching off). Prints the table and issue 13's goals, each met or not, and writes both
 * into README.md between the bench markers (`--no-readme` to skip).
 *
 * autocannon abandons the requests still in flight when a run ends, and the servers finish
 * them anyway: so each run is followed by a pause (--settle) and each round starts one
 * variant further on, so no variant always runs in the wake of the slowest one.
 * Every gateway process, plain Apollo Gateway's and Hive's included, runs with the same V8
 * old-space limit (--heap-mib, as the Dockerfile's gateway target sets it; 0 for Node's default).
 * Options: --warmup S (5), --duration S (8), --rounds N (3), --settle S (3), --heap-mib N (256), --connections N (20),
 *          --trusts N (10000), --only workload[,workload], --no-peers, --no-readme.
 * Plain Apollo Gateway and this gateway run from JavaScript compiled into dist/ first
 * (scripts/bench/build.ts), not through tsx. First it times `npm start` to /health 200 (scripts/bench/startup.ts), as many times as
 * --rounds, the median; `--only startup` times that alone.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { loadPersistedOperations } from '../gateway/persisted-operations.js';
import { answerDifference, fetchAnswer } from './bench/answers.js';
import { buildDist } from './bench/build.js';
import { guildQueries } from './bench/guild-queries.js';
import { ensurePeers, type PeerInstall } from './bench/peers.js';
import { peakRssMb, stop, stopAll } from './bench/process.js';
import { goals, table, type Row } from './bench/report.js';
import { readJoinedOperations, readRequestCount } from './bench/request-counter.js';
import { timeStartup } from './bench/startup.js';
import { startGuildSubgraphs, startOurSubgraphs } from './bench/supergraphs.js';
import { median } from './bench/stats.js';
import { startBare, startGateways, type Skipped, type Target, type VariantSetup } from './bench/variants.js';
import { generateFeeds } from './feed-generate.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PEERS_DIR = join(ROOT, '.bench-peers');

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
    'no-peers': { type: 'boolean', default: false },
    'no-readme': { type: 'boolean', default: false },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Workload {
  readonly name: string;
  readonly description: string;
  readonly body: string;
  /** Whose subgraphs answer it. */
  readonly subgraphs: 'ours' | 'guild';
  /** Concurrent connections, when not --connections (same for every target of the workload). */
  readonly connections?: number;
}

interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Requests sent, those abandoned in flight at the end included (the servers finish them). */
  readonly sent: number;
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
  if (result.errors || result.non2xx) throw new Error(`${result.errors} errors, ${result.non2xx} non-2xx responses`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, sent: result.requests.sent };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, Number(args.settle) * 1000));

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

/** Leaves out every target whose answer differs from plain Apollo Gateway's (the first). */
async function sameAnswers(workload: Workload, targets: Target[], skipped: Skipped[]): Promise<Target[]> {
  const [plain, ...others] = targets;
  const expected = await fetchAnswer(plain!.url, workload.body);
  if (expected.status !== 200 || expected.errors !== undefined || expected.data == null)
    throw new Error(
      `${workload.name}: plain Apollo Gateway answered ${expected.status} ${JSON.stringify(expected.errors ?? null).slice(0, 500)}`,
    );
  const kept = [plain!];
  for (const target of others) {
    const answer = await fetchAnswer(target.url, workload.body);
    const difference = answer.status === 200 ? answerDifference(expected, answer) : `HTTP ${answer.status}`;
    if (difference) {
      log(`${workload.name}: ${target.label} answers differently (${difference}); left out`);
      skipped.push({ label: target.label, reason: `answers differently: ${difference}` });
      if (target.proc) await stop(target.proc);
    } else kept.push(target);
  }
  return kept;
}

/** Warms up and times every target of one workload; the rows, and what had to be left out. */
async function run(workload: Workload, setup: VariantSetup, supergraph: string, counter: string, direct: string | null, work: string) {
  const started = await startGateways(setup, supergraph, workload.subgraphs === 'guild');
  const skipped = [...started.skipped];
  for (const { label, reason } of started.skipped) log(`${workload.name}: ${label} skipped: ${reason}`);
  if (direct) started.targets.push({ key: 'subgraph', label: '(e) subgraph directly', url: direct, proc: null });
  let targets = await sameAnswers(workload, started.targets, skipped);
  const cached = targets.find((target) => target.key === 'memory');
  if (workload.name === 'dashboard' && cached) {
    const bare = await startBare(setup.root, cached, workload.body, work);
    if ('target' in bare) targets = [...targets, bare.target];
    else skipped.push(bare);
  }
  const connections = workload.connections ?? Number(args.connections);
  const runs = new Map<Target, Figures[]>();
  const subgraphRequests = new Map<Target, number>();
  // Operations merged into an identical one's execution, where the gateway counts them (caching off only: a hit executes nothing).
  const counted = (target: Target) => target.key === 'off' || target.key === 'off-undeduped' || target.key === 'traced';
  const joined = new Map<Target, number>();
  const drop = async (target: Target, why: unknown) => {
    const reason = `failed under load: ${why instanceof Error ? why.message : String(why)}`;
    log(`${workload.name}: ${target.label} ${reason}; left out`);
    skipped.push({ label: target.label, reason });
    targets = targets.filter((t) => t !== target);
    if (target.proc) await stop(target.proc);
  };
  for (const target of [...targets]) {
    log(`warming up ${workload.name} ${target.label}`);
    await measure(target.url, workload.body, Number(args.warmup), connections).catch((error: unknown) => drop(target, error));
  }
  const rounds = Number(args.rounds);
  for (let round = 1; round <= rounds; round += 1) {
    const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
    for (const target of order) {
      log(`round ${round}/${rounds}: ${workload.name} ${target.label}`);
      const before = await readRequestCount(counter);
      const joinedBefore = counted(target) ? await readJoinedOperations(target.url) : null;
      try {
        const figures = await measure(target.url, workload.body, Number(args.duration), connections);
        await settle();
        runs.set(target, [...(runs.get(target) ?? []), figures]);
        subgraphRequests.set(target, (subgraphRequests.get(target) ?? 0) + (await readRequestCount(counter)) - before);
        const joinedAfter = joinedBefore === null ? null : await readJoinedOperations(target.url);
        if (joinedAfter !== null) joined.set(target, (joined.get(target) ?? 0) + joinedAfter - joinedBefore!);
      } catch (error) {
        await drop(target, error);
      }
    }
  }
  const rows: Row[] = targets.map((target) => {
    const figures = runs.get(target) ?? [];
    const sent = figures.reduce((sum, f) => sum + f.sent, 0);
    return {
      workload: workload.name,
      key: target.key,
      label: target.label,
      rps: median(figures.map((f) => f.rps)),
      p50: median(figures.map((f) => f.p50)),
      p99: median(figures.map((f) => f.p99)),
      rssMb: target.proc ? peakRssMb(target.proc.child) : null,
      subgraphRequests: target.key === 'bare' || sent === 0 ? null : (subgraphRequests.get(target) ?? 0) / sent,
      executions: joined.has(target) && sent > 0 ? 1 - joined.get(target)! / sent : null,
    };
  });
  // This workload's processes end here, so the next one's peak memory is its own.
  for (const target of started.targets) if (target.proc) await stop(target.proc);
  for (const target of targets) if (target.proc) await stop(target.proc);
  return { rows, skipped: skipped.map((s) => `${workload.name}: ${s.label} left out: ${s.reason}`) };
}

async function main(): Promise<void> {
  const body = (query: string) => JSON.stringify({ query, variables: {} });
  const guildQuery = guildQueries();
  const all: Workload[] = [
    {
      name: 'dashboard',
      subgraphs: 'ours',
      description: 'comparison of every release across clusters (ReleaseMatrix); (h) writes the bytes and headers of a (c) hit of it',
      body: body(loadPersistedOperations().get('ReleaseMatrix')!.body),
    },
    {
      name: 'rollout',
      subgraphs: 'ours',
      description: `rollout list of ${args.trusts} generated South trusts (1.3 MB answers; 4 connections, so that requests complete within a run)`,
      connections: 4,
      body: body(
        'query Rollout { trusts(cluster: "SOUTH") { odsCode south { rollout { release { code } status plannedGoLive actualGoLive } } } }',
      ),
    },
    {
      name: 'A',
      subgraphs: 'guild',
      description: `the Guild subgraphs, \`${guildQuery.A}\``,
      body: body(guildQuery.A),
    },
    {
      name: 'B',
      subgraphs: 'guild',
      description: 'the public Guild workload (test/bench/guild/query.graphql, four subgraphs, ~87 KB answers)',
      body: body(guildQuery.B),
    },
    {
      name: 'single',
      subgraphs: 'ours',
      description: 'a single-subgraph query (programme releases)',
      body: body('query Releases { releases { code name phase spineCompliant dueYear } }'),
    },
  ];
  const only = args.only?.split(',');
  const workloads = all.filter((w) => !only || only.includes(w.name));
  const withStartup = !only || only.includes('startup');
  if (workloads.length === 0 && !withStartup)
    throw new Error(`--only ${args.only}: no such workload (${all.map((w) => w.name).join(', ')})`);

  const work = mkdtempSync(join(tmpdir(), 'msg-bench-'));
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const withRedis = await redisAnswers(redisUrl);
  const needsGuild = workloads.some((w) => w.subgraphs === 'guild');
  const peers: PeerInstall =
    !needsGuild || args['no-peers']
      ? { ok: false, reason: args['no-peers'] ? '--no-peers' : 'no Guild workload' }
      : await ensurePeers(PEERS_DIR, { log });
  if (needsGuild && !peers.ok) log(`Hive Gateway peers skipped: ${peers.reason}`);
  const setup: VariantSetup = {
    root: ROOT,
    heapMib: Number(args['heap-mib']),
    redisUrl: withRedis ? redisUrl : null,
    peers,
    peersDir: PEERS_DIR,
  };
  try {
    const startups = [];
    for (let round = 1; withStartup && round <= Number(args.rounds); round += 1) {
      log(`round ${round}/${args.rounds}: npm start to /health 200`);
      startups.push(await timeStartup(ROOT, work));
    }
    if (workloads.length > 0) {
      log('compiling the gateways into dist/ (they run without tsx)...');
      buildDist(ROOT);
    }
    let ours: Awaited<ReturnType<typeof startOurSubgraphs>> | null = null;
    if (workloads.some((w) => w.subgraphs === 'ours')) {
      log(`generating a South feed of ${args.trusts} trusts...`);
      const generated = await generateFeeds({ supplier: 'south', trusts: Number(args.trusts), snapshots: 1, outRoot: join(work, 'feeds') });
      const feeds = { SOUTH_FEED_DIR: generated.dir, EXTRA_TRUSTS_FILE: generated.trustsFile, FEED_POLL_MS: '0' };
      ours = await startOurSubgraphs(ROOT, feeds, join(work, 'supergraph.graphql'));
    }
    const guild = needsGuild ? await startGuildSubgraphs(ROOT, join(work, 'guild-supergraph.graphql')) : null;

    const rows: Row[] = [];
    const notes: string[] = [];
    for (const workload of workloads) {
      const subgraphs = workload.subgraphs === 'guild' ? guild! : ours!;
      const direct = workload.name === 'single' ? ours!.urls.programme : null;
      const result = await run(workload, setup, subgraphs.file, subgraphs.counter, direct, work);
      rows.push(...result.rows);
      notes.push(...result.skipped);
    }

    const heap = setup.heapMib > 0 ? `a ${setup.heapMib} MiB V8 old space` : "Node's default heap";
    const lines = [
      `Node ${process.version}, ${Number(args.connections)} connections (rollout: 4), warm-up ${args.warmup} s, median of ${args.rounds} interleaved ${args.duration} s runs (order rotated each round, ${args.settle} s pause after each), every gateway with ${heap}; ratios to plain Apollo Gateway in the same run; subgraph requests per gateway request counted at the subgraphs over the timed runs; executions per gateway request (caching off) are the requests less those merged into an identical one's execution (gateway_operations_deduplicated_total).`,
      '',
      ...table(rows),
      '',
      ...workloads.map((w) => `- ${w.name}: ${w.description}`),
      ...(startups.length > 0
        ? [
            `- start-up: \`npm start\` (every subgraph and the gateway, defaults, an empty registry, free ports) to /health 200: ${(median(startups.map((s) => s.wallMs)) / 1000).toFixed(1)} s, of which ${(median(startups.map((s) => s.cpuMs)) / 1000).toFixed(1)} s CPU (median of ${startups.length})`,
          ]
        : []),
      ...(withRedis ? [] : [`- (d) skipped: no Redis answered on ${redisUrl}`]),
      ...(needsGuild && !peers.ok ? [`- (f), (g) skipped: ${peers.reason}`] : []),
      ...notes.map((note) => `- ${note}`),
      '',
      'Goals (issue 13), from this run:',
      '',
      ...goals(rows),
    ];
    const report = lines.join('\n');
    console.log(report);
    if (!args['no-readme']) {
      const readmePath = join(ROOT, 'README.md');
      const readme = readFileSync(readmePath, 'utf8');
      const marked = /(<!-- bench:start -->\n)[\s\S]*?(\n<!-- bench:end -->)/;
      if (marked.test(readme)) {
        writeFileSync(
          readmePath,
          readme.replace(marked, (_all, open: string, close: string) => `${open}${report}${close}`),
        );
        console.log('\nwrote the table into README.md');
      }
    }
  } finally {
    stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
