/**
 * The supergraph the gateway serves, swapped while serving as the registry changes. Every
 * replica follows the registry's store (a pub/sub message with Redis), asks the built-in
 * subgraphs for the SDL they serve (built-ins.ts), waits until insights (the built-in whose
 * schema follows the registry) serves exactly the clusters of the new state (else the plan
 * would ask insights for types it does not know yet), asks it again, recomposes them with the
 * published ones, and only then hands the new supergraph to Apollo Gateway through the
 * `supergraphSdl` hook's `update`: no restart, and requests in flight finish on the plan
 * they started with. Composition runs in the check worker (`worker.ts`), bounded in time and
 * memory, after the SDL limits: what the store holds, however it got there, can neither block
 * nor crash a gateway; a state it cannot serve is logged, named in `problem`, and the gateway
 * keeps serving what it served (at start: the built-in subgraphs).
 */
import { createHash } from 'node:crypto';
import type { SupergraphSdlHook } from '@apollo/gateway';
import { findClusterShapes } from '../../schema/cluster-views.js';
import { committedSupergraph, followersServe, type BuiltInSubgraphs, type ServedSubgraph } from '../built-ins.js';
import { composeSupergraph, type SubgraphSource } from '../compose.js';
import { sdlLimitProblem } from './sdl-limits.js';
import { supergraphVersionOf } from '../supergraph-version.js';
import type { RegistryState, RegistryStore } from './store.js';
import type { PreparedSupergraph } from './check-tasks.js';
import { prepareSupergraph, type CheckSettings } from './worker.js';

const clusterNames = (subgraphs: readonly SubgraphSource[]) => findClusterShapes(subgraphs).map((c) => c.subgraph);

/**
 * Which registry state this is: a version number alone is not enough, since a withdrawn
 * change's number is used again by the next one.
 */
const stateKey = (state: RegistryState) => createHash('sha256').update(JSON.stringify(state)).digest('hex');

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
  /** The built-in subgraphs, by URL (and any a test adds besides them). */
  readonly builtIns: BuiltInSubgraphs;
  /** How long a starting gateway waits for the built-ins to serve their SDL (`SUBGRAPH_SDL_WAIT_MS`). */
  readonly startWaitMs: number;
  /** The registry, or null (`REGISTRY=false`): then only the built-in subgraphs are served. */
  readonly store: RegistryStore | null;
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

/** A registry state's supergraph, ready to serve, and what it was composed from. */
interface Prepared {
  readonly sdl: string;
  readonly builtIns: readonly ServedSubgraph[];
  readonly clusters: readonly string[];
  readonly published: ReadonlySet<string>;
}

/** A registry version's supergraph, composed and loaded by the check worker. */
export interface ComposedVersion {
  readonly registryVersion: number;
  readonly supergraphSdl: string;
  /** The built-in subgraphs it was composed with (`builtInKey`): used only while they still serve the same. */
  readonly builtInKey: string;
}

/** Which built-in SDLs these are: a composed supergraph is reused only with the same. */
export const builtInKey = (builtIns: readonly SubgraphSource[]) => createHash('sha256').update(JSON.stringify(builtIns)).digest('hex');

const EMPTY_STATE: RegistryState = { version: 0, subgraphs: [] } as unknown as RegistryState;

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
  #beforeSwap: ((sdl: string) => Promise<(() => void) | null>) | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => void) | null = null;
  #retry: NodeJS.Timeout | null = null;
  #lastProblem: string | null = null;
  /** A registry state found unservable for good (by `stateKey`), and why. */
  #unservable: { key: string; problem: Problem } | null = null;
  #publicProblem: { registryVersion: number; message: string } | null = null;
  #stopped = false;
  /** The built-in subgraphs as last fetched; null before they first answered. */
  #builtIns: readonly ServedSubgraph[] | null = null;
  /** Serving the committed supergraph, not one composed from what the built-ins serve. */
  #onFallback = true;

  private constructor(options: LiveSupergraphOptions, sdl: string, registryVersion: number, clusters: readonly string[]) {
    this.#options = options;
    this.#clusters = clusters;
    this.#sdl = sdl;
    this.#version = supergraphVersionOf(sdl);
    this.#registryVersion = registryVersion;
  }

  /**
   * Starts from the registry's current state when it composes and the registry-following
   * built-ins (insights) serve it within the timeout; otherwise from the built-in subgraphs
   * as they serve their SDL; otherwise (they do not all answer within `startWaitMs`, or they
   * serve a registry state that cannot be served) from the committed supergraph, the offline
   * fallback. It keeps trying in the background (a state that can never be served waits for
   * the registry to change instead).
   */
  static async start(options: LiveSupergraphOptions): Promise<LiveSupergraph> {
    const live = new LiveSupergraph(options, committedSupergraph(options.builtIns.urls), 0, []);
    const served = await options.builtIns.waitFor(options.startWaitMs);
    if (!served) {
      options.log(
        `gateway: the built-in subgraphs did not all serve their SDL within ${options.startWaitMs} ms (SUBGRAPH_SDL_WAIT_MS): ` +
          'starting on the committed schema/supergraph.graphql (the offline fallback); it swaps to what they serve once they answer',
      );
      live.#publicProblem = {
        registryVersion: 0,
        message: 'the built-in subgraphs do not all serve their SDL yet: serving the committed supergraph',
      };
      return live;
    }
    live.#builtIns = served;
    let state: RegistryState = EMPTY_STATE;
    try {
      if (options.store) state = await readWithin(options.store.current(), START_READ_MS);
    } catch (error) {
      // Redis down (or a stored state that is not JSON) is not an outage: serve the built-in
      // subgraphs, and `follow` catches up once the registry can be read.
      options.log(`gateway: the registry cannot be read (${(error as Error).message}): serving the built-in subgraphs only until it can`);
      live.#publicProblem = { registryVersion: 0, message: 'the registry cannot be read; see the gateway log' };
      state = { ...EMPTY_STATE, version: -1 };
    }
    if (state.version > 0) {
      const prepared = await live.#prepare(state, undefined, true);
      if ('sdl' in prepared) {
        live.#adopt(prepared, state.version);
        return live;
      }
      options.log(`gateway: serving the built-in subgraphs only for now: registry version ${state.version} ${prepared.problem}`);
      live.#lastProblem = prepared.problem;
      if (prepared.lasting) live.#unservable = { key: stateKey(state), problem: prepared };
      live.#publicProblem = { registryVersion: state.version, message: prepared.public };
    }
    // The operator's own subgraphs, composed here as before the registry existed.
    const base = composeSupergraph(served);
    if (base.ok) live.#adopt({ sdl: base.supergraphSdl, builtIns: served, clusters: clusterNames(served), published: new Set() }, 0);
    else if (state.version === 0) throw new Error(`The built-in subgraphs do not compose:\n${base.errors.join('\n')}`);
    // Insights follows a registry state this gateway cannot serve: the committed supergraph
    // plans without what that state added, and insights answers such plans (SUBGRAPHS_HEADER).
    else
      options.log(
        `gateway: the built-in subgraphs alone do not compose (${base.errors.join('; ')}): serving the committed schema/supergraph.graphql`,
      );
    return live;
  }

  /** Serves `prepared` as registry version `registryVersion` (at start, before Apollo has loaded). */
  #adopt(prepared: Prepared, registryVersion: number): void {
    this.#sdl = prepared.sdl;
    this.#builtIns = prepared.builtIns;
    this.#clusters = prepared.clusters;
    this.#published = prepared.published;
    this.#version = supergraphVersionOf(prepared.sdl);
    this.#registryVersion = registryVersion;
    this.#onFallback = false;
  }

  /** The built-in subgraphs as they served their SDL when last asked (what checks compose with); null before they first answered. */
  get builtIns(): readonly ServedSubgraph[] | null {
    return this.#builtIns;
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

  /**
   * Runs `prepare` with each new supergraph before it is served (plan warm-up, within its
   * own budget: the swap waits for it); what it returns runs right after the swap, in the
   * same synchronous step, so no request sees the new supergraph without it.
   */
  beforeSwap(prepare: (sdl: string) => Promise<(() => void) | null>): void {
    this.#beforeSwap = prepare;
  }

  /** Follows the registry: every change is applied (once the gateway has loaded). */
  follow(): void {
    this.#unsubscribe = this.#options.store?.onChange(() => void this.sync()) ?? null;
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
      state = this.#options.store ? await this.#options.store.current() : EMPTY_STATE;
    } catch (error) {
      return this.#failed(this.#registryVersion, {
        problem: `the registry cannot be read: ${(error as Error).message}`,
        public: 'the registry cannot be read; see the gateway log',
      });
    }
    if (state.version === this.#registryVersion && !this.#onFallback) {
      this.#publicProblem = null;
      return { served: true, registryVersion: state.version, message: null };
    }
    const key = stateKey(state);
    if (this.#unservable?.key === key) return this.#failed(state.version, this.#unservable.problem, key);
    const prepared = await this.#prepare(state, composed);
    if (!('sdl' in prepared)) return this.#failed(state.version, prepared, key);
    if (!this.#update)
      return this.#failed(state.version, { problem: 'the gateway has not loaded yet', public: 'the gateway has not loaded yet' });
    const afterSwap = this.#beforeSwap
      ? await this.#beforeSwap(prepared.sdl).catch((error: unknown) => {
          this.#options.log(`gateway: swapping without warm-up: ${(error as Error).message}`);
          return null;
        })
      : null;
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
    try {
      afterSwap?.();
    } catch (error) {
      this.#options.log(`gateway: swapped without warm-up: ${(error as Error).message}`);
    }
    if (this.#onFallback) this.#options.log('gateway: the built-in subgraphs serve their SDL: swapped from the committed supergraph');
    this.#adopt(prepared, state.version);
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
  async #prepare(state: RegistryState, composed?: ComposedVersion, starting = false): Promise<Prepared | Problem> {
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
    // The built-ins as they serve now, once insights (the one built-in whose schema follows the
    // registry) compares every cluster this state has.
    let builtIns: ServedSubgraph[];
    let clusters: readonly string[];
    try {
      builtIns = await this.#options.builtIns.fetch();
      this.#builtIns = builtIns;
      clusters = clusterNames([...builtIns.filter((b) => !b.followsRegistry), ...published]);
      const followers = builtIns.filter((b) => b.followsRegistry);
      const ready = await followersServe(followers, clusters, {
        registryVersion: state.version,
        starting,
        timeoutMs: this.#options.swapTimeoutMs,
        stopped: () => this.#stopped,
      });
      if (ready !== true) return { problem: ready, public: 'the insights subgraph does not serve the new clusters yet' };
      if (followers.length > 0) builtIns = await this.#options.builtIns.fetch(); // their SDL for this state
    } catch (error) {
      return {
        problem: `the built-in subgraphs are ${(error as Error).message}`,
        public: 'the built-in subgraphs do not all answer; see the gateway log',
      };
    }
    // The supergraph a change's checks composed already, when it is all of it: the built-ins
    // still serve what the checks composed with, and none follows the registry (the checks
    // leave those out).
    const known =
      composed?.registryVersion === state.version &&
      composed.builtInKey === builtInKey(builtIns) &&
      !builtIns.some((b) => b.followsRegistry);
    let prepared: PreparedSupergraph;
    try {
      prepared = known
        ? { ok: true, sdl: composed.supergraphSdl, clusters }
        : await prepareSupergraph({ kind: 'supergraph', input: { subgraphs: [...builtIns, ...published] } }, this.#options.checks.worker);
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
    return { sdl: prepared.sdl, builtIns, clusters: prepared.clusters, published: new Set(published.map((p) => p.name)) };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#retry) clearTimeout(this.#retry);
    await this.#queue;
  }
}
