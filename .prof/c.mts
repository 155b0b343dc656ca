import { generateFeeds } from '/work/main/scripts/feed-generate.ts';
import { startStack } from '/work/main/scripts/stack.ts';
const g = await generateFeeds({ supplier: 'south', trusts: 10000, snapshots: 1, outRoot: '/tmp/prof-gen' });
const stack = await startStack({ env: { HOST: '127.0.0.1', GATEWAY_PORT: '0', PROGRAMME_PORT: '0', SOUTH_PORT: '0', LONDON_PORT: '0', INSIGHTS_PORT: '0', SOUTH_FEED_DIR: g.dir, EXTRA_TRUSTS_FILE: g.trustsFile, FEED_POLL_MS: '0', RESPONSE_CACHE: 'false', SUBGRAPH_DEDUPE: process.argv[2] ?? 'true' }, log: () => {} });
const body = JSON.stringify({ query: 'query Rollout { trusts(cluster: "SOUTH") { odsCode south { rollout { release { code } status plannedGoLive actualGoLive } } } }' });
const one = async () => { const r = await fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body }); await r.text(); };
await one();
for (const n of [1, 5, 10]) {
  const t = performance.now();
  await Promise.all(Array.from({ length: n }, one));
  console.log(`dedupe=${process.argv[2]} concurrent ${n}: ${(performance.now() - t).toFixed(0)} ms`);
}
await stack.close();
