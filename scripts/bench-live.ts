/**
 * `npm run bench:live`: what live answers cost (issue 12, item 7). It starts this project's
 * subgraphs in one process and, for each scenario, a fresh gateway in another (all on
 * 127.0.0.1), then:
 *   - opens the subscribers, each a server-sent-event stream (`Accept: text/event-stream`, the
 *     graphql-sse protocol's distinct connections) on one undici Agent: all on one `@live`
 *     query, then spread evenly over `--queries` distinct ones;
 *   - measures the gateway's memory per open stream (resident and V8 heap after a full
 *     garbage collection, through the gateway's inspector, after against before, over the
 *     streams) and its CPU over `--idle-seconds` with them open;
 *   - lands one South report, and times each subscriber's new `next` from the moment the
 *     South subgraph accepted it (its feed status's `loadedAt`, the same clock): p50, p99, max;
 *   - counts executions per change: the `gateway_live_executions_total` delta over the
 *     distinct operations (the goal is one).
 * Prints the table and the goals, met or not, and writes both into README.md between the
 * bench-live markers (`--no-readme` to skip). The bench's own process reads the streams on
 * the same cores, so the latencies include its share of the machine.
 * Options: --subscribers N (1000), --queries N (50), --idle-seconds S (10), --no-readme.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import WebSocket from 'ws';
import { goals, table, type Row } from './bench/live-report.js';
import { percentile } from './bench/stats.js';
import { cpuTimes, start, stop, stopAll, type Proc } from './bench/process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOUTH_FEED = join(ROOT, 'subgraphs/south/feed');
/** The reports landed, one per scenario, after the first (served when the streams open). */
const REPORTS = ['fujitsu-south-2007-06-15.csv', 'fujitsu-south-2007-09-06.csv', 'fujitsu-south-2008-01-31.csv'];

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    queries: { type: 'string', default: '50' },
    'idle-seconds': { type: 'string', default: '10' },
    'no-readme': { type: 'boolean', default: false },
  },
});
const SUBSCRIBERS = Number(args.subscribers);
const QUERIES = Number(args.queries);
const IDLE_SECONDS = Number(args['idle-seconds']);
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The i-th distinct live query: each its own operation (own group, own cache entry), all changed by a South report. */
const liveQuery = (i: number) => `query Live${i} @live { release(code: "R0") { south { source { file } } } }`;

/** One SSE subscriber: when each `next` arrived (ms since epoch). */
interface Subscriber {
  readonly arrivals: number[];
  close(): void;
}

async function subscribe(agent: Agent, url: string, query: string): Promise<Subscriber> {
  const abort = new AbortController();
  const response = await request(new URL('/graphql', url), {
    method: 'POST',
    dispatcher: agent,
    signal: abort.signal,
    headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  if (response.statusCode !== 200) throw new Error(`a subscriber was answered ${response.statusCode}: ${await response.body.text()}`);
  const subscriber: Subscriber = { arrivals: [], close: () => abort.abort() };
  let buffer = '';
  response.body.setEncoding('utf8');
  response.body.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (/^event: next$/m.test(message)) subscriber.arrivals.push(Date.now());
    }
  });
  response.body.on('error', () => {});
  return subscriber;
}

async function metric(gatewayUrl: string, name: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', gatewayUrl))).text();
  return text
    .split('\n')
    .filter((line) => line.split(/[ {]/)[0] === name)
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

/**
 * The gateway's memory after a full garbage collection, through its inspector (it runs with
 * `--inspect` on a free loopback port): without one, the heap figure is mostly how much
 * garbage happened to be waiting. The session is closed again, so it costs nothing idle.
 */
async function memoryAfterGc(inspectorUrl: string): Promise<{ rssKb: number; heapKb: number }> {
  const socket = new WebSocket(inspectorUrl);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<{ result?: { result?: { value?: string } } }>((resolve) => {
      const mine = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(data.toString()) as { id?: number };
        if (message.id !== mine) return;
        socket.off('message', onMessage);
        resolve(message as { result?: { result?: { value?: string } } });
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id: mine, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    const answer = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const usage = JSON.parse(answer.result?.result?.value ?? '{}') as { rss?: number; heapUsed?: number };
    if (usage.rss === undefined || usage.heapUsed === undefined) throw new Error('the gateway inspector gave no memory usage');
    return { rssKb: usage.rss / 1024, heapKb: usage.heapUsed / 1024 };
  } finally {
    socket.close();
  }
}

/** CPU time (ms, user + system) of a process, from /proc. */
function cpuMs(pid: number): number {
  const { userMs, systemMs } = cpuTimes(pid);
  return userMs + systemMs;
}

/** When the South subgraph accepted its current report (its feed status's `loadedAt`, ms). */
async function acceptedAt(southUrl: string, file: string): Promise<number> {
  const body = JSON.stringify({
    query:
      '{ _entities(representations: [{ __typename: "SouthFeedStatus", id: "south" }]) { ... on SouthFeedStatus { loadedAt current { file } } } }',
  });
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(20)) {
    const answer = (await (await fetch(southUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json()) as {
      data?: { _entities: { loadedAt: string; current: { file: string } | null }[] };
    };
    const status = answer.data?._entities[0];
    if (status?.current?.file === file) return Date.parse(status.loadedAt);
  }
  throw new Error(`the South subgraph did not accept ${file}`);
}

async function scenario(
  name: string,
  distinct: number,
  subgraphs: { urls: Record<string, string>; feedDir: string },
  report: string,
): Promise<Row> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    PROGRAMME_URL: subgraphs.urls['programme'],
    SOUTH_URL: subgraphs.urls['south'],
    LONDON_URL: subgraphs.urls['london'],
    INSIGHTS_URL: subgraphs.urls['insights'],
    REGISTRY_DIR: join(subgraphs.feedDir, '..', `registry-${distinct}`),
    LOG_LEVEL: 'warn',
    // Every subscriber comes from 127.0.0.1: raise the per-client and total stream caps (and
    // the rate limit, which counts each stream once) above the benchmark's own numbers.
    STREAMS_MAX_PER_CLIENT: String(SUBSCRIBERS + 10),
    STREAMS_MAX_TOTAL: String(SUBSCRIBERS + 10),
    RATE_LIMIT_REQUESTS: String(Math.max(12_000, SUBSCRIBERS * 4)),
  };
  const gateway: Proc = await start(
    process.execPath,
    ['--inspect=127.0.0.1:0', '--import', 'tsx', 'gateway/main.ts'],
    /gateway\s+listening on (http:\/\/\S+)/,
    {
      cwd: ROOT,
      env,
    },
  );
  const pid = gateway.child.pid!;
  const inspector = gateway.lines.map((line) => /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1]).find(Boolean);
  if (!inspector) throw new Error(`the gateway printed no inspector address:\n${gateway.lines.join('\n')}`);
  const agent = new Agent({ connections: SUBSCRIBERS + 10, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
  const subscribers: Subscriber[] = [];
  try {
    // Each distinct operation once, so the baseline holds their plans and cache entries.
    for (let i = 0; i < distinct; i += 1) {
      const warm = await subscribe(agent, gateway.url, liveQuery(i));
      while (warm.arrivals.length === 0) await sleep(10);
      warm.close();
    }
    await sleep(1000);
    const before = await memoryAfterGc(inspector);
    log(`${name}: opening ${SUBSCRIBERS} streams on ${distinct} operation(s)...`);
    for (let i = 0; i < SUBSCRIBERS; i += 50) {
      const batch = Array.from({ length: Math.min(50, SUBSCRIBERS - i) }, (_, j) =>
        subscribe(agent, gateway.url, liveQuery((i + j) % distinct)),
      );
      subscribers.push(...(await Promise.all(batch)));
    }
    for (const deadline = Date.now() + 60_000; subscribers.some((s) => s.arrivals.length === 0); await sleep(20))
      if (Date.now() > deadline) throw new Error('not every subscriber got its first result');
    await sleep(1000);
    const open = await metric(gateway.url, 'gateway_open_streams');
    if (open < SUBSCRIBERS) throw new Error(`the gateway counts ${open} open streams, not ${SUBSCRIBERS}`);
    const after = await memoryAfterGc(inspector);
    const idleFrom = cpuMs(pid);

    log(`${name}: ${IDLE_SECONDS} s idle with the streams open...`);
    await sleep(IDLE_SECONDS * 1000);
    const idleCpuPercent = ((cpuMs(pid) - idleFrom) / (IDLE_SECONDS * 1000)) * 100;

    const executionsBefore = await metric(gateway.url, 'gateway_live_executions_total');
    log(`${name}: landing ${report}...`);
    copyFileSync(join(SOUTH_FEED, report), join(subgraphs.feedDir, report));
    const accepted = await acceptedAt(subgraphs.urls['south']!, report);
    for (const deadline = Date.now() + 60_000; subscribers.some((s) => s.arrivals.length < 2) && Date.now() < deadline;) await sleep(20);
    // Any further run for the same change would come within the coalescing window and a run.
    await sleep(1000);
    const executions = (await metric(gateway.url, 'gateway_live_executions_total')) - executionsBefore;
    const latencies = subscribers
      .map((s) => s.arrivals[1])
      .filter((at): at is number => at !== undefined)
      .map((at) => at - accepted)
      .sort((a, b) => a - b);
    return {
      scenario: name,
      subscribers: SUBSCRIBERS,
      distinct,
      received: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? NaN,
      executionsPerChange: executions / distinct,
      rssKbPerStream: (after.rssKb - before.rssKb) / SUBSCRIBERS,
      heapKbPerStream: (after.heapKb - before.heapKb) / SUBSCRIBERS,
      idleCpuPercent,
    };
  } finally {
    for (const s of subscribers) s.close();
    await agent.close().catch(() => {});
    await stop(gateway);
  }
}

const work = mkdtempSync(join(tmpdir(), 'msg-bench-live-'));
try {
  const feedDir = join(work, 'south');
  mkdirSync(feedDir);
  copyFileSync(join(SOUTH_FEED, REPORTS[0]!), join(feedDir, REPORTS[0]!));
  const started = await start(process.execPath, ['--import', 'tsx', 'scripts/bench/subgraphs.ts'], /^(\{.*\})$/, {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'],
      HOST: '127.0.0.1',
      PROGRAMME_PORT: '0',
      SOUTH_PORT: '0',
      LONDON_PORT: '0',
      INSIGHTS_PORT: '0',
      SOUTH_FEED_DIR: feedDir,
      FEED_POLL_MS: '50',
      REGISTRY_DIR: join(work, 'registry'),
    },
  });
  const { urls } = JSON.parse(started.url) as { urls: Record<string, string> };
  const rows = [
    await scenario('one query', 1, { urls, feedDir }, REPORTS[1]!),
    await scenario(`${QUERIES} queries`, QUERIES, { urls, feedDir }, REPORTS[2]!),
  ];
  const date = new Date().toISOString().slice(0, 10);
  const block = [
    `Node ${process.version}, ${SUBSCRIBERS} SSE subscribers on one undici Agent, gateway and subgraphs in their own processes on 127.0.0.1, one South report landed per scenario, ${IDLE_SECONDS} s idle; run ${date}.`,
    '',
    table(rows),
    '',
    goals(rows),
  ].join('\n');
  process.stdout.write(`${block}\n`);
  if (!args['no-readme']) {
    const readme = join(ROOT, 'README.md');
    const text = readFileSync(readme, 'utf8');
    const marked = /(<!-- bench-live:start -->\n)[\s\S]*?(<!-- bench-live:end -->)/;
    if (!marked.test(text)) throw new Error('README.md has no bench-live markers');
    writeFileSync(
      readme,
      text.replace(marked, (_, open: string, close: string) => `${open}${block}\n${close}`),
    );
    log('README.md updated');
  }
  await stop(started);
} finally {
  stopAll();
  rmSync(work, { recursive: true, force: true });
}
