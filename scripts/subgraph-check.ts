/**
 * `npm run subgraph:check -- --name <name> --schema <file.graphql> [--cluster ID] [--supplier ID] [--url <url>] [--json]`:
 * the registry's checks, offline, before publishing: the same pipeline a publish runs
 * (`checkPublication`), less trying the URL, which the report says it left out. The cluster
 * and supplier the subgraph speaks for are the ones declared (by default those `subgraph:new`
 * gives a subgraph of this name), checked against the programme's membership (the seed and what operators registered) as a
 * publish checks what the running subgraph says. It compares with the registry this
 * machine's gateway uses (the same settings: `REDIS_URL`, `REGISTRY_DIR`, ...), checks the
 * dashboards' persisted operations and the operations the gateway recorded, prints a report
 * (or JSON for CI) and exits 1 when the subgraph could not be published, 2 on bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../gateway/config.js';
import { declaredIdentity } from '../gateway/registry/identity.js';
import { checkedOperations, checkPublication } from '../gateway/registry/publication.js';
import { openMembershipStore } from '../gateway/registry/membership.js';
import { formatReport } from '../gateway/registry/report.js';
import { CheckAbortedError, runChecks } from '../gateway/registry/worker.js';
import { EMPTY_REGISTRY, openRegistryStore } from '../gateway/registry/store.js';
import { loadPersistedOperations } from '../gateway/persisted-operations.js';
import { supergraphSubgraphs } from '../subgraphs/catalog.js';

function usage(problem: string): never {
  console.error(
    `${problem}\nUsage: npm run subgraph:check -- --name <name> --schema <file.graphql> [--cluster ID] [--supplier ID] [--url <url>] [--json]`,
  );
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      name: { type: 'string' },
      schema: { type: 'string' },
      cluster: { type: 'string' },
      supplier: { type: 'string' },
      url: { type: 'string' },
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
  const operations = checkedOperations(persisted, recorded);
  const membership = openMembershipStore(config.registry);
  try {
    const checked = await checkPublication(
      {
        name: args.name,
        sdl,
        url: args.url ?? null,
        published: state.subgraphs,
        builtIns: supergraphSubgraphs(config.subgraphUrls),
        operations,
      },
      { kind: 'offline', identity: declaredIdentity(args.name, await membership.current(), args.cluster, args.supplier) },
      (line) => console.error(line),
      membership,
      // The publish's own checks, in the same bounded worker: the SDL limits come first.
      (input) => runChecks(input, config.registry.checks),
    ).catch((error: unknown) => {
      // What a publish answers as 422 CHECKS_ABORTED: a verdict, never a stack trace.
      if (!(error instanceof CheckAbortedError)) throw error;
      return error;
    });
    if (checked instanceof CheckAbortedError) {
      const verdict = `FAILED: ${checked.message} (a publish is refused the same way: CHECKS_ABORTED)`;
      console.log(args.json ? JSON.stringify({ subgraph: args.name, ok: false, aborted: checked.message }, null, 2) : verdict);
      process.exitCode = 1;
    } else {
      const { report, identity } = checked;
      if (identity && !args.json)
        console.log(`Checked as cluster ${identity.cluster}, supplier ${identity.supplier} (--cluster ID, --supplier ID to change)`);
      console.log(args.json ? JSON.stringify(report, null, 2) : formatReport(report));
      process.exitCode = report.ok ? 0 : 1;
    }
  } finally {
    await membership.close();
  }
} finally {
  await store?.close();
}
