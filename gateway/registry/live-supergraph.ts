/**
 * The supergraph the gateway serves, swapped while serving as the registry changes. Every
 * replica follows the registry's store (a pub/sub message with Redis), recomposes the
 * built-in subgraphs with the published ones, waits until the insights subgraph serves every
 * cluster the new supergraph compares (else the plan would ask insights for types it does
 * not know yet), and only then hands the new supergraph to Apollo Gateway through the
 * `supergraphSdl` hook's `update`: no restart, and requests in flight finish on the plan
 * they started with. Composition runs in the check worker (`worker.ts`), bounded in time and
 * memory, after the SDL limits: what the store holds, however it got there, can neither block
 * nor crash a gateway; a state it cannot serve is logged, named in `problem`, and the gateway
 * keeps serving what it served (at start: the built-in subgraphs).
 */
import { createHash } from 'node:crypto';
import type { SupergraphSdlHook } from '@apollo/gateway';
import { findClusterShapes } from '../../subgraphs/kit/cluster-views.js';
import { supergraphSubgraphs, type SubgraphSource } from '../../subgraphs/catalog.js';
import { composeSupergraph } from '../compose.js';
import type { InsightsSchemaVersion } from '../../subgraphs/insights/live-schema.js';
import { sdlLimitProblem } from './sdl-limits.js';
import type { RegistryState, RegistryStore } from './store.js';
import type { PreparedSupergraph } from './check-tasks.js';
import { prepareSupergraph, type CheckSettings } from './worker.js';

const clusterNames = (subgraphs: readonly SubgraphSource[]) => findClusterShapes(subgraphs).map((c) => c.subgraph);

/**
 * Which registry state this is: a version number alone is not enough, since a withdrawn
 * change's number is used again by the next one.
 */
const stateKey = (state: RegistryState) => createHash('sha256').update(JSON.stringify(state)).digest('hex');

/** A short, stable version of a supergraph SDL (cache keys carry it). */
export const supergraphVersionOf = (sdl: string) => createHash('sha256').update(sdl).digest('hex').slice(0, 16);

/**
 * How long a starting gateway waits for the registry (Redis queues commands while it
 * reconnects, and gives up only after some 30 s of retries).
 */
const START_READ_MS = 5000;

/** `promise`, or a rejection after `ms`. */
function readWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {}); // a late failure is the timeout's, already reported
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export interface LiveSupergraphOptions {
  /** Routing URLs of the built-in subgraphs. */
  readonly builtInUrls: Readonly<Record<string, string>>;
  /** Cluster subgraphs composed besides the built-in ones, outside the registry (tests). */
  readonly extraClusters: readonly SubgraphSource[];
  readonly store: RegistryStore;
  /** How long to wait for insights to serve new clusters before giving up on a swap. */
  readonly swapTimeoutMs: number;
  /** The SDL limits every stored subgraph must keep, and the worker's. */
  readonly checks: CheckSettings;
  readonly log: (line: string) => void;
}

/** Why a registry state is not served: in full for the log, and what any caller may read. */
interface Problem {
  readonly problem: string;
  readonly public: string;
  /**
   * The same registry version will never do better (over a limit, not composing, the worker
   * stopped): it is not retried, which would burn the worker every second, until it changes.
   */
  readonly lasting?: true;
}

/** A registry version's supergraph, composed and loaded by the check worker. */
export interface ComposedVersion {
  readonly registryVersion: number;
  readonly supergraphSdl: string;
}

/** Whether a registry version is what this gateway serves. */
export interface SwapOutcome {
  readonly served: boolean;
  readonly registryVersion: number;
  readonly message: string | null;
}

export class LiveSupergraph {
  readonly #options: LiveSupergraphOptions;
  #sdl: string;
  #version: string;
  #registryVersion: number;
  #clusters: readonly string[];
  #published: ReadonlySet<string> = new Set();
  #update: ((sdl: string) => void) | null = null;
  readonly #listeners = new Set<(sdl: string) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | null = null;
  #retry: NodeJS.Timeout | null = null;
  #lastProblem: string | null = null;
  /** A registry state found unservable for good (by `stateKey`), and why. */
  #unservable: { key: string; problem: Problem } | null = null;
  #publicProblem: { registryVersion: number; message: string } | null = null;
  #stopped = false;

  private constructor(options: LiveSupergraphOptions, sdl: string, registryVersion: number, clusters: readonly string[]) {
    this.#options = options;
    this.#clusters = clusters;
    this.#sdl = sdl;
    this.#version = supergraphVersionOf(sdl);
    this.#registryVersion = registryVersion;
  }

  /**
   * Starts from the registry's current state when it composes and insights serves it within
   * the timeout; otherwise from the built-in subgraphs, and keeps trying in the background
   * (a state that can never be served waits for the registry to change instead).
   */
  static async start(options: LiveSupergraphOptions): Promise<LiveSupergraph> {
    const subgraphs = supergraphSubgraphs(options.builtInUrls, options.extraClusters);
    const builtIn = composeSupergraph(subgraphs);
    if (!builtIn.ok) throw new Error(`The built-in subgraphs do not compose:\n${builtIn.errors.join('\n')}`);
    const live = new LiveSupergraph(options, builtIn.supergraphSdl, 0, clusterNames(subgraphs));
    let state: RegistryState;
    try {
      state = await readWithin(options.store.current(), START_READ_MS);
    } catch (error) {
      // Redis down (or a stored state that is not JSON) is not an outage: serve the built-in
      // subgraphs, and `follow` catches up once the registry can be read.
      options.log(`gateway: the registry cannot be read (${(error as Error).message}): serving the built-in subgraphs only until it can`);
      live.#publicProblem = { registryVersion: 0, message: 'the registry cannot be read; see the gateway log' };
      return live;
    }
    if (state.version > 0) {
      const prepared = await live.#prepare(state, undefined, true);
      if ('sdl' in prepared) {
        live.#sdl = prepared.sdl;
        live.#clusters = prepared.clusters;
        live.#published = prepared.published;
        live.#version = supergraphVersionOf(prepared.sdl);
        live.#registryVersion = state.version;
      } else {
        options.log(`gateway: serving the built-in subgraphs only for now: registry version ${state.version} ${prepared.problem}`);
        live.#lastProblem = prepared.problem;
        if (prepared.lasting) live.#unservable = { key: stateKey(state), problem: prepared };
        live.#publicProblem = { registryVersion: state.version, message: prepared.public };
      }
    }
    return live;
  }

  /** The supergraph served now. */
  get sdl(): string {
    return this.#sdl;
  }

  /** Its version (a hash): cache keys carry it, so a swap never serves an old answer. */
  version(): string {
    return this.#version;
  }

  /** The cluster subgraphs it compares. */
  get clusters(): readonly string[] {
    return this.#clusters;
  }

  /** The subgraphs in it that suppliers published (not built in). */
  get published(): ReadonlySet<string> {
    return this.#published;
  }

  /** Why the registry's current version is not served (null when it is), safe to show anyone. */
  get problem(): { readonly registryVersion: number; readonly message: string } | null {
    return this.#publicProblem;
  }

  /** The registry version it was composed from (0: built-in only). */
  get registryVersion(): number {
    return this.#registryVersion;
  }

  /** For Apollo Gateway's `supergraphSdl`: the initial supergraph, and the `update` to swap later. */
  readonly hook: SupergraphSdlHook = async ({ update }) => {
    this.#update = update;
    return { supergraphSdl: this.#sdl, cleanup: async () => this.stop() };
  };

  /** Calls `listener` with each new supergraph, right after the swap. */
  onSwap(listener: (sdl: string) => void): void {
    this.#listeners.add(listener);
  }

  /** Follows the registry: every change is applied (once the gateway has loaded). */
  follow(): void {
    this.#unsubscribe = this.#options.store.onChange(() => void this.sync());
    if (this.#registryVersion === 0) void this.sync();
  }

  /**
   * Brings the served supergraph to the registry's current version (serialised). `composed`:
   * the supergraph of a registry version the check worker composed and loaded already (a
   * change this gateway just stored), used when that version is still current.
   */
  sync(composed?: ComposedVersion): Promise<SwapOutcome> {
    const run = this.#queue.then(() => this.#sync(composed));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #sync(composed?: ComposedVersion): Promise<SwapOutcome> {
    if (this.#stopped) return { served: false, registryVersion: this.#registryVersion, message: 'the gateway is stopping' };
    let state: RegistryState;
    try {
      state = await this.#options.store.current();
    } catch (error) {
      return this.#failed(this.#registryVersion, {
        problem: `the registry cannot be read: ${(error as Error).message}`,
        public: 'the registry cannot be read; see the gateway log',
      });
    }
    if (state.version === this.#registryVersion) {
      this.#publicProblem = null;
      return { served: true, registryVersion: state.version, message: null };
    }
    const key = stateKey(state);
    if (this.#unservable?.key === key) return this.#failed(state.version, this.#unservable.problem, key);
    const prepared = await this.#prepare(state, composed);
    if (!('sdl' in prepared)) return this.#failed(state.version, prepared, key);
    if (!this.#update)
      return this.#failed(state.version, { problem: 'the gateway has not loaded yet', public: 'the gateway has not loaded yet' });
    // Apollo Gateway swaps synchronously: the new plan, the cache version and the clusters
    // header change in one step, before any other request runs. The worker loaded this
    // supergraph the same way already, so a failure here is unexpected; it leaves the old one.
    try {
      this.#update(prepared.sdl);
    } catch (error) {
      return this.#failed(
        state.version,
        {
          problem: `the gateway's swap failed: ${(error as Error).message}`,
          public: "the gateway's swap failed; see the gateway log",
          lasting: true,
        },
        key,
      );
    }
    this.#sdl = prepared.sdl;
    this.#clusters = prepared.clusters;
    this.#published = prepared.published;
    this.#version = supergraphVersionOf(prepared.sdl);
    this.#registryVersion = state.version;
    this.#lastProblem = null;
    this.#publicProblem = null;
    for (const listener of this.#listeners) listener(prepared.sdl);
    this.#options.log(`gateway: now serving registry version ${state.version} (supergraph ${this.#version})`);
    return { served: true, registryVersion: state.version, message: null };
  }

  /** Logs a problem once, and tries again shortly: the registry may be fine a moment later. */
  #failed(registryVersion: number, { problem, public: shown, lasting }: Problem, key?: string): SwapOutcome {
    if (problem !== this.#lastProblem) this.#options.log(`gateway: cannot serve registry version ${registryVersion} yet: ${problem}`);
    this.#lastProblem = problem;
    this.#publicProblem = { registryVersion, message: shown };
    if (lasting && key) this.#unservable = { key, problem: { problem, public: shown, lasting } };
    else if (!this.#stopped && !this.#retry) {
      this.#retry = setTimeout(() => {
        this.#retry = null;
        void this.sync();
      }, 1000);
      this.#retry.unref();
    }
    return { served: false, registryVersion: this.#registryVersion, message: problem };
  }

  /** The supergraph of `state`, once insights serves its clusters; or why not. */
  async #prepare(
    state: RegistryState,
    composed?: ComposedVersion,
    starting = false,
  ): Promise<{ sdl: string; clusters: readonly string[]; published: ReadonlySet<string> } | Problem> {
    const stored = Array.isArray(state.subgraphs) ? state.subgraphs : null;
    if (!stored)
      return {
        problem: 'has no list of subgraphs (the stored state is damaged)',
        public: 'the stored registry state is damaged; see the gateway log',
        lasting: true,
      };
    const published = stored.map((s) => ({ name: String(s?.name), url: String(s?.url), sdl: typeof s?.sdl === 'string' ? s.sdl : '' }));
    for (const subgraph of published) {
      const over = sdlLimitProblem(subgraph.sdl, this.#options.checks.sdl, `Stored subgraph "${subgraph.name}"`);
      if (over) return { problem: `cannot be served: ${over.message}`, public: over.message, lasting: true };
    }
    // The checks compose exactly this gateway's supergraph, unless tests add clusters of their own.
    const known = composed?.registryVersion === state.version && this.#options.extraClusters.length === 0;
    let prepared: PreparedSupergraph;
    try {
      prepared = known
        ? { ok: true, sdl: composed.supergraphSdl, clusters: clusterNames(supergraphSubgraphs(this.#options.builtInUrls, published)) }
        : await prepareSupergraph(
            {
              kind: 'supergraph',
              input: { builtInUrls: this.#options.builtInUrls, extra: [...this.#options.extraClusters, ...published] },
            },
            this.#options.checks.worker,
          );
    } catch (error) {
      const names = published.map((p) => p.name).join(', ');
      return {
        problem: `with ${names}: ${(error as Error).message}`,
        public: `composing the stored subgraphs (${names}): ${(error as Error).message}`,
        lasting: true,
      };
    }
    if (!prepared.ok) {
      const names = published.map((p) => p.name).join(', ');
      return {
        problem: `with ${names}: ${prepared.problem}`,
        public: `the stored subgraphs (${names}) cannot be served; see the gateway log`,
        lasting: true,
      };
    }
    const ready = await this.#insightsServes(prepared.clusters, state.version, starting);
    return ready === true
      ? { sdl: prepared.sdl, clusters: prepared.clusters, published: new Set(published.map((p) => p.name)) }
      : { problem: ready, public: 'the insights subgraph does not serve the new clusters yet' };
  }

  /**
   * Waits until insights compares every cluster in `needed`; true, or what it serves instead.
   * Insights is told the registry version waited for, so it reads the registry at once. A
   * starting gateway does not wait for an insights that cannot read the registry: that
   * registry may be this very gateway, not listening yet (it swaps once it does).
   */
  async #insightsServes(needed: readonly string[], registryVersion: number, starting: boolean): Promise<true | string> {
    const url = new URL(`/schema/version?registryVersion=${registryVersion}`, this.#options.builtInUrls['insights']);
    const deadline = Date.now() + this.#options.swapTimeoutMs;
    let seen = 'no answer';
    while (!this.#stopped) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (response.ok) {
          const served = (await response.json()) as InsightsSchemaVersion;
          if (needed.every((n) => served.clusters.includes(n))) return true;
          seen = `it compares ${served.clusters.join(', ')} (registry version ${served.registryVersion})`;
          if (starting && served.registry !== 'following') return `${seen}, and cannot read the registry yet`;
        } else {
          seen = `${url} answered ${response.status}`;
        }
      } catch (error) {
        seen = `${url}: ${(error as Error).message}`;
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return `insights does not compare ${needed.join(', ')} yet (${seen}); does it follow this registry (INSIGHTS_REGISTRY_URL)?`;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#retry) clearTimeout(this.#retry);
    await this.#queue;
  }
}
