/**
 * The one check pipeline of a publication, run by `POST /registry/subgraphs/:name` and by
 * `npm run subgraph:check` alike: the routing URL (allowed host, serving a federation
 * subgraph), the offline checks of `checkSubgraph` (SDL, contract, composition, changes,
 * operations), and the cluster and supplier the subgraph speaks for against the programme's
 * membership (seed and registered). The only difference is where the URL and the identity come from: a publish
 * tries the URL and asks the running subgraph; `subgraph:check` tries no URL (and says so)
 * and checks the identity the supplier declares.
 */
import { CheckCode } from '../../schema/errors.js';
import { ClusterViewError, findClusterShapes } from '../../schema/cluster-views.js';
import { fetchServedSdl } from '../built-ins.js';
import type { PersistedOperations } from '../persisted-operations.js';
import {
  checkSubgraph,
  type CheckedOperation,
  type CheckInput,
  type CheckOutcome,
  type CheckReport,
  type OperationClient,
} from './checks.js';
import type { CheckIssue } from './conformance.js';
import { askClusterIdentity, checkIdentity, type ClusterIdentity } from './identity.js';
import type { MembershipStore } from './membership.js';
import type { RecordedOperation } from './store.js';
import { checkUrl, URL_REFUSED_MESSAGE, type HostPolicy } from './url-policy.js';
import { traceCheck } from '../tracing.js';

/** Where the URL check and the identity come from. */
export type PublicationSource =
  /** A publish: the URL is checked against the policy and tried; the subgraph says who it is. */
  | { readonly kind: 'publish'; readonly url: string; readonly allowedHosts: HostPolicy }
  /** `subgraph:check`: no URL is tried; the identity is the supplier's declaration. */
  | { readonly kind: 'offline'; readonly identity: ClusterIdentity };

/** Most applications a check lists per operation (the newest seen). */
export const CLIENTS_SHOWN = 10;

/**
 * The operations a change must not break: the persisted ones, and those recorded (a
 * persisted operation that was run is recorded too, and reported once, as persisted), each
 * with the applications seen running it (`apollographql-client-name` / `-version`), newest first.
 */
export function checkedOperations(
  persisted: PersistedOperations,
  recorded: readonly Pick<RecordedOperation, 'name' | 'document' | 'lastSeen' | 'clientName' | 'clientVersion'>[],
): CheckedOperation[] {
  const ops = new Map<
    string,
    { name: string; source: 'persisted' | 'recorded'; document: string; clients: Map<string, OperationClient> }
  >();
  for (const op of persisted.values())
    ops.set(`${op.name}\n${op.body}`, { name: op.name, source: 'persisted', document: op.body, clients: new Map() });
  for (const op of recorded) {
    const key = `${op.name}\n${op.document}`;
    // A persisted operation run, or one several clients run: reported once, with every client.
    let entry = ops.get(key);
    if (!entry) ops.set(key, (entry = { name: op.name, source: 'recorded', document: op.document, clients: new Map() }));
    if (!op.clientName) continue;
    const id = `${op.clientName}@${op.clientVersion ?? ''}`;
    const seen = entry.clients.get(id);
    if (!seen || seen.lastSeen < op.lastSeen)
      entry.clients.set(id, { name: op.clientName, version: op.clientVersion ?? null, lastSeen: op.lastSeen });
  }
  return [...ops.values()].map(({ clients, ...op }) => {
    const newest = [...clients.values()].sort((a, b) => b.lastSeen.localeCompare(a.lastSeen)).slice(0, CLIENTS_SHOWN);
    return newest.length > 0 ? { ...op, clients: newest } : op;
  });
}

/** What a refused URL shows, whatever the cause (the cause goes to the log). */
const REFUSED = { ok: false, checked: true, code: CheckCode.URL_REFUSED, message: URL_REFUSED_MESSAGE } as const;
export const NOT_CHECKED_MESSAGE = 'not checked (subgraph:check checks the SDL only; a publish tries the URL)';

/**
 * The SDL the subgraph at `url` serves (`{ _service { sdl } }`), or why there is none.
 * Redirects are not followed: an allowed host must not send the gateway on to one that is not.
 */
async function servedSdl(url: string): Promise<{ sdl: string } | { problem: string }> {
  try {
    return { sdl: await fetchServedSdl(url, 3000) };
  } catch (error) {
    const message = (error as Error).message;
    return { problem: message.startsWith('answered') ? message : `cannot be reached: ${message}` };
  }
}

/** A URL as the log may show it: never its user info (a password). */
function forLog(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    return JSON.stringify(url.href.slice(0, 300));
  } catch {
    return JSON.stringify(raw.slice(0, 300));
  }
}

function shapeOf(name: string, fullSdl: string) {
  try {
    return findClusterShapes([{ name, sdl: fullSdl }])[0];
  } catch (error) {
    if (error instanceof ClusterViewError) return undefined; // reported by the contract check
    throw error;
  }
}

/** The checks' outcome, with the routing URL as it is routed (normalised), when it passed. */
export interface PublicationOutcome extends CheckOutcome {
  readonly url: string | null;
  /** The cluster and supplier checked (a cluster subgraph's), or null. */
  readonly identity: ClusterIdentity | null;
}

/**
 * Runs every check of a publication of `input`. `check` runs the offline checks (the
 * registry may run them elsewhere, e.g. off the event loop); `log` gets what the caller must
 * not see (why a URL was refused). Traced as one `registry check` span (`tracing.ts`).
 */
export function checkPublication(
  input: CheckInput,
  source: PublicationSource,
  log: (line: string) => void,
  membership: MembershipStore,
  check: (input: CheckInput) => Promise<CheckOutcome> = checkSubgraph,
): Promise<PublicationOutcome> {
  return traceCheck(input.name, source.kind, () => runChecks(input, source, log, membership, check));
}

async function runChecks(
  input: CheckInput,
  source: PublicationSource,
  log: (line: string) => void,
  membership: MembershipStore,
  check: (input: CheckInput) => Promise<CheckOutcome>,
): Promise<PublicationOutcome> {
  let url: string | null = null;
  let reachability: CheckReport['reachability'] = { ok: true, message: NOT_CHECKED_MESSAGE, checked: false };
  let served: string | null = null;
  if (source.kind === 'publish') {
    const verdict = checkUrl(source.url, source.allowedHosts);
    const answer = verdict.ok ? await servedSdl(verdict.url) : { problem: verdict.reason };
    const problem = 'problem' in answer ? answer.problem : null;
    if ('sdl' in answer && verdict.ok) {
      url = verdict.url;
      served = answer.sdl;
      reachability = { ok: true, message: 'The URL serves a federation subgraph', checked: true };
    } else {
      log(`registry: publish of ${input.name}: URL ${forLog(source.url)} refused: ${problem}`);
      reachability = REFUSED;
    }
  }
  const outcome = await check({ ...input, url: source.kind === 'publish' ? url : input.url, served });
  const shape = outcome.fullSdl ? shapeOf(input.name, outcome.fullSdl) : undefined;
  let identity: ClusterIdentity | null = null;
  let issues: CheckIssue[] = [];
  if (shape?.feedStatusType) {
    if (source.kind === 'offline') identity = source.identity;
    else if (url !== null) {
      const said = await askClusterIdentity(url, input.name, shape.feedStatusType, log);
      if ('code' in said) issues = [said];
      else identity = said;
    }
    if (identity) issues = await checkIdentity(identity, membership);
  }
  const report: CheckReport = {
    ...outcome.report,
    contract: [...outcome.report.contract, ...issues],
    ok: outcome.report.ok && reachability.ok && issues.length === 0,
    reachability,
  };
  return { ...outcome, report, url, identity };
}
