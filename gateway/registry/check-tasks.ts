/**
 * The registry's costly work, as tasks the check worker runs (`worker.ts` runs them off the
 * gateway's event loop): a publish's checks, a deletion's or rollback's checks, and the
 * supergraph a gateway is about to swap to. Each task that yields a supergraph also loads it
 * the way the gateway's swap will (Apollo Gateway builds its schema and query planner from
 * it), so a supergraph that would fail the swap is refused before anything is stored.
 */
import { offlineGateway } from '../offline-gateway.js';
import { findClusterShapes } from '../../schema/cluster-views.js';
import { composeSupergraph, type SubgraphSource } from '../compose.js';
import { checkChange, checkSubgraph, type ChangeInput, type CheckInput, type CheckOutcome } from './checks.js';

/** The supergraph a gateway would serve: its built-in subgraphs as they serve their SDL, and the published ones. */
export interface SupergraphInput {
  readonly subgraphs: readonly SubgraphSource[];
}

/** A composed, loadable supergraph and the clusters it compares; or why there is none. */
export type PreparedSupergraph =
  { readonly ok: true; readonly sdl: string; readonly clusters: readonly string[] } | { readonly ok: false; readonly problem: string };

export type CheckTask =
  | { readonly kind: 'subgraph'; readonly input: CheckInput }
  | { readonly kind: 'change'; readonly input: ChangeInput }
  | { readonly kind: 'supergraph'; readonly input: SupergraphInput };

export type CheckTaskResult<T extends CheckTask> = T['kind'] extends 'supergraph' ? PreparedSupergraph : CheckOutcome;

/** Loads `supergraphSdl` as the gateway's swap does; the error's message when it cannot. */
async function loadProblem(supergraphSdl: string): Promise<string | null> {
  const gateway = offlineGateway({ supergraphSdl, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  try {
    await gateway.load();
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await gateway.stop().catch(() => {});
  }
}

/** An outcome whose supergraph the gateway cannot load becomes a refusal saying why. */
async function loadable(outcome: CheckOutcome): Promise<CheckOutcome> {
  if (!outcome.supergraphSdl) return outcome; // (a forced deletion may be stored despite broken operations)
  const problem = await loadProblem(outcome.supergraphSdl);
  if (!problem) return outcome;
  const error = { code: 'SUPERGRAPH_UNLOADABLE', message: `The gateway cannot load the composed supergraph: ${problem}` };
  const report = { ...outcome.report, ok: false, composition: { ...outcome.report.composition, ok: false, errors: [error] } };
  return { ...outcome, report, supergraphSdl: null };
}

async function prepare(input: SupergraphInput): Promise<PreparedSupergraph> {
  const { subgraphs } = input;
  const composed = composeSupergraph(subgraphs);
  if (!composed.ok) return { ok: false, problem: `it does not compose: ${composed.errors.join('; ')}` };
  const problem = await loadProblem(composed.supergraphSdl);
  if (problem) return { ok: false, problem: `the gateway cannot load it: ${problem}` };
  return { ok: true, sdl: composed.supergraphSdl, clusters: findClusterShapes(subgraphs).map((c) => c.subgraph) };
}

/** Runs one task (in the worker; callable directly where blocking does not matter). */
export async function runTask(task: CheckTask): Promise<CheckOutcome | PreparedSupergraph> {
  switch (task.kind) {
    case 'subgraph':
      return loadable(await checkSubgraph(task.input));
    case 'change':
      return loadable(await checkChange(task.input));
    case 'supergraph':
      return prepare(task.input);
  }
}
