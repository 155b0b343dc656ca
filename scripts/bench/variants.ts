/**
 * The variants `npm run bench` puts side by side, started afresh for each workload so that a
 * process's peak memory is that workload's: plain Apollo Gateway (the baseline of every
 * ratio), this gateway with caching off (and so again with tracing on, exporting to a local
 * OTLP sink: the cost of tracing; and on the Guild workloads without merging identical
 * in-flight operations, `OPERATION_DEDUPE=false`: what that merging gives), with its in-memory cache and with Redis, Hive
 * Gateway with its JavaScript and its Rust planner (peers.ts), and two ceilings: the subgraph
 * hit directly, and a bare `node:http` server writing the bytes of a response-cache hit.
 * Every gateway listens on 127.0.0.1 with the same V8 old-space limit; plain Apollo Gateway and
 * this one run from `dist/` (build.ts), which the caller builds first.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/redis.js';
import { compiled } from './build.js';
import { PEER_PACKAGES, hiveLaunch, type PeerInstall } from './peers.js';
import { start, type Proc } from './process.js';

export type VariantKey = 'plain' | 'off' | 'off-undeduped' | 'traced' | 'memory' | 'redis' | 'subgraph' | 'hive' | 'hive-rust' | 'bare';

export interface Target {
  readonly key: VariantKey;
  readonly label: string;
  readonly url: string;
  /** The process to read peak memory from; null for one not started for this workload. */
  readonly proc: Proc | null;
}

/** A variant that could not be put in the table, and why. */
export interface Skipped {
  readonly label: string;
  readonly reason: string;
}

export interface VariantSetup {
  readonly root: string;
  /** V8 old-space limit in MiB for every gateway; 0 for Node's default. */
  readonly heapMib: number;
  /** null when no Redis answers. */
  readonly redisUrl: string | null;
  readonly peers: PeerInstall;
  readonly peersDir: string;
}

const apolloGatewayVersion = (root: string) =>
  (JSON.parse(readFileSync(join(root, 'node_modules/@apollo/gateway/package.json'), 'utf8')) as { version: string }).version;

/** The label of each variant, as the table shows it. */
export function variantLabel(key: VariantKey, root: string): string {
  const hive = `Hive Gateway ${PEER_PACKAGES['@graphql-hive/gateway']}`;
  switch (key) {
    case 'plain':
      return `(a) plain Apollo Gateway ${apolloGatewayVersion(root)}`;
    case 'off':
      return '(b) this gateway, caching off';
    case 'off-undeduped':
      return '(b-) caching off, no operation dedupe';
    case 'traced':
      return "(b') caching off, tracing on (to a local sink)";
    case 'memory':
      return '(c) in-memory cache (defaults)';
    case 'redis':
      return '(d) Redis cache';
    case 'subgraph':
      return '(e) subgraph directly';
    case 'hive':
      return `(f) ${hive}`;
    case 'hive-rust':
      return `(g) ${hive} + Rust planner (router-runtime ${PEER_PACKAGES['@graphql-hive/router-runtime']})`;
    case 'bare':
      return '(h) bare node:http, the bytes of a (c) hit';
  }
}

/** The line this gateway and plain Apollo Gateway print once they listen; its group is the URL. */
export const GATEWAY_READY = /gateway\s+listening on (http:\/\/\S+)/;

/** Variant (b)'s settings: both caches off. */
export const CACHING_OFF: Readonly<NodeJS.ProcessEnv> = { RESPONSE_CACHE: 'false', ENTITY_CACHE: 'false' };

/** `NODE_OPTIONS` giving a process a V8 old space of `mib` MiB; nothing for 0 (Node's default). */
export const heapEnv = (mib: number): NodeJS.ProcessEnv => (mib > 0 ? { NODE_OPTIONS: `--max-old-space-size=${mib}` } : {});

/**
 * What every bench tool starts this gateway over `supergraph` with, before a variant's own
 * settings: a free port of 127.0.0.1, no rate limit (the load comes from one client address)
 * and no access logs (they would measure the terminal).
 */
export const gatewayEnv = (supergraph: string): NodeJS.ProcessEnv => ({
  HOST: '127.0.0.1',
  GATEWAY_PORT: '0',
  SUPERGRAPH_PATH: supergraph,
  RATE_LIMIT_REQUESTS: '0',
  LOG_LEVEL: 'warn',
});

/**
 * Starts plain Apollo Gateway and this gateway's variants over `supergraph`, and for a Guild
 * workload (`guild`) the variant without operation dedupe and the peers. This gateway failing
 * to start fails the benchmark; a peer failing is skipped with its reason.
 */
export async function startGateways(
  setup: VariantSetup,
  supergraph: string,
  guild: boolean,
): Promise<{ targets: Target[]; skipped: Skipped[] }> {
  const heap = heapEnv(setup.heapMib);
  // Compiled ahead (build.ts), so no gateway's memory counts a TypeScript loader.
  const node = (script: string, env: NodeJS.ProcessEnv) =>
    start(process.execPath, [compiled(setup.root, script)], GATEWAY_READY, { cwd: setup.root, env: { ...process.env, ...heap, ...env } });
  const ours = (extra: NodeJS.ProcessEnv) => node('gateway/main.ts', { ...gatewayEnv(supergraph), ...extra });
  const targets: Target[] = [];
  const skipped: Skipped[] = [];
  const add = (key: VariantKey, proc: Proc, url = proc.url) => targets.push({ key, label: variantLabel(key, setup.root), url, proc });
  add('plain', await node('scripts/bench/plain-gateway.ts', { GATEWAY_PORT: '0', SUPERGRAPH_PATH: supergraph }));
  add('off', await ours(CACHING_OFF));
  if (guild) add('off-undeduped', await ours({ ...CACHING_OFF, OPERATION_DEDUPE: 'false' }));
  // The same, every operation traced (always sampled) and exported to a sink of its own.
  const sink = await start(process.execPath, ['--import', 'tsx', 'scripts/bench/otlp-sink.ts'], /otlp-sink\s+listening on (http:\/\/\S+)/, {
    cwd: setup.root,
    env: { ...process.env },
  });
  add('traced', await ours({ ...CACHING_OFF, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'always_on' }));
  add('memory', await ours({}));
  if (setup.redisUrl) add('redis', await ours({ REDIS_URL: setup.redisUrl }));
  // Peers that could not be installed are reported once, by the caller.
  if (!guild || !setup.peers.ok) return { targets, skipped };
  for (const key of ['hive', 'hive-rust'] as const) {
    const label = variantLabel(key, setup.root);
    // Hive prints its configured port, so the port is chosen here (its `--port 0` would print ":0").
    const launch = hiveLaunch(setup.peers.bin, supergraph, await freePort(), key === 'hive-rust');
    try {
      const proc = await start(process.execPath, launch.args, launch.ready, {
        // Its own folder, so no gateway.config.* of anyone else's is picked up; and only the
        // environment it needs, as Hive reads HOST, PORT, FORK and more from it.
        cwd: setup.peersDir,
        env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: '1', ...heap },
      });
      const wrong = launch.check(proc.lines);
      if (wrong) {
        proc.child.kill('SIGTERM');
        skipped.push({ label, reason: wrong });
      } else add(key, proc, new URL('/graphql', proc.url).href);
    } catch (error) {
      skipped.push({
        label,
        reason: `did not start: ${error instanceof Error ? error.message.split('\n').slice(0, 3).join(' / ') : String(error)}`,
      });
    }
  }
  return { targets, skipped };
}

/**
 * Starts the bare server with the bytes and headers of a hit of `body` on the in-memory cache
 * variant (asked twice: the first may be the miss that stores it). Null, with the reason, when
 * no hit comes back.
 */
export async function startBare(root: string, cached: Target, body: string, work: string): Promise<{ target: Target } | Skipped> {
  const label = variantLabel('bare', root);
  let response: Response | undefined;
  let text = '';
  for (let attempt = 0; attempt < 3; attempt += 1) {
    // As autocannon asks: no compression, so the bytes copied are the bytes it is served.
    response = await fetch(cached.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'identity' },
      body,
    });
    text = await response.text();
    if (/"extensions":\{"cache":\{"status":"HIT"/.test(text)) break;
  }
  if (!response?.ok || !/"extensions":\{"cache":\{"status":"HIT"/.test(text))
    return { label, reason: `${cached.label} gave no response-cache hit to copy (${response?.status}: ${text.slice(0, 120)})` };
  if (response.headers.has('content-encoding'))
    return { label, reason: `${cached.label} compressed its hit (${response.headers.get('content-encoding')})` };
  // The headers a hit carries, less those Node writes per connection or per response.
  const perConnection = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!perConnection.has(name)) headers[name] = value;
  });
  const file = join(work, 'bare-response.json');
  writeFileSync(file, JSON.stringify({ headers, body: text }));
  const proc = await start(process.execPath, ['--import', 'tsx', 'scripts/bench/bare-server.ts'], /bare\s+listening on (http:\/\/\S+)/, {
    cwd: root,
    env: { ...process.env, BARE_RESPONSE_FILE: file },
  });
  return { target: { key: 'bare', label, url: proc.url, proc } };
}
