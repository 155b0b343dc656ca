/**
 * Plans warmed before a supergraph is served. Apollo Gateway keeps query plans in a store
 * it empties on every schema change, so after a registry swap every operation's first
 * request pays for planning (tens of milliseconds for a dashboard's cross-supplier query,
 * and a burst of them at once when every dashboard refreshes). Here the operations clients
 * run (the persisted ones, then the most recently recorded) are planned on the new
 * supergraph before it is served, within a time budget (`PLAN_WARMUP_MS`), and their plans
 * are put into the store in the same synchronous step as the swap: no request sees a cold
 * store. At start the same happens on the supergraph loaded, before the gateway listens.
 *
 * Planning is CPU work on the event loop: one operation at a time, yielding in between, so
 * `/health` and requests keep being answered, and never past the budget (the swap waits for
 * the warm-up, so the budget also bounds how late a swap may be).
 *
 * Apollo Gateway has no public API for its plan store. The fields it uses are read here and
 * only here (`gatewayInternals`), checked by name, and `plan-warmup.test.ts` fails loudly if
 * an upgrade of Apollo Gateway renames them or changes how it keys its plans.
 */
import { gatewaySupergraph } from './auth/requirements.js';
import { createHash } from 'node:crypto';
import type { ApolloGateway } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import type { QueryPlan, QueryPlanner } from '@apollo/query-planner';
import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { readLive } from './live/live-directive.js';
import type { PersistedOperations } from './persisted-operations.js';
import type { RecordedOperation } from './registry/store.js';

/** Apollo Gateway 2.14's private fields its executor plans with (`dist/index.js`). */
export interface GatewayInternals {
  /** Plans by `planStoreKey`; cleared (the same object) on every schema change. */
  readonly queryPlanStore: { get(key: string): Promise<QueryPlan | undefined>; set(key: string, plan: QueryPlan): Promise<void> };
  readonly queryPlanner: QueryPlanner;
  readonly apiSchema: Schema;
  readonly config: { readonly queryPlannerConfig?: ConstructorParameters<typeof QueryPlanner>[1] };
  readonly recursiveSelectionsLimitDisabled?: boolean;
  readonly nonLocalSelectionsLimitDisabled?: boolean;
}

/** The gateway's planning fields, once it has loaded; a TypeError names any that is missing. */
export function gatewayInternals(gateway: ApolloGateway): GatewayInternals {
  const internals = gateway as unknown as Partial<GatewayInternals>;
  const store = internals.queryPlanStore;
  if (typeof store?.get !== 'function' || typeof store.set !== 'function')
    throw new TypeError('plan warm-up: Apollo Gateway has no queryPlanStore with get and set (its internals changed)');
  for (const field of ['queryPlanner', 'apiSchema', 'config'] as const)
    if (!internals[field]) throw new TypeError(`plan warm-up: Apollo Gateway has no ${field} (not loaded, or its internals changed)`);
  return internals as GatewayInternals;
}

/**
 * The key Apollo Gateway stores a plan under: Apollo Server's query hash (SHA-256 of the
 * text, hex), hashed again with the operation name when the request names one.
 */
export function planStoreKey(query: string, operationName: string | null): string {
  const queryHash = createHash('sha256').update(query).digest('hex');
  return operationName ? createHash('sha256').update(queryHash).update(operationName).digest('hex') : queryHash;
}

/** An operation to plan: its text as a client sends it, and the name a request gives (if any). */
export interface WarmOperation {
  readonly document: string;
  readonly operationName: string | null;
}

/** The persisted operations, then the recorded ones newest first, without repeats, at most `max`. */
export function warmupOperations(persisted: PersistedOperations, recorded: readonly RecordedOperation[], max: number): WarmOperation[] {
  const newest = [...recorded].sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
  const all: WarmOperation[] = [
    ...[...persisted.values()].map((op) => ({ document: op.body, operationName: op.name })),
    ...newest.map((op) => ({ document: op.document, operationName: op.name.startsWith('anonymous:') ? null : op.name })),
  ];
  const seen = new Set<string>();
  return all
    .filter((op) => {
      const key = `${op.operationName ?? ''}\n${op.document}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, max);
}

/**
 * The document Apollo plans (without `@live`, which the live transports remove), parsed once
 * here for both the keys and the planner, and the store keys a request may use for it:
 * without a name when the document has one operation, and with its name when it has one.
 * Null: nothing to warm (a subscription, planned per stream by `live/subscriptions.ts`, or a
 * document that does not parse).
 */
function keysOf(op: WarmOperation): { document: DocumentNode; name: string | undefined; keys: string[] } | null {
  const read = readLive(op.document, op.operationName, Infinity);
  if (read instanceof Error) return null;
  let document: DocumentNode;
  try {
    document = parse(read.query);
  } catch {
    return null;
  }
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const selected = op.operationName ? operations.find((o) => o.name?.value === op.operationName) : operations[0];
  if (!selected || selected.operation === 'subscription' || (!op.operationName && operations.length !== 1)) return null;
  const name = selected.name?.value;
  const keys = [...(operations.length === 1 ? [planStoreKey(read.query, null)] : []), ...(name ? [planStoreKey(read.query, name)] : [])];
  return { document, name, keys };
}

/** What one warm-up did. */
export interface WarmupResult {
  /** Operations planned, of those offered. */
  readonly planned: number;
  readonly offered: number;
  /** Operations that do not plan on this supergraph (a change broke them; their requests will say why). */
  readonly failed: number;
  /** The budget ran out before every operation was planned. */
  readonly cut: boolean;
  readonly ms: number;
}

export interface PlanWarmupOptions {
  /** `PLAN_WARMUP_MS`: the budget of one warm-up; 0 turns warm-up off. */
  readonly budgetMs: number;
  /** `PLAN_WARMUP_MAX`: operations planned at most. */
  readonly max: number;
  /** The persisted operations now (the manifest may have been reloaded). */
  readonly persisted: () => PersistedOperations;
  /** The recorded operations (the registry's store), if any: read within half the budget. */
  readonly recorded?: () => Promise<readonly RecordedOperation[]>;
  readonly log: (line: string) => void;
  readonly metrics?: { plansWarmed(plans: number, seconds: number): void };
}

type Planned = { key: string; plan: QueryPlan }[];

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Warms Apollo Gateway's plan store at start (`atStart`) and before each swap (`beforeSwap`). */
export class PlanWarmup {
  readonly #gateway: ApolloGateway;
  readonly #options: PlanWarmupOptions;

  constructor(gateway: ApolloGateway, options: PlanWarmupOptions) {
    this.#gateway = gateway;
    this.#options = options;
  }

  /** Plans on the supergraph the gateway has loaded, into its store (before it listens). */
  async atStart(): Promise<WarmupResult | null> {
    if (this.#options.budgetMs === 0) return null;
    const started = Date.now();
    const internals = gatewayInternals(this.#gateway);
    const { planned, result } = await this.#plan(internals.apiSchema, internals.queryPlanner, internals, started);
    install(internals, planned);
    return this.#report(result, planned.length, 'at start');
  }

  /**
   * Plans on `supergraphSdl` before it is served; returns what puts the plans into the
   * gateway's store, to be called right after the swap, in the same synchronous step.
   */
  async beforeSwap(supergraphSdl: string): Promise<(() => void) | null> {
    if (this.#options.budgetMs === 0) return null;
    const started = Date.now();
    const internals = gatewayInternals(this.#gateway);
    // The worker validated this supergraph already, and Apollo validates it again on the swap.
    // As Apollo gets it: its authorization features handed to the gateway's own enforcement (auth/).
    const supergraph = Supergraph.build(gatewaySupergraph(supergraphSdl), { validateSupergraph: false });
    // The planner class of the gateway's own version, with its configuration.
    const Planner = internals.queryPlanner.constructor as typeof QueryPlanner;
    const planner = new Planner(supergraph, internals.config.queryPlannerConfig);
    const { planned, result } = await this.#plan(supergraph.apiSchema(), planner, internals, started);
    return () => {
      install(gatewayInternals(this.#gateway), planned);
      this.#report(result, planned.length, 'before the swap');
    };
  }

  async #plan(
    apiSchema: Schema,
    planner: QueryPlanner,
    limits: GatewayInternals,
    started: number,
  ): Promise<{ planned: Planned; result: WarmupResult }> {
    const deadline = started + this.#options.budgetMs;
    const operations = warmupOperations(this.#options.persisted(), await this.#recorded(), this.#options.max);
    const planned: Planned = [];
    let done = 0;
    let failed = 0;
    let cut = false;
    for (const op of operations) {
      if (Date.now() >= deadline) {
        cut = true;
        break;
      }
      const target = keysOf(op);
      if (target) {
        try {
          const operation = operationFromDocument(apiSchema, target.document, { operationName: target.name });
          const plan = planner.buildQueryPlan(operation, {
            recursiveSelectionsLimitDisabled: limits.recursiveSelectionsLimitDisabled ?? false,
            nonLocalSelectionsLimitDisabled: limits.nonLocalSelectionsLimitDisabled ?? false,
          });
          for (const key of target.keys) planned.push({ key, plan });
          done += 1;
        } catch {
          failed += 1;
        }
      }
      await yieldToEventLoop();
    }
    return { planned, result: { planned: done, offered: operations.length, failed, cut, ms: Date.now() - started } };
  }

  /** The recorded operations, or none when the store fails or is slow (Redis reconnecting queues commands). */
  async #recorded(): Promise<readonly RecordedOperation[]> {
    if (!this.#options.recorded) return [];
    const ms = Math.ceil(this.#options.budgetMs / 2);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the registry did not answer within ${ms} ms`)), ms);
    });
    const read = this.#options.recorded();
    read.catch(() => {}); // a late failure is the timeout's, already reported
    try {
      return await Promise.race([read, late]);
    } catch (error) {
      this.#options.log(`gateway: plan warm-up without the recorded operations: ${(error as Error).message}`);
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  #report(result: WarmupResult, plans: number, when: string): WarmupResult {
    const { planned, offered, failed, cut, ms } = result;
    const broken = failed > 0 ? `; ${failed} do not plan on this supergraph` : '';
    this.#options.log(
      cut
        ? `gateway: plan warm-up ${when} stopped at its budget (PLAN_WARMUP_MS=${this.#options.budgetMs}): planned ${planned} of ${offered} operations in ${ms} ms${broken}`
        : `gateway: plan warm-up ${when}: planned ${planned} of ${offered} operations in ${ms} ms${broken}`,
    );
    this.#options.metrics?.plansWarmed(plans, ms / 1000);
    return result;
  }
}

/** Puts the plans into the store now: Apollo's in-memory store sets synchronously inside its async `set`. */
function install(internals: GatewayInternals, planned: Planned): void {
  for (const { key, plan } of planned) internals.queryPlanStore.set(key, plan).catch(() => {});
}
