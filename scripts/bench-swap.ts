/**
 * `npm run bench:swap`: request latency across a registry swap, with plan warm-up on
 * (`PLAN_WARMUP_MS`) and off (0). For each, it starts the supergraph in this process
 * (ephemeral ports, a fresh registry folder, the response cache off so every request is
 * planned or finds its plan), a third cluster subgraph (test/fixtures/nme), and `--clients`
 * clients that run the dashboards' persisted operations by id; after `--before` seconds an
 * operator publishes the third cluster, which changes the supergraph. It prints p50, p99 and
 * max of the requests started in the `--window` ms after the gateway swapped, beside those of
 * the steady state before the publish.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mintToken } from '../gateway/registry/tokens.js';
import { buildClusterSubgraph, type ClusterSubgraphDefinition } from '../subgraphs/kit/cluster.js';
import { listen } from '../subgraphs/kit/http.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { nmeFeedDir, nmeSubgraph } from '../test/fixtures/nme/index.js';
import { EPHEMERAL_ENV } from '../test/helpers.js';
import { percentile } from './bench/stats.js';
import { startStack } from './stack.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    before: { type: 'string', default: '5' },
    window: { type: 'string', default: '3000' },
    budget: { type: 'string', default: '2000' },
  },
});
const clients = Number(values.clients);
const beforeSeconds = Number(values.before);
const windowMs = Number(values.window);

/** The dashboards' operations (gateway/persisted-operations.json), by id, as a board loads them. */
const bodies = [
  { documentId: 'ReleaseMatrix', variables: { asOf: '2007-09-06' } },
  { documentId: 'CompareRelease', variables: { code: 'R2', asOf: '2007-09-06' } },
  { documentId: 'ReleaseSlippage', variables: { code: 'R2' } },
  { documentId: 'TrustRollout', variables: {} },
  { documentId: 'FeedFreshness' },
  { documentId: 'DashboardReleases', variables: { asOf: '2007-09-06' } },
];

interface Sample {
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
}

function summary(samples: readonly Sample[]): string {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const failed = samples.filter((s) => !s.ok).length;
  const f = (n: number) => `${n.toFixed(1)} ms`;
  return `${samples.length} requests, p50 ${f(percentile(ms, 50))}, p99 ${f(percentile(ms, 99))}, max ${f(ms.at(-1) ?? 0)}, failed ${failed}`;
}

/** One run: steady load, one publish, the samples before it and those in the window after the swap. */
async function run(budgetMs: number): Promise<{ steady: Sample[]; after: Sample[]; warmup: string | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'msg-bench-swap-'));
  const token = mintToken(join(dir, 'tokens.json'), { supplier: 'BENCH', subgraphs: [], operator: true });
  let swappedAt: number | null = null;
  let warmup: string | null = null;
  const stack = await startStack({
    env: {
      ...EPHEMERAL_ENV,
      REGISTRY_DIR: dir,
      RATE_LIMIT_REQUESTS: '0',
      REGISTRY_RATE_LIMIT_REQUESTS: '0',
      RESPONSE_CACHE: 'false',
      // On a loaded machine the publish's checks may take long: the bench measures the swap, not them.
      REGISTRY_CHECK_TIMEOUT_MS: '120000',
      PLAN_WARMUP_MS: String(budgetMs),
    },
    log: (line) => {
      if (line.includes('plan warm-up before the swap')) warmup = line.replace(/^gateway: /, '');
      if (swappedAt === null && line.includes('now serving registry version 1')) swappedAt = performance.now();
    },
  });
  const reference = feedReferenceOf(await loadReference(null));
  const nme = await listen(
    (await buildClusterSubgraph(nmeSubgraph as ClusterSubgraphDefinition<object>, { feedDir: nmeFeedDir, reference, pollMs: 0 })).service,
    '127.0.0.1',
    0,
  );
  const samples: Sample[] = [];
  let stop = false;
  const client = async (n: number) => {
    for (let i = n; !stop; i++) {
      const at = performance.now();
      const response = await fetch(stack.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(bodies[i % bodies.length]),
      });
      const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
      samples.push({ at, ms: performance.now() - at, ok: response.status === 200 && !body.errors && !!body.data });
    }
  };
  const running = Array.from({ length: clients }, (_, n) => client(n));
  await new Promise((r) => setTimeout(r, beforeSeconds * 1000));
  const published = performance.now();
  const response = await fetch(new URL('/registry/subgraphs/nme', stack.gatewayUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ sdl: nmeSubgraph.sdl, url: nme.url }),
  });
  if (response.status !== 201) console.error(`the publish answered ${response.status}: ${await response.text()}`);
  const deadline = published + 60_000;
  while (swappedAt === null && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, windowMs));
  stop = true;
  await Promise.all(running);
  await nme.close();
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
  const swap = swappedAt ?? Infinity;
  if (swappedAt === null) console.error('the gateway did not swap within 60 s: no window after it');
  return {
    // The steady state: the second half of the time before the publish (the first warms caches and connections).
    steady: samples.filter((s) => s.at >= published - (beforeSeconds * 1000) / 2 && s.at < published),
    after: samples.filter((s) => s.at >= swap && s.at < swap + windowMs),
    warmup,
  };
}

console.log(`Node ${process.version}, ${clients} clients, a publish after ${beforeSeconds} s, window ${windowMs} ms after the swap`);
for (const budget of [Number(values.budget), 0]) {
  const { steady, after, warmup } = await run(budget);
  const label = budget > 0 ? `warm-up on (PLAN_WARMUP_MS=${budget})` : 'warm-up off (PLAN_WARMUP_MS=0)';
  console.log(`${label}`);
  console.log(`  before the publish: ${summary(steady)}`);
  console.log(`  after the swap:     ${summary(after)}`);
  if (warmup) console.log(`  ${warmup}`);
}
