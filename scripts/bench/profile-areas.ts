/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and sums its self time by area of code: Apollo's
 * planner, its executor, graphql-js by phase, Apollo Server, undici, pino, prom-client,
 * Express, Node's own HTTP and streams, this project's files one by one, GC. Proportions are
 * what it is for: on a loaded machine the absolute times mean little, the shares still do.
 */

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  }[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The package a `node_modules` path belongs to (`@scope/name` or `name`), its last one. */
function packageOf(url: string): { name: string; rest: string } | null {
  const at = url.lastIndexOf('/node_modules/');
  if (at < 0) return null;
  const parts = url.slice(at + '/node_modules/'.length).split('/');
  const scoped = parts[0]?.startsWith('@');
  const name = scoped ? `${parts[0]}/${parts[1]}` : (parts[0] ?? '');
  return { name, rest: parts.slice(scoped ? 2 : 1).join('/') };
}

const EXPRESS = new Set([
  'express',
  'router',
  'body-parser',
  'raw-body',
  'iconv-lite',
  'type-is',
  'mime-types',
  'content-type',
  'negotiator',
  'accepts',
  'finalhandler',
  'on-finished',
  'path-to-regexp',
  'parseurl',
  'qs',
  'send',
  'cors',
  'vary',
  'depd',
  'debug',
  'statuses',
  'encodeurl',
  'escape-html',
  'cookie',
  'etag',
  'fresh',
  'proxy-addr',
  'forwarded',
  'ipaddr.js',
  'range-parser',
  'merge-descriptors',
  'media-typer',
  'http-errors',
  'safe-buffer',
  'setprototypeof',
  'content-disposition',
  'serve-static',
  'bytes',
  'unpipe',
  'ee-first',
]);

/** The area a call frame's code belongs to. */
export function areaOf(functionName: string, url: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const pkg = packageOf(url);
  if (pkg) {
    const { name, rest } = pkg;
    if (name === '@apollo/query-planner') return 'Apollo query planner';
    if (name === '@apollo/federation-internals') return 'Apollo federation-internals';
    if (name === '@apollo/gateway') return rest.includes('executeQueryPlan') ? 'Apollo gateway executor' : 'Apollo gateway (other)';
    if (name === 'graphql') {
      const phase = /^(language|validation|execution|utilities|type|error|jsutils)\//.exec(rest)?.[1] ?? 'other';
      return `graphql-js ${phase}`;
    }
    if (name === '@apollo/server' || name.startsWith('@apollo/utils') || name === '@apollo/usage-reporting-protobuf')
      return 'Apollo Server';
    if (name === '@as-integrations/express5') return 'Apollo Server';
    if (name === 'undici') return 'undici';
    if (['pino', 'sonic-boom', 'thread-stream', 'fast-redact', 'quick-format-unescaped', 'pino-std-serializers'].includes(name))
      return 'pino';
    if (name === 'prom-client' || name === 'tdigest' || name === 'bintrees') return 'prom-client';
    if (EXPRESS.has(name)) return 'express & middleware';
    if (name.startsWith('@escape.tech/graphql-armor')) return 'graphql-armor';
    if (name === 'tsx' || name === 'esbuild' || name === 'get-tsconfig') return 'tsx';
    if (name === 'lru-cache' || name === '@apollo/utils.keyvaluecache') return 'Apollo Server';
    if (name.startsWith('@opentelemetry')) return 'opentelemetry';
    return `pkg ${name}`;
  }
  if (url.startsWith('node:')) {
    const file = url.slice('node:'.length).replace(/^internal\//, '');
    if (/^_?http|^http/.test(file)) return 'node http';
    if (/streams?\//.test(file) || file === 'stream' || file.startsWith('webstreams')) return 'node streams';
    if (/^(net|stream_base_commons|dns|tcp)/.test(file)) return 'node net';
    if (/async_hooks|async_context_frame/.test(file)) return 'node async_hooks';
    if (/^(timers|process\/task_queues)/.test(file)) return 'node timers/ticks';
    if (/^(url|querystring)/.test(file)) return 'node url';
    if (/^(buffer|util|events|errors)/.test(file)) return 'node buffer/util/events';
    return `node other (${file.split('/')[0]})`;
  }
  const project = /\/(gateway|schema|subgraphs|scripts|test)\/(.+?)(?:\?.*)?$/.exec(url);
  if (project) return `ours: ${project[1]}/${project[2]}`;
  return `other ${url}`;
}

/**
 * Self time (ms) by area, and by function, of one profile; idle left out of the total. Only
 * samples from `fromMicros` on (V8 stamps them with the monotonic clock `process.hrtime` reads,
 * so another process can say when its load started), so start-up is not counted.
 */
export function selfTimes(
  profile: CpuProfile,
  fromMicros = 0,
): {
  total: number;
  areas: Map<string, number>;
  functions: Map<string, number>;
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    const node = byId.get(id);
    if (!node || at < fromMicros) return;
    const ms = delta / 1000;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(functionName, url);
    if (area === 'idle') return;
    total += ms;
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const where = url ? `${url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/\/work\/[^/]+\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + ms);
  });
  return { total, areas, functions };
}

/** The largest entries of `times`, as percentages of `total`, as Markdown table rows. */
export function shareRows(times: ReadonlyMap<string, number>, total: number, top: number): string[] {
  return [...times.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => `| ${name} | ${((100 * ms) / total).toFixed(1)}% |`);
}
