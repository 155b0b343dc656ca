/**
 * `npm run soak [-- --duration 60 --clients 8]`: a bounded fault and load test on 127.0.0.1.
 * It starts a private redis-server, the four subgraphs and two gateway replicas as separate
 * processes (sharing Redis), runs concurrent clients for the duration, and meanwhile kills
 * and restarts the london subgraph, stops and restarts Redis, replaces a South report by a
 * bad one then a good one, and publishes a third cluster's subgraph through the registry. Every answer
 * is checked against the answer before the faults: the only errors allowed are
 * SUBGRAPH_UNAVAILABLE on London's fields while London is down, and no data may be lost or
 * mixed. Prints requests, errors by code, latency percentiles; exits 1 when a check fails.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isDeepStrictEqual } from 'node:util';
import { mintToken } from '../gateway/registry/tokens.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen, type Listening } from '../subgraphs/kit/http.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from '../test/fixtures/nme/index.js';
import { PrivateRedis, freePort } from '../test/redis.js';
import { percentile } from './bench/stats.js';
import { startProgram, stopProgram, type Program } from './child-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({ options: { duration: { type: 'string', default: '60' }, clients: { type: 'string', default: '8' } } });
const DURATION_MS = Math.max(10, Number(args.duration)) * 1000;
const CLIENTS = Math.max(1, Number(args.clients));
const AS_OF = '2007-09-06';

type Answer = { status: number; data?: any; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] };

/** The workload: what dashboards and analysts ask, each with a check of a partial answer. */
const QUERIES = {
  views: `{ release(code: "R2") { south(asOf: "${AS_OF}") { localName designStatus designSuspendedOn } london(asOf: "${AS_OF}") { localName designStatus } } }`,
  comparison: `{ compareRelease(code: "R2", asOf: "${AS_OF}") { snapshots { cluster { id } asOf } aspects { aspect values { cluster { id } value } } } }`,
  programme: '{ programme { completionTargetYear } clusters { id name trustsPlanned } }',
  trust: `{ trust(odsCode: "RBF") { name rolloutAcrossClusters(asOf: "${AS_OF}") { cluster { id } release { code } status } } }`,
  latest: '{ release(code: "R0") { south { trustsLive history(from: "2010-01-01") { asOf trustsLive } } } }',
} as const;
type QueryName = keyof typeof QUERIES;

/** What the clusters that are up still owe when London is down. */
const PARTIAL: Record<QueryName, ((full: any) => any) | null> = {
  views: (full) => ({ release: { south: full.release.south, london: null } }),
  comparison: (full) => ({
    compareRelease: {
      snapshots: full.compareRelease.snapshots.filter((s: any) => s.cluster.id !== 'LONDON'),
      aspects: full.compareRelease.aspects.map((a: any) => ({ ...a, values: a.values.filter((v: any) => v.cluster.id !== 'LONDON') })),
    },
  }),
  programme: null, // London is not involved: never partial
  trust: (full) => full, // a South trust: London adds nothing to its rollout
  latest: null,
};

function startProcess(script: string, env: NodeJS.ProcessEnv): Program {
  return startProgram(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], HOST: '127.0.0.1', FEED_POLL_MS: '200', LOG_LEVEL: 'warn', ...env },
  });
}

async function waitHealthy(url: string, proc: Program, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.ended) throw new Error(`${url} exited:\n${proc.output}`);
    try {
      if ((await fetch(url.replace('/graphql', '/health'))).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy after ${ms} ms:\n${proc.output}`);
}

async function ask(url: string, query: string): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return { status: response.status, ...((await response.json()) as Omit<Answer, 'status'>) };
}

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'msg-soak-'));
  const southFeed = join(work, 'south');
  const londonFeed = join(work, 'london');
  cpSync(join(ROOT, 'subgraphs/south/feed'), southFeed, { recursive: true });
  cpSync(join(ROOT, 'subgraphs/london/feed'), londonFeed, { recursive: true });
  const redis = new PrivateRedis(await freePort());
  const registryDir = join(work, 'registry');
  const token = mintToken(join(registryDir, 'tokens.json'), { supplier: 'SOAK', subgraphs: [], operator: true });
  let nme: Listening | null = null;
  const procs: Program[] = [];
  const events: { at: number; what: string }[] = [];
  const started = Date.now();
  const mark = (what: string) => {
    events.push({ at: (Date.now() - started) / 1000, what });
    console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${what}`);
  };
  try {
    await redis.start();
    const ports = { programme: await freePort(), south: await freePort(), london: await freePort(), insights: await freePort() };
    const url = (port: number) => `http://127.0.0.1:${port}/graphql`;
    const gatewayPorts = [await freePort(), await freePort()];
    const subgraphEnv = {
      // The programme announces its membership versions on the gateways' Redis, as in docker-compose.yml.
      programme: { PROGRAMME_PORT: String(ports.programme), REDIS_URL: redis.url },
      south: { SOUTH_PORT: String(ports.south), SOUTH_FEED_DIR: southFeed, REDIS_URL: redis.url },
      london: { LONDON_PORT: String(ports.london), LONDON_FEED_DIR: londonFeed, REDIS_URL: redis.url },
      // Insights reads the cluster subgraphs' SDL, and follows the registry at the first gateway.
      insights: {
        INSIGHTS_PORT: String(ports.insights),
        INSIGHTS_CLUSTERS: `south=${url(ports.south)},london=${url(ports.london)}`,
        INSIGHTS_REGISTRY_URL: `http://127.0.0.1:${gatewayPorts[0]}`,
      },
    };
    const start = async (name: keyof typeof ports) => {
      const proc = startProcess(`subgraphs/${name}/main.ts`, subgraphEnv[name]);
      procs.push(proc);
      await waitHealthy(url(ports[name]), proc);
      return proc;
    };
    await start('programme');
    await start('south');
    let london = await start('london');
    await start('insights');
    const gatewayUrls: string[] = [];
    for (const [i, port] of gatewayPorts.entries()) {
      const proc = startProcess('gateway/main.ts', {
        GATEWAY_PORT: String(port),
        PROGRAMME_URL: url(ports.programme),
        SOUTH_URL: url(ports.south),
        LONDON_URL: url(ports.london),
        INSIGHTS_URL: url(ports.insights),
        REDIS_URL: redis.url,
        REGISTRY_DIR: registryDir,
        // Every client is 127.0.0.1: rate limiting would measure itself.
        RATE_LIMIT_REQUESTS: '0',
        SUBGRAPH_TIMEOUT_MS: '2000',
        BREAKER_RESET_MS: '1000',
        // The second replica without caches: every request of it reaches the subgraphs.
        ...(i === 1 ? { RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false' } : {}),
      });
      procs.push(proc);
      await waitHealthy(url(port), proc);
      gatewayUrls.push(url(port));
    }
    mark(`started: redis, 4 subgraphs, 2 gateway replicas; ${CLIENTS} clients for ${DURATION_MS / 1000} s`);
    const loadStart = Date.now();

    const baseline = {} as Record<QueryName, any>;
    for (const name of Object.keys(QUERIES) as QueryName[]) {
      const answer = await ask(gatewayUrls[0]!, QUERIES[name]);
      if (answer.errors) throw new Error(`baseline ${name} failed: ${JSON.stringify(answer.errors)}`);
      baseline[name] = answer.data;
    }

    // London may fail from its kill until it answers again (plus the breaker's reset).
    const londonDown: { from: number; to: number }[] = [];
    const latencies: number[] = [];
    const byCode = new Map<string, number>();
    const failures: string[] = [];
    const latestAnswers = new Map<string, any>();
    // Answers that differ from the baseline after a publish began: each must be the final answer.
    let publishedAt = Number.POSITIVE_INFINITY;
    const laterAnswers = new Map<QueryName, Map<string, any>>();
    let requests = 0;
    let partial = 0;
    let failed = 0;
    const fail = (text: string) => {
      failed++;
      if (failures.length < 20) failures.push(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);
    };
    const stopAt = loadStart + DURATION_MS;

    const client = async (id: number) => {
      const names = Object.keys(QUERIES) as QueryName[];
      for (let i = id; Date.now() < stopAt; i++) {
        const name = names[i % names.length]!;
        const gateway = gatewayUrls[i % gatewayUrls.length]!;
        const t0 = performance.now();
        let answer: Answer;
        try {
          answer = await ask(gateway, QUERIES[name]);
        } catch (error) {
          byCode.set('NETWORK', (byCode.get('NETWORK') ?? 0) + 1);
          fail(`${name}: request failed: ${(error as Error).message}`);
          continue;
        }
        const at = Date.now();
        latencies.push(performance.now() - t0);
        requests++;
        for (const e of answer.errors ?? [])
          byCode.set(String(e.extensions?.['code']), (byCode.get(String(e.extensions?.['code'])) ?? 0) + 1);
        if (answer.status !== 200) fail(`${name}: HTTP ${answer.status}`);
        if (name === 'latest') {
          latestAnswers.set(JSON.stringify(answer.data), answer.data);
          if (answer.errors) fail(`latest: ${JSON.stringify(answer.errors)}`);
          continue;
        }
        if (!answer.errors) {
          if (!isDeepStrictEqual(answer.data, baseline[name]) && at >= publishedAt) {
            const seen = laterAnswers.get(name) ?? new Map<string, any>();
            seen.set(JSON.stringify(answer.data), answer.data);
            laterAnswers.set(name, seen);
          } else if (!isDeepStrictEqual(answer.data, baseline[name]))
            fail(`${name}: answer differs from the baseline: ${JSON.stringify(answer.data).slice(0, 300)}`);
          continue;
        }
        partial++;
        const expected = PARTIAL[name];
        const onlyLondon = answer.errors.every(
          (e) => e.extensions?.['code'] === 'SUBGRAPH_UNAVAILABLE' && e.extensions['subgraph'] === 'london',
        );
        const inWindow = londonDown.some((w) => at >= w.from && at <= w.to + 3000);
        if (!expected || !onlyLondon || !inWindow)
          fail(`${name}: unexpected errors at ${((at - started) / 1000).toFixed(1)} s: ${JSON.stringify(answer.errors).slice(0, 300)}`);
        else if (!isDeepStrictEqual(answer.data, expected(baseline[name])))
          fail(`${name}: partial answer lost or mixed data: ${JSON.stringify(answer.data).slice(0, 300)}`);
      }
    };

    const faults = async () => {
      const at = (fraction: number) => new Promise((r) => setTimeout(r, Math.max(0, loadStart + fraction * DURATION_MS - Date.now())));
      await at(0.1);
      const window = { from: Date.now(), to: Number.POSITIVE_INFINITY };
      londonDown.push(window);
      await stopProgram(london, 'SIGKILL');
      mark('london subgraph killed (SIGKILL)');
      await at(0.25);
      london = await start('london');
      window.to = Date.now();
      mark('london subgraph restarted');
      await at(0.4);
      await redis.stop();
      mark('redis stopped');
      await at(0.55);
      await redis.start();
      mark('redis restarted');
      await at(0.65);
      const bad = readFileSync(join(ROOT, 'test/bad-feeds/south-impossible-date.csv'));
      writeFileSync(join(southFeed, 'fujitsu-south-2011-01-31.csv'), bad);
      mark('south report fujitsu-south-2011-01-31.csv written with a bad date (must be refused)');
      let refused: string | undefined;
      for (let t = 0; t < 40 && !refused; t++) {
        await new Promise((r) => setTimeout(r, 100));
        const feeds = await ask(gatewayUrls[1]!, '{ feeds { id current { file } lastRejected { file } } }').catch(() => null);
        const south = feeds?.data?.feeds?.find((f: { id: string }) => f.id === 'south');
        if (south?.lastRejected?.file === 'fujitsu-south-2011-01-31.csv') refused = south.current?.file;
      }
      if (!refused) fail('the bad South report was not refused');
      else mark(`bad report refused; south still serves ${refused}`);
      await at(0.75);
      const good = readFileSync(join(ROOT, 'subgraphs/south/feed/fujitsu-south-2010-06-30.csv'), 'utf8').replace(
        'HDR,30/06/2010,',
        'HDR,31/01/2011,',
      );
      writeFileSync(join(southFeed, 'fujitsu-south-2011-01-31.csv'), good);
      mark('south report fujitsu-south-2011-01-31.csv replaced by a good one');
      await at(0.85);
      // A third supplier publishes its subgraph (test/fixtures/nme) through the registry.
      const reference = feedReferenceOf(await loadReference(null));
      const built = await buildClusterSubgraph(nmeSubgraph as ClusterSubgraphDefinition<object>, {
        feedDir: nmeFeedDir,
        reference,
        pollMs: 0,
        log: () => {},
      });
      nme = await listen(built.service, '127.0.0.1', 0);
      publishedAt = Date.now();
      const response = await fetch(gatewayUrls[0]!.replace('/graphql', '/registry/subgraphs/nme'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ sdl: nmeSubgraph.sdl, url: nme.url }),
      });
      const published = (await response.json()) as { accepted?: boolean; served?: boolean; registryVersion?: number };
      if (response.status !== 201 || !published.accepted)
        fail(`publish refused: HTTP ${response.status} ${JSON.stringify(published).slice(0, 300)}`);
      else mark(`subgraph nme published through the registry (version ${published.registryVersion}, served: ${published.served})`);
    };

    await Promise.all([...Array.from({ length: CLIENTS }, (_, i) => client(i)), faults()]);
    mark('clients stopped');

    // The bad report was refused and the good one serves: the latest answers are the old one and the new one only.
    const after = await ask(gatewayUrls[1]!, QUERIES.latest);
    const feeds = await ask(gatewayUrls[0]!, '{ feeds { id current { file } lastRejected { file } } }');
    const south = feeds.data?.feeds?.find((f: any) => f.id === 'south');
    if (south?.current?.file !== 'fujitsu-south-2011-01-31.csv') fail(`south serves ${south?.current?.file}, not the good new report`);
    for (const answer of latestAnswers.values())
      if (!isDeepStrictEqual(answer, baseline.latest) && !isDeepStrictEqual(answer, after.data))
        fail(`latest: an answer that is neither report: ${JSON.stringify(answer)}`);
    if (isDeepStrictEqual(after.data, baseline.latest)) fail('latest: the good new report never reached the answers');
    // Answers changed by the publish (the comparison gains NME): each is the answer after it.
    let changedByPublish = 0;
    for (const [name, answers] of laterAnswers) {
      const final = await ask(gatewayUrls[0]!, QUERIES[name]);
      for (const answer of answers.values()) {
        changedByPublish++;
        if (!isDeepStrictEqual(answer, final.data))
          fail(`${name}: after the publish, an answer that is neither before nor after it: ${JSON.stringify(answer).slice(0, 300)}`);
      }
    }
    // The second replica swaps once it hears of the change (pub/sub) and composes it: within seconds.
    let compared: string[] = [];
    for (const until = Date.now() + 10_000; !compared.includes('NME') && Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      const clusters = await ask(gatewayUrls[1]!, QUERIES.comparison);
      compared = (clusters.data?.compareRelease?.snapshots ?? []).map((s: { cluster: { id: string } }) => s.cluster.id);
    }
    if (!compared.includes('NME')) fail(`the published NME cluster is not compared on the second replica: ${compared}`);

    const sorted = latencies.sort((a, b) => a - b);
    const seconds = DURATION_MS / 1000;
    console.log('\nSoak report');
    console.log(`  duration ${seconds} s, ${CLIENTS} clients, 2 gateway replicas (one cached, one not)`);
    console.log(`  requests ${requests} (${(requests / seconds).toFixed(0)}/s), partial answers ${partial}`);
    console.log(`  errors by code: ${byCode.size ? [...byCode].map(([c, n]) => `${c} ${n}`).join(', ') : 'none'}`);
    console.log(
      `  latency ms: p50 ${percentile(sorted, 50).toFixed(1)}, p90 ${percentile(sorted, 90).toFixed(1)}, p99 ${percentile(sorted, 99).toFixed(1)}, max ${(sorted.at(-1) ?? NaN).toFixed(1)}`,
    );
    console.log(`  latest-report answers seen: ${latestAnswers.size} (before and after the new report)`);
    console.log(`  distinct answers changed by the publish: ${changedByPublish}; clusters compared at the end: ${compared.join(', ')}`);
    console.log(`  faults: ${events.map((e) => `${e.at.toFixed(1)} s ${e.what}`).join('; ')}`);
    if (failures.length) {
      for (const [i, proc] of procs.entries()) {
        const lines = proc.output
          .trim()
          .split('\n')
          .filter((l) => !/listening on/.test(l));
        if (lines.length) console.log(`\n--- process ${i} (${proc.child.spawnargs.at(-1)}) said:\n${lines.slice(-15).join('\n')}`);
      }
      console.log(`\nFAILED: ${failed} checks (${failures.length} shown):\n  ${failures.join('\n  ')}`);
      return 1;
    }
    console.log('\nAll checks passed: no failed request other than London SUBGRAPH_UNAVAILABLE while it was down, no data lost or mixed.');
    return 0;
  } finally {
    for (const proc of procs.reverse()) await stopProgram(proc);
    // Assigned inside the faults timeline, which the compiler cannot follow.
    await (nme as Listening | null)?.close();
    await redis.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

// The verdict is the exit code, and the run ends by itself: every process, server and
// connection it opened is closed by then (a handle left open would keep it running).
process.exitCode = await main();
