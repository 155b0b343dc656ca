import { generateFeeds } from '/work/main/scripts/feed-generate.ts';
import { startStack } from '/work/main/scripts/stack.ts';
const g = await generateFeeds({ supplier: 'south', trusts: 10000, snapshots: 1, outRoot: '/tmp/prof-gen' });
const stack = await startStack({ env: { HOST: '127.0.0.1', GATEWAY_PORT: '0', PROGRAMME_PORT: '0', SOUTH_PORT: '0', LONDON_PORT: '0', INSIGHTS_PORT: '0', SOUTH_FEED_DIR: g.dir, EXTRA_TRUSTS_FILE: g.trustsFile, FEED_POLL_MS: '0', RESPONSE_CACHE: process.argv[2] ?? 'false' }, log: () => {} });
const body = JSON.stringify({ query: 'query Rollout { trusts(cluster: "SOUTH") { odsCode south { rollout { release { code } status plannedGoLive actualGoLive } } } }' });
for (let i = 0; i < 4; i++) {
  const t = performance.now();
  const r = await fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await r.text();
  console.log(i, r.status, text.length, (performance.now() - t).toFixed(0), 'ms', text.slice(-60));
}
await stack.close();
