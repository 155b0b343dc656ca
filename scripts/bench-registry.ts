/**
 * `npm run bench:registry`: hot swaps under load. Starts the supergraph in this process
 * (ephemeral ports, a fresh registry folder), a third cluster subgraph (test/fixtures/nme),
 * and `--clients` clients querying the gateway (a comparison, the feeds, a persisted
 * operation, a cluster view) for `--seconds`, while an operator publishes the third cluster
 * and rolls it back in turn every `--every` ms. Prints requests, failures, and how long each
 * change took from the request to the gateway serving it.
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
import { startStack } from './stack.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '20' },
    every: { type: 'string', default: '2000' },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const every = Number(values.every);
const dir = mkdtempSync(join(tmpdir(), 'msg-bench-registry-'));
const token = mintToken(join(dir, 'tokens.json'), { supplier: 'BENCH', subgraphs: [], operator: true });
const stack = await startStack({
  // One client address sends thousands of requests: rate limiting would measure itself.
  env: { ...EPHEMERAL_ENV, REGISTRY_DIR: dir, RATE_LIMIT_REQUESTS: '0', REGISTRY_RATE_LIMIT_REQUESTS: '0' },
  log: () => {},
});
const reference = feedReferenceOf(await loadReference(null));
const nme = await listen(
  (await buildClusterSubgraph(nmeSubgraph as ClusterSubgraphDefinition<object>, { feedDir: nmeFeedDir, reference, pollMs: 0 })).service,
  '127.0.0.1',
  0,
);
const sdl = nmeSubgraph.sdl;
const gateway = stack.gatewayUrl;
const bodies = [
  {
    query: 'query Compare($asOf: Date) { compareRelease(code: "R2", asOf: $asOf) { clusters { id } divergent } }',
    variables: { asOf: '2007-09-06' },
  },
  { query: '{ feeds { id cluster { id } current { asOf } } }' },
  { documentId: 'ReleaseMatrix' },
  { query: '{ release(code: "R2") { south { localName } london { localName } comparison { clusters { id } } } }' },
];

let stop = false;
let requests = 0;
const failures: string[] = [];
const client = async (n: number) => {
  for (let i = n; !stop; i++) {
    const response = await fetch(gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bodies[i % bodies.length]),
    });
    const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
    requests++;
    if (response.status !== 200 || body.errors || !body.data) failures.push(`${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
};
const changes: { what: string; ms: number; served: boolean }[] = [];
const operator = async () => {
  for (let i = 0; !stop; i++) {
    await new Promise((r) => setTimeout(r, every));
    if (stop) break;
    const started = performance.now();
    const [url, body] = i % 2 === 0 ? [`/registry/subgraphs/nme`, { sdl, url: nme.url }] : ['/registry/rollback', { version: 0 }];
    const response = await fetch(new URL(url, gateway), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { served?: boolean; text?: string };
    changes.push({ what: i % 2 === 0 ? 'publish' : 'rollback', ms: performance.now() - started, served: answer.served === true });
    if (response.status !== 201) console.error(`change ${i} answered ${response.status}: ${answer.text ?? JSON.stringify(answer)}`);
  }
};
const started = performance.now();
const running = [...Array.from({ length: clients }, (_, n) => client(n)), operator()];
await new Promise((r) => setTimeout(r, seconds * 1000));
stop = true;
await Promise.all(running);
const elapsed = (performance.now() - started) / 1000;
const ms = changes.map((c) => c.ms).sort((a, b) => a - b);
console.log(`Node ${process.version}, ${clients} clients for ${seconds} s, a publish or rollback every ${every} ms`);
console.log(`requests: ${requests} (${Math.round(requests / elapsed)} req/s), failed: ${failures.length}`);
console.log(
  `changes: ${changes.length} (${changes.filter((c) => c.served).length} served on answer), request to served: median ${Math.round(ms[Math.floor(ms.length / 2)] ?? 0)} ms, max ${Math.round(ms.at(-1) ?? 0)} ms`,
);
for (const failure of failures.slice(0, 5)) console.log(`  failure: ${failure}`);
await nme.close();
await stack.close();
rmSync(dir, { recursive: true, force: true });
process.exitCode = failures.length > 0 ? 1 : 0;
