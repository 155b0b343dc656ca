/**
 * `npm run registry:token -- --supplier CSC --subgraphs nme[,other]` (or `--operator`) mints
 * a registry token: prints it once and stores only its SHA-256 in the tokens file the gateway
 * reads (`REGISTRY_TOKENS_FILE`, default `<REGISTRY_DIR>/tokens.json`; `--file` to choose).
 * The gateway reads the file on every change request: no restart.
 */
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../gateway/config.js';
import { memberIds, membershipWithin, openMembershipStore } from '../gateway/registry/membership.js';
import { mintToken } from '../gateway/registry/tokens.js';
import { registerCommand } from '../schema/membership.js';

function usage(problem: string): never {
  console.error(
    `${problem}\nUsage: npm run registry:token -- --supplier <ID> --subgraphs <name[,name]> | --operator [--supplier <who>] [--file <tokens.json>]`,
  );
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      supplier: { type: 'string' },
      subgraphs: { type: 'string' },
      operator: { type: 'boolean', default: false },
      file: { type: 'string' },
    },
  }).values;
} catch (error) {
  usage((error as Error).message);
}
const subgraphs = (args.subgraphs ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
if (!args.operator && !args.supplier) usage('--supplier is required: who the token is for, e.g. CSC');
if (!args.operator && subgraphs.length === 0) usage('--subgraphs is required: the subgraph names the token may publish, e.g. nme');
const config = loadGatewayConfig();
const file = args.file ?? config.registry.tokensFile;
const supplier = args.supplier ?? 'OPERATOR';
const token = mintToken(file, { supplier, subgraphs, operator: args.operator });
console.log(token);
console.error(
  `Token for ${supplier} (${args.operator ? 'operator: may do everything' : `may publish ${subgraphs.join(', ')}`}); its hash is in ${file}. ` +
    'It is shown only now: keep it secret.',
);

// A supplier the programme does not know would have every publish refused: say so now, with the fix.
if (!args.operator && args.supplier) {
  const store = openMembershipStore(config.registry);
  const state = await membershipWithin(store);
  await store.close();
  if (state instanceof Error) console.error(`Could not check that the programme knows supplier ${supplier}: ${state.message}`);
  else if (!memberIds(state).suppliers.includes(supplier))
    console.error(
      `Warning: the programme does not know supplier ${supplier} (it knows ${memberIds(state).suppliers.join(', ')}): ` +
        `its publishes are refused (CONTRACT_SUPPLIER_UNKNOWN) until an operator registers the cluster it serves:\n  ` +
        registerCommand('<CLUSTER ID>', supplier),
    );
}
