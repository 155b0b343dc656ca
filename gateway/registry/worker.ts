/**
 * Runs the registry's checks and compositions in a worker thread, with a memory limit and a
 * wall-clock timeout, so a costly publish can neither hold the gateway's event loop nor run
 * its heap out of memory: a worker over either limit is terminated and the task refused with
 * `CheckAbortedError`. One worker per process runs one task at a time (publishes are rare,
 * and the memory bound is then one worker's); it stays warm between tasks, and is replaced
 * after one it had to stop.
 */
import { Worker } from 'node:worker_threads';
import type { CheckTask, CheckTaskResult, PreparedSupergraph } from './check-tasks.js';
import type { ChangeInput, CheckInput, CheckOutcome } from './checks.js';
import { publishedSdlProblem, type SdlLimits } from './sdl-limits.js';

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
/** A warm worker is kept this long after its last task: the next publish skips loading composition. */
const IDLE_MS = 30_000;

let current: { worker: Worker; limits: WorkerLimits; idle: NodeJS.Timeout | null } | null = null;
let queue: Promise<unknown> = Promise.resolve();
let ids = 0;

function stopWorker(): void {
  if (!current) return;
  if (current.idle) clearTimeout(current.idle);
  void current.worker.terminate();
  current = null;
}

function workerFor(limits: WorkerLimits): Worker {
  if (current && (current.limits.maxMb !== limits.maxMb || current.limits.timeoutMs !== limits.timeoutMs)) stopWorker();
  if (!current) {
    const worker = new Worker(ENTRY, {
      // The parent's flags (a heap size, a loader) are not the worker's: it has its own limits.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: limits.maxMb, maxYoungGenerationSizeMb: Math.max(16, Math.floor(limits.maxMb / 8)) },
    });
    worker.unref(); // never what keeps a process (a test, subgraph:check) alive
    current = { worker, limits, idle: null };
  }
  if (current.idle) clearTimeout(current.idle);
  current.idle = null;
  return current.worker;
}

function runOnce<T extends CheckTask>(task: T, limits: WorkerLimits): Promise<CheckTaskResult<T>> {
  const worker = workerFor(limits);
  const id = ++ids;
  return new Promise<CheckTaskResult<T>>((resolve, reject) => {
    const done = (act: () => void, keep: boolean) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (!keep) {
        if (current?.worker === worker) current = null;
        void worker.terminate();
      } else if (current?.worker === worker) {
        current.idle = setTimeout(stopWorker, IDLE_MS);
        current.idle.unref();
      }
      act();
    };
    const onMessage = (message: { id: number; result?: CheckTaskResult<T>; error?: string }) => {
      if (message.id !== id) return;
      if (message.error !== undefined) done(() => reject(new CheckAbortedError(`the checks failed: ${message.error}`, 'FAILED')), true);
      else done(() => resolve(message.result as CheckTaskResult<T>), true);
    };
    const onError = (error: Error & { code?: string }) =>
      done(
        () =>
          reject(
            error.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? new CheckAbortedError(
                  `the checks needed more than ${limits.maxMb} MB (REGISTRY_CHECK_MAX_MB) and were stopped`,
                  'OUT_OF_MEMORY',
                )
              : new CheckAbortedError(`the checks failed: ${error.message}`, 'FAILED'),
          ),
        false,
      );
    const onExit = (code: number) =>
      done(() => reject(new CheckAbortedError(`the check worker exited (${code}) without an answer`, 'FAILED')), false);
    const timer = setTimeout(
      () =>
        done(
          () =>
            reject(
              new CheckAbortedError(
                `the checks took longer than ${limits.timeoutMs} ms (REGISTRY_CHECK_TIMEOUT_MS) and were stopped`,
                'TIMEOUT',
              ),
            ),
          false,
        ),
      limits.timeoutMs,
    );
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.postMessage({ id, task });
  });
}

/** Runs `task` in the worker, after any task already running; rejects with `CheckAbortedError`. */
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
  const tooLarge = publishedSdlProblem(input.name, input.sdl, settings.sdl);
  if (tooLarge) {
    const current = input.published.find((p) => p.name === input.name) ?? null;
    return {
      report: {
        subgraph: input.name,
        action: 'publish',
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
