/**
 * Runs the registry's checks and compositions in a worker thread, with a memory limit and a
 * wall-clock timeout, so a costly publish can neither hold the gateway's event loop nor run
 * its heap out of memory: a worker over either limit is terminated and the task refused with
 * `CheckAbortedError`. One worker runs at a time per process (publishes are rare, and the
 * memory bound is then one worker's), each started fresh, so nothing a task built survives it.
 */
import { Worker } from 'node:worker_threads';
import type { CheckTask, CheckTaskResult, PreparedSupergraph } from './check-tasks.js';
import type { ChangeInput, CheckInput, CheckOutcome } from './checks.js';
import { sdlLimitProblem, type SdlLimits } from './sdl-limits.js';

/** The worker's limits: `REGISTRY_CHECK_TIMEOUT_MS` and `REGISTRY_CHECK_MAX_MB`. */
export interface WorkerLimits {
  readonly timeoutMs: number;
  readonly maxMb: number;
}

/** The settings of every registry check: the SDL limits and the worker's. */
export interface CheckSettings {
  readonly sdl: SdlLimits;
  readonly worker: WorkerLimits;
}

/** A task the worker did not finish: over its time or memory, or it failed. */
export class CheckAbortedError extends Error {
  override readonly name = 'CheckAbortedError';
  constructor(
    message: string,
    readonly reason: 'TIMEOUT' | 'OUT_OF_MEMORY' | 'FAILED',
  ) {
    super(message);
  }
}

const ENTRY = new URL('./check-worker.mjs', import.meta.url);
let queue: Promise<unknown> = Promise.resolve();

function runOnce<T extends CheckTask>(task: T, limits: WorkerLimits): Promise<CheckTaskResult<T>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(ENTRY, {
      workerData: task,
      // The parent's flags (a heap size, a loader) are not the worker's: it has its own limits.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: limits.maxMb, maxYoungGenerationSizeMb: Math.max(16, Math.floor(limits.maxMb / 8)) },
    });
    let settled = false;
    const settle = (act: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      act();
      void worker.terminate();
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new CheckAbortedError(
              `the checks took longer than ${limits.timeoutMs} ms (REGISTRY_CHECK_TIMEOUT_MS) and were stopped`,
              'TIMEOUT',
            ),
          ),
        ),
      limits.timeoutMs,
    );
    worker.once('message', (result: CheckTaskResult<T>) => settle(() => resolve(result)));
    worker.once('error', (error: Error & { code?: string }) =>
      settle(() =>
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new CheckAbortedError(
                `the checks needed more than ${limits.maxMb} MB (REGISTRY_CHECK_MAX_MB) and were stopped`,
                'OUT_OF_MEMORY',
              )
            : new CheckAbortedError(`the checks failed: ${error.message}`, 'FAILED'),
        ),
      ),
    );
    worker.once('exit', (code) =>
      settle(() => reject(new CheckAbortedError(`the check worker exited (${code}) without an answer`, 'FAILED'))),
    );
  });
}

/** Runs `task` in a fresh worker, after any task already running; rejects with `CheckAbortedError`. */
export function inWorker<T extends CheckTask>(task: T, limits: WorkerLimits): Promise<CheckTaskResult<T>> {
  const run = queue.then(() => runOnce(task, limits));
  queue = run.catch(() => {});
  return run;
}

/**
 * Every check of a publish, as the registry runs it and `subgraph:check` reports it: the SDL
 * limits first (a report whose `sdl` issue is `SDL_TOO_LARGE`), then in the worker the SDL,
 * the contract, composition (with a supergraph the gateway can load), the API diff and the
 * operations. Rejects with `CheckAbortedError` when the worker is stopped.
 */
export async function runChecks(input: CheckInput, settings: CheckSettings): Promise<CheckOutcome> {
  const tooLarge = sdlLimitProblem(input.sdl, settings.sdl);
  if (tooLarge) {
    const current = input.published.find((p) => p.name === input.name) ?? null;
    return {
      report: {
        subgraph: input.name,
        ok: false,
        comparedWith: current?.version ?? null,
        sdl: [{ code: 'SDL_TOO_LARGE', message: tooLarge.message }],
        contract: [],
        composition: { ok: false, errors: [], hints: [] },
        changes: [],
        operations: { checked: 0, broken: [] },
        reachability: null,
      },
      fullSdl: null,
      supergraphSdl: null,
    };
  }
  return inWorker({ kind: 'subgraph', input }, settings.worker);
}

/** A deletion's or rollback's checks, in the worker. */
export function runChangeChecks(input: ChangeInput, settings: CheckSettings): Promise<CheckOutcome> {
  return inWorker({ kind: 'change', input }, settings.worker);
}

/** Composes and loads the supergraph of `input`, in the worker. */
export function prepareSupergraph(input: CheckTask & { kind: 'supergraph' }, limits: WorkerLimits): Promise<PreparedSupergraph> {
  return inWorker(input, limits);
}
