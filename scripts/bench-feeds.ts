/**
 * `npm run bench:feeds`: how fast and how lean feed ingest is, and whether a reload under
 * query load ever fails or mixes snapshots. Loopback only, bounded in time.
 *
 *   1. Ingest: a generated report of 100,000 rollout rows per supplier, read, validated,
 *      turned into views and published to the in-memory store, each run in a fresh
 *      process (median of 3): wall time and extra memory (peak RSS over the RSS before).
 *   2. Reload under load: the whole supergraph with a generated South feed of 10,000
 *      trusts; concurrent clients query the gateway while three new reports arrive.
 *
 * Options: --rows N (default 100000), --runs N (3), --load-seconds N (10), --clients N (16).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readFeed, type FeedFormat } from '../subgraphs/kit/feed-format.js';
import { MemoryViewStore } from '../subgraphs/kit/store.js';
import { buildViews } from '../subgraphs/kit/views.js';
import { btFeedFormat } from '../subgraphs/london/feed-format.js';
import { feedReferenceOf, loadReference } from '../subgraphs/programme/reference.js';
import { fujitsuFeedFormat } from '../subgraphs/south/feed-format.js';
import { median } from './bench/stats.js';
import { generateFeeds, type Supplier } from './feed-generate.js';
import { startStack } from './stack.js';

const FORMATS: Record<Supplier, FeedFormat<object>> = { south: fujitsuFeedFormat, london: btFeedFormat };
const SELF = fileURLToPath(import.meta.url);
const MB = 1024 * 1024;

interface IngestFigures {
  readonly ms: number;
  readonly extraMb: number;
  readonly rows: number;
  readonly fileMb: number;
}

/** One ingest, measured inside this (fresh) process. */
async function ingestOnce(supplier: Supplier, file: string, trustsFile: string): Promise<IngestFigures> {
  const reference = feedReferenceOf(await loadReference(trustsFile));
  const store = new MemoryViewStore();
  global.gc?.();
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const bytes = readFileSync(file);
  const snapshot = readFeed(FORMATS[supplier], file, bytes, reference);
  await store.publish(buildViews(snapshot));
  const ms = performance.now() - started;
  const peak = process.resourceUsage().maxRSS * 1024;
  return { ms, extraMb: (peak - before) / MB, rows: snapshot.rows, fileMb: bytes.length / MB };
}

function ingestInChild(supplier: Supplier, file: string, trustsFile: string): IngestFigures {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', SELF, '--ingest-child', supplier, file, trustsFile], {
    encoding: 'utf8',
    maxBuffer: 10 * MB,
  });
  if (child.status !== 0) throw new Error(`ingest of ${file} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as IngestFigures;
}

interface LoadFigures {
  readonly requests: number;
  readonly failed: number;
  readonly mixed: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly snapshotsSeen: number;
}

const LOAD_QUERY = `{
  r0: release(code: "R0") { south { source { file } trustsLive } }
  r2: release(code: "R2") { south { source { file } designStatus plannedYear } }
  again: release(code: "R0") { south { source { file } } comparison { divergent } }
}`;

async function reloadUnderLoad(root: string, seconds: number, clients: number): Promise<LoadFigures> {
  const generated = await generateFeeds({ supplier: 'south', trusts: 10_000, snapshots: 4, outRoot: join(root, 'load') });
  const dir = join(root, 'load-feed');
  mkdirSync(dir);
  copyFileSync(generated.files[0]!, join(dir, basename(generated.files[0]!)));
  const ports = { GATEWAY_PORT: '0', PROGRAMME_PORT: '0', SOUTH_PORT: '0', LONDON_PORT: '0', INSIGHTS_PORT: '0' };
  const stack = await startStack({
    env: { ...ports, HOST: '127.0.0.1', SOUTH_FEED_DIR: dir, EXTRA_TRUSTS_FILE: generated.trustsFile, FEED_POLL_MS: '100' },
    log: () => {},
  });
  const latencies: number[] = [];
  const seen = new Set<string>();
  let failed = 0;
  let mixed = 0;
  const end = Date.now() + seconds * 1000;
  const client = async () => {
    while (Date.now() < end) {
      const started = performance.now();
      try {
        const response = await fetch(stack.gatewayUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: LOAD_QUERY }),
        });
        const body = (await response.json()) as { errors?: unknown; data?: Record<string, { south: { source: { file: string } } }> };
        latencies.push(performance.now() - started);
        if (!response.ok || body.errors || !body.data) {
          failed += 1;
          continue;
        }
        const files = new Set(Object.values(body.data).map((r) => r.south.source.file));
        if (files.size !== 1) mixed += 1;
        for (const file of files) seen.add(file);
      } catch {
        failed += 1;
      }
    }
  };
  const running = Array.from({ length: clients }, client);
  for (const file of generated.files.slice(1)) {
    await new Promise((r) => setTimeout(r, (seconds * 1000) / generated.files.length));
    copyFileSync(file, join(dir, basename(file)));
  }
  await Promise.all(running);
  await stack.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failed,
    mixed,
    rps: latencies.length / seconds,
    p50: sorted[Math.floor(sorted.length * 0.5)] ?? 0,
    p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
    snapshotsSeen: seen.size,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '3' },
      'load-seconds': { type: 'string', default: '10' },
      clients: { type: 'string', default: '16' },
    },
  });
  const rows = Number(values.rows);
  const runs = Number(values.runs);
  const root = mkdtempSync(join(tmpdir(), 'msg-bench-feeds-'));
  try {
    console.log(`Feed ingest: ${rows} rollout rows per supplier, median of ${runs} fresh processes (node ${process.version})`);
    console.log('supplier  rows     file MB  ingest ms  extra MB  target');
    let ok = true;
    for (const supplier of ['south', 'london'] as const) {
      process.stderr.write(`generating ${supplier}...\n`);
      const generated = await generateFeeds({ supplier, trusts: rows, snapshots: 1, outRoot: join(root, supplier) });
      const file = generated.files[0]!;
      const figures = Array.from({ length: runs }, () => ingestInChild(supplier, file, generated.trustsFile));
      const ms = median(figures.map((f) => f.ms));
      const extra = median(figures.map((f) => f.extraMb));
      const pass = ms < 2000 && extra < 300;
      ok &&= pass;
      console.log(
        `${supplier.padEnd(9)} ${String(figures[0]!.rows).padEnd(8)} ${figures[0]!.fileMb.toFixed(1).padStart(7)}  ${ms.toFixed(0).padStart(9)}  ${extra
          .toFixed(0)
          .padStart(8)}  ${pass ? 'met (< 2000 ms, < 300 MB)' : 'MISSED (< 2000 ms, < 300 MB)'}`,
      );
    }
    const seconds = Number(values['load-seconds']);
    const clients = Number(values.clients);
    console.log(
      `\nReload under load: ${clients} clients for ${seconds} s on the gateway, South feed of 10,000 trusts, 3 new reports arriving`,
    );
    const load = await reloadUnderLoad(root, seconds, clients);
    console.log(
      `requests ${load.requests}  failed ${load.failed}  mixed ${load.mixed}  snapshots seen ${load.snapshotsSeen}  ${load.rps.toFixed(0)} req/s  p50 ${load.p50.toFixed(
        1,
      )} ms  p99 ${load.p99.toFixed(1)} ms`,
    );
    const loadOk = load.failed === 0 && load.mixed === 0 && load.snapshotsSeen === 4;
    console.log(loadOk ? 'met: no failed or mixed response, every report served' : 'MISSED: see the figures above');
    process.exitCode = ok && loadOk ? 0 : 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--ingest-child') {
  const [, , , supplier, file, trustsFile] = process.argv;
  console.log(JSON.stringify(await ingestOnce(supplier as Supplier, file!, trustsFile!)));
} else if (process.argv[1] === SELF) {
  await main();
}
