/**
 * `npm run subgraph:new -- <cluster-id> [--supplier ID] [--out DIR] [--port N]` scaffolds a
 * cluster subgraph built with the kit (subgraphs/kit): its SDL against the contract, its
 * definition over the kit's JSON feed format, a runnable main, and a sample report. As
 * generated it passes `npm run subgraph:check` and can be published.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pascal, viewFieldOf } from '../schema/cluster-views.js';
import { loadGatewayConfig } from '../gateway/config.js';
import { EMPTY_MEMBERSHIP, listMembership, membershipWithin, openMembershipStore, whatToRegister } from '../gateway/registry/membership.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { supplier: { type: 'string' }, out: { type: 'string' }, port: { type: 'string', default: '4010' } },
});
const clusterId = positionals[0]?.toUpperCase();
if (!clusterId || !/^[A-Z][A-Z0-9_-]*$/.test(clusterId)) {
  fail('Usage: npm run subgraph:new -- <cluster-id> [--supplier ID] [--out DIR] [--port N]   (e.g. npm run subgraph:new -- NME)');
}
// The programme's membership as this machine's registry holds it (the seed and registered clusters).
const store = openMembershipStore(loadGatewayConfig().registry);
const read = await membershipWithin(store);
await store.close();
const state = read instanceof Error ? EMPTY_MEMBERSHIP : read;
const clusters = listMembership(state).clusters;
const known = clusters.find((c) => c.id === clusterId);
const supplierId = values.supplier?.toUpperCase() ?? known?.supplier.id;
if (!supplierId) fail(`Cluster ${clusterId} is not in the programme's membership: name its supplier with --supplier ID`);
const name = clusterId.toLowerCase().replace(/[_]+/g, '-');
const field = viewFieldOf(name);
const Type = pascal(name);
const PREFIX = clusterId.replace(/-/g, '_');
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${values.port}: must be a port number`);
const out = resolve(values.out ?? join(ROOT, 'suppliers', name));
if (existsSync(join(out, 'subgraph.ts'))) fail(`${out} already holds a subgraph; choose another --out`);

const kit = (file: string) => {
  const path = relative(out, join(ROOT, file)).split('\\').join('/');
  return path.startsWith('.') ? path : `./${path}`;
};

const files: Record<string, string> = {
  // ES modules wherever the folder lives (the kit is ESM and main.ts awaits at top level).
  'package.json': `${JSON.stringify({ name: `${name}-subgraph`, private: true, type: 'module' }, null, 2)}\n`,
  'schema.graphql': `# Subgraph "${name}": the ${clusterId} cluster's view of Millennium, published by ${supplierId}.
# Written against the contract (schema/contract.graphql); the kit adds the rest.

extend type Release {
  "The ${clusterId} cluster's view of the release; null when its feed does not define the release."
  ${field}("Answer from the report current at this day; default: the latest." asOf: Date): ${Type}ReleaseView @tag(name: "cluster-view")
}

extend type Trust {
  "The ${clusterId} cluster's view of the trust; null when its feed does not name the trust."
  ${field}("Answer from the report current at this day; default: the latest." asOf: Date): ${Type}TrustView @tag(name: "cluster-view")
}

"The ${clusterId} cluster's (${supplierId}'s) view of a programme release."
type ${Type}ReleaseView implements ClusterReleaseView {
  "Always the \`${clusterId}\` cluster."
  cluster: Cluster!
  "The supplier that published the report."
  supplier: Supplier!
  "${supplierId}'s name for the release."
  localName: String!
  "Where the release's design stands in this cluster."
  designStatus: DesignStatus!
  "The day design was suspended, when it was."
  designSuspendedOn: Date
  "The planned availability date, when the feed gives a day."
  plannedDate: Date
  "The planned availability year, when the feed gives one."
  plannedYear: Int
  "Whether the release connects to the national Spine in this cluster."
  spineCompliant: Boolean!
  "The capabilities in this cluster's scope of the release."
  capabilities: [CapabilityScope!]!
  "How many trusts are live on the release in this cluster."
  trustsLive: Int!
  "How many trusts the cluster plans to take the release."
  trustsPlanned: Int!
  "Each trust's go-live on this release."
  rollout: [RolloutEntry!]!
  "The feed report this view was read from."
  source: FeedSource!
  "The release as each accepted report described it, oldest first."
  history("Keep reports dated on or after this day." from: Date, "Keep reports dated on or before this day." to: Date): [ReleaseSnapshot!]!
  "${supplierId}'s remarks on the release: a part of this cluster's spec that others have not."
  remarks: String
}

"The ${clusterId} cluster's view of a trust."
type ${Type}TrustView implements ClusterTrustView {
  "Always the \`${clusterId}\` cluster."
  cluster: Cluster!
  "The supplier that published the report."
  supplier: Supplier!
  "The trust's name as the feed gives it."
  localName: String!
  "The trust's go-lives, one entry per release."
  rollout: [RolloutEntry!]!
  "The feed report this view was read from."
  source: FeedSource!
}
`,
  'subgraph.ts': `/** The ${name} cluster subgraph: its definition, built with the kit. */
import type { ClusterSubgraphDefinition } from '${kit('subgraphs/kit/cluster.js')}';
import { readSdl } from '${kit('subgraphs/kit/contract.js')}';
import { kitJsonFeedFormat, type KitJsonExtra } from '${kit('subgraphs/kit/json-feed-format.js')}';

export const ${field}Subgraph: ClusterSubgraphDefinition<KitJsonExtra> = {
  name: '${name}',
  clusterId: '${clusterId}',
  supplierId: '${supplierId}',
  viewField: '${field}',
  sdl: readSdl(import.meta.url, './schema.graphql'),
  format: kitJsonFeedFormat({ clusterId: '${clusterId}', supplierId: '${supplierId}' }),
};
`,
  'main.ts': `/**
 * Runs the ${name} subgraph, from the repository's root: \`node --import tsx <this folder>/main.ts\`.
 * Settings: HOST, ${PREFIX}_PORT (default ${port}), ${PREFIX}_FEED_DIR (default ./feed/),
 * ${PREFIX}_FEED_URL, FEED_POLL_MS, FEED_MAX_BYTES, REDIS_URL, EXTRA_TRUSTS_FILE, REGISTRY_URL, MEMBERSHIP_POLL_MS.
 */
import { fileURLToPath } from 'node:url';
import { buildClusterSubgraph } from '${kit('subgraphs/kit/cluster.js')}';
import { loadClusterConfig } from '${kit('subgraphs/kit/config.js')}';
import { listen } from '${kit('subgraphs/kit/http.js')}';
import { runUntilSignal } from '${kit('subgraphs/kit/main.js')}';
import { followMembership } from '${kit('subgraphs/kit/membership.js')}';
import { ${field}Subgraph } from './subgraph.js';

await runUntilSignal(async () => {
  const config = loadClusterConfig('${PREFIX}', { port: ${port}, feedDir: fileURLToPath(new URL('./feed/', import.meta.url)) }, process.env);
  // The programme's trusts, with those an operator registered at the gateway's registry (followed live).
  const membership = await followMembership(config);
  const { service } = await buildClusterSubgraph(${field}Subgraph, {
    ...config,
    reference: membership.feed,
    onReferenceChange: (listener) => membership.onChange(listener),
    log: console.log,
  });
  return [await listen(service, config.host, config.port)];
});
`,
  [`feed/${name}-2007-09-06.json`]: `${JSON.stringify(
    {
      asOf: '2007-09-06',
      releases: [
        {
          code: 'R0',
          localName: `${clusterId} Release 0`,
          designStatus: 'COMPLETE',
          plannedYear: 2006,
          spineCompliant: true,
          capabilities: ['PAS', 'EMERGENCY_DEPARTMENT'],
        },
        {
          code: 'R2',
          localName: `${clusterId} Release 2`,
          designStatus: 'ACTIVE',
          plannedYear: 2010,
          spineCompliant: true,
          capabilities: ['PAS', 'SPINE_INTEGRATION'],
          remarks: 'Sample report written by subgraph:new: replace it with your own.',
        },
      ],
      rollout: [],
    },
    null,
    2,
  )}\n`,
};

for (const [file, text] of Object.entries(files)) {
  const path = join(out, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
const shown = relative(process.cwd(), out) || '.';
console.log(`Scaffolded subgraph "${name}" (cluster ${clusterId}, supplier ${supplierId}) in ${shown}/:
  schema.graphql   its SDL against the contract (Release.${field}, Trust.${field}, ${Type}ReleaseView, ${Type}TrustView)
  subgraph.ts      its definition, over the kit's JSON feed format
  main.ts          runs it on ${PREFIX}_PORT (default ${port})
  feed/            a sample report
  package.json     marks the folder as ES modules

Next:
  npm run subgraph:check -- --name ${name} --schema ${shown}/schema.graphql --cluster ${clusterId} --supplier ${supplierId}
  node --import tsx ${shown}/main.ts
  (then publish it: see docs/SUPPLIERS.md)`);
const register = whatToRegister(state, clusterId, supplierId);
if (read instanceof Error)
  console.log(`\nNote: this machine's registry could not be read (${read.message}); only the seed's clusters were checked.`);
if (register) console.log(`\n${register}\n(The programme knows ${clusters.map((c) => `${c.id} by ${c.supplier.id}`).join(', ')}.)`);
