/**
 * `npm run subgraph:check -- --name <name> --schema <file.graphql> [--url <url>] [--cluster <ID> --supplier <ID>] [--json]`:
 * the registry's checks, offline, before publishing. It compares with the registry this
 * machine's gateway uses (the same settings: `REDIS_URL`, `REGISTRY_DIR`, ...), checks the
 * dashboards' persisted operations and the operations the gateway recorded, prints a report
 * (or JSON for CI) and exits 1 when the subgraph could not be published, 2 on bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../gateway/config.js';
import { checkSubgraph } from '../gateway/registry/checks.js';
import { offlineIdentityIssues } from '../gateway/registry/identity.js';
import { openMembershipStore } from '../gateway/registry/membership.js';
import { formatReport } from '../gateway/registry/report.js';
import { EMPTY_REGISTRY, openRegistryStore } from '../gateway/registry/store.js';
import { loadPersistedOperations } from '../gateway/persisted-operations.js';

function usage(problem: string): never {
  console.error(
    `${problem}\nUsage: npm run subgraph:check -- --name <name> --schema <file.graphql> [--url <url>] [--cluster <ID> --supplier <ID>] [--json]`,
  );
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      name: { type: 'string' },
      schema: { type: 'string' },
      url: { type: 'string' },
      cluster: { type: 'string' },
      supplier: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  usage((error as Error).message);
}
if (!args.name) usage('--name is required: the subgraph name, e.g. nme');
if (!args.schema) usage('--schema is required: the subgraph SDL file');
let sdl: string;
try {
  sdl = readFileSync(args.schema, 'utf8');
} catch (error) {
  usage(`--schema ${args.schema} cannot be read: ${(error as Error).message}`);
}

const config = loadGatewayConfig();
const store = config.registry.enabled ? openRegistryStore(config.registry) : null;
try {
  const state = store ? await store.current() : EMPTY_REGISTRY;
  const recorded = store ? await store.recentOperations() : [];
  const persisted = loadPersistedOperations(config.persistedOperationsFile ?? undefined);
  const operations = [
    ...[...persisted.values()].map((op) => ({ name: op.name, source: 'persisted' as const, document: op.body })),
    ...recorded.map((op) => ({ name: op.name, source: 'recorded' as const, document: op.document })),
  ];
  const outcome = await checkSubgraph({
    name: args.name,
    sdl,
    url: args.url ?? null,
    published: state.subgraphs,
    builtInUrls: config.subgraphUrls,
    operations,
  });
  // Membership: what the publish will check of the cluster and supplier it speaks for.
  const membership = openMembershipStore(config.registry);
  const identity = await offlineIdentityIssues({
    name: args.name,
    fullSdl: outcome.fullSdl,
    url: args.url ?? null,
    clusterId: args.cluster ?? null,
    supplierId: args.supplier ?? null,
    membership,
  }).finally(() => membership.close());
  const report = identity?.length ? { ...outcome.report, ok: false, contract: [...outcome.report.contract, ...identity] } : outcome.report;
  if (identity === null)
    console.error(
      "Note: pass --cluster <ID> --supplier <ID> (or --url of the running subgraph) to check them against the programme's membership, as the publish will.",
    );
  console.log(args.json ? JSON.stringify(report, null, 2) : formatReport(report));
  process.exitCode = report.ok ? 0 : 1;
} finally {
  await store?.close();
}
