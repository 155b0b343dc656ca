/**
 * `npm run registry:cluster -- add <ID> --name <name> --supplier <ID>:<name> --trust <ODS>:<name> [--trust …]
 * [--trusts-planned N] [--note <text>]`, `list`, `remove <ID>`: registers a cluster of the
 * programme (its supplier and trusts) at the gateway's registry, lists the membership, or
 * removes a registered cluster. It talks to the registry over HTTP (`REGISTRY_URL`, default
 * the local gateway; `--registry` to choose) with an operator token (`REGISTRY_TOKEN` or
 * `--token`), so the registry checks, versions and audits the change; the subgraphs follow
 * it with no restart. Exits 1 when the registry refuses, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import { MEMBERSHIP_PATH, type Membership } from '../schema/membership.js';
import { loadRegistryClientConfig } from '../subgraphs/kit/config.js';

const USAGE = `Usage:
  npm run registry:cluster -- add <ID> --name <name> --supplier <ID>:<name> --trust <ODS code>:<name> [--trust …] [--trusts-planned N] [--note <text>]
  npm run registry:cluster -- list
  npm run registry:cluster -- remove <ID>
Options: --registry <gateway URL> (default REGISTRY_URL or http://127.0.0.1:4000), --token <operator token> (default REGISTRY_TOKEN)`;

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      supplier: { type: 'string' },
      trust: { type: 'string', multiple: true, default: [] },
      'trusts-planned': { type: 'string' },
      note: { type: 'string' },
      registry: { type: 'string' },
      token: { type: 'string' },
    },
  });
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;
const [command, id] = positionals;
const config = loadRegistryClientConfig(process.env);
const registry = values.registry ?? config.registryUrl;
const token = values.token ?? config.token;

/** `ID:name` split at its first colon. */
function pair(option: string, value: string): { id: string; name: string } {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1)
    usage(`${option} ${JSON.stringify(value)}: write it as <ID>:<name>, e.g. ${option} RTD:"Newcastle upon Tyne Hospitals"`);
  return { id: value.slice(0, at), name: value.slice(at + 1) };
}

async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  let response: Response;
  try {
    response = await fetch(new URL(path, registry), {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    console.error(`The registry at ${registry} cannot be reached: ${(error as Error).message}`);
    process.exit(1);
  }
  return { status: response.status, body: await response.json().catch(() => null) };
}

function refused(what: string, answer: { status: number; body: any }): never {
  const error = answer.body?.error;
  const field = error?.field ? ` (field ${error.field})` : '';
  console.error(`${what} refused (${answer.status} ${error?.code ?? ''}${field}): ${error?.message ?? JSON.stringify(answer.body)}`);
  process.exit(1);
}

if (command === 'list') {
  const answer = await send('GET', MEMBERSHIP_PATH);
  if (answer.status !== 200) refused('Listing', answer);
  const membership = answer.body as Membership;
  console.log(`Membership version ${membership.version}:`);
  for (const c of membership.clusters) {
    const by = c.registeredBy ? `, registered by ${c.registeredBy} at ${c.registeredAt}` : '';
    console.log(
      `  ${c.id.padEnd(12)} ${c.name} (supplier ${c.supplier.id}: ${c.supplier.name}; ${c.trusts.length} trust${c.trusts.length === 1 ? '' : 's'}; ${c.source}${by})`,
    );
  }
} else if (command === 'add') {
  if (!id) usage('add needs the cluster id, e.g. add NORTHEAST');
  if (!values.name) usage('--name is required: the cluster name, e.g. --name "North East Programme for IT"');
  if (!values.supplier) usage('--supplier is required: <ID>:<name>, e.g. --supplier ACCENTURE:"Accenture"');
  const planned = values['trusts-planned'];
  if (planned !== undefined && !/^\d+$/.test(planned)) usage(`--trusts-planned ${planned}: must be a whole number`);
  const body = {
    name: values.name,
    supplier: pair('--supplier', values.supplier),
    trusts: values.trust.map((t) => {
      const { id: odsCode, name } = pair('--trust', t);
      return { odsCode, name };
    }),
    ...(planned !== undefined ? { trustsPlanned: Number(planned) } : {}),
    ...(values.note ? { note: values.note } : {}),
  };
  const answer = await send('POST', `${MEMBERSHIP_PATH}/${encodeURIComponent(id)}`, body);
  if (answer.status !== 200 && answer.status !== 201) refused(`Registration of cluster ${id}`, answer);
  console.log(
    `Cluster ${id} ${answer.status === 200 ? 're-registered' : 'registered'} (membership version ${answer.body.membershipVersion}): ` +
      `supplier ${body.supplier.id}, ${body.trusts.length} trust${body.trusts.length === 1 ? '' : 's'}. The subgraphs serve it within MEMBERSHIP_POLL_MS.`,
  );
} else if (command === 'remove') {
  if (!id) usage('remove needs the cluster id, e.g. remove NORTHEAST');
  const answer = await send('DELETE', `${MEMBERSHIP_PATH}/${encodeURIComponent(id)}`);
  if (answer.status !== 200) refused(`Removal of cluster ${id}`, answer);
  console.log(`Cluster ${id} removed (membership version ${answer.body.membershipVersion}).`);
} else {
  usage(command ? `Unknown command ${JSON.stringify(command)}` : 'Name a command: add, list or remove');
}
