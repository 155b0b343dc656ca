/**
 * Identical in-flight query operations executed once (`OPERATION_DEDUPE`): dashboards ask the
 * same questions at the same moment, and a query that is identical to one already executing
 * waits for that execution's result instead of planning, fetching and shaping its own. The
 * operation-level counterpart of merging identical subgraph fetches (`data-source.ts`); not
 * a cache: an execution is found only while it runs, and nothing outlives it.
 *
 * Identical means the answer the joiner gets is the one it would have computed itself:
 * - the same supergraph, operation text, operation name and variables (the same JSON: the key is
 *   `inflightKey`'s, so variables written in another key order execute apart);
 * - the same request parts the response cache keys on (`key-parts.ts`): the client headers
 *   the subgraphs receive, and what authorization decided for the caller;
 * - the same token, when any client header reaches the subgraphs (`PROPAGATE_HEADERS`): the
 *   response cache leaves `Authorization` out of its key because it shares an authorised
 *   request's answer only when the subgraphs marked it public, a check made after the fact,
 *   and the subgraphs may receive the token or its claims;
 * - the same visibility: the feed versions and mutation epochs its context read as it
 *   started. Its snapshot pin is not compared while every version is known: the leader's
 *   whole answer, consistent within one pin, reflects the same known reports; mixing pins
 *   within one answer is what in-flight subgraph merging must avoid, and this never does.
 *   While a version is unknown (its stream is down) there are no known reports to compare:
 *   a report may be visible to the joiner's pin and not to the leader's, so the pin is
 *   compared too, as the data source's merging and the caches also refuse to share then.
 * Never a mutation or a subscription (they run as they are), never a `@live` query's run
 * (`GatewayContext.live`), never a request that asks for its query plan. A mutation forgets
 * every execution under way when it starts and when it ends: no query that starts after it
 * joins one that started before it.
 *
 * Wrapped inside authorization (`auth/`), which cuts each request's document and records its
 * errors itself, and outside the subscriptions' wrapper. A joiner ends with the leader's
 * effects on its own context (the subgraphs touched, those that marked the answer public,
 * the feed versions they answered from) and on its cache policy, so the plugins after it (the
 * response cache, `Cache-Control`, live bookkeeping) see what they would have seen; and with
 * its own copy of the result object (its `extensions` too), since plugins replace parts of it.
 * `data` is shared: nothing edits an answer in place after execution (auth/'s reshape builds
 * a new tree). Errors are formatted per request by Apollo Server and the mask.
 */
import type { ApolloGateway } from '@apollo/gateway';
import { ANONYMOUS } from './caller.js';
import { inflightKey } from './cache-key.js';
import type { GatewayContext } from './data-source.js';
import type { KeyParts } from './key-parts.js';

type Executor = ApolloGateway['executor'];
type ExecutorContext = Parameters<Executor>[0];
type ExecutionResult = Awaited<ReturnType<Executor>>;

/** What Apollo Server's cache policy offers the executor (typed `any` by the gateway interface). */
interface CachePolicy {
  readonly maxAge?: number | undefined;
  readonly scope?: 'PUBLIC' | 'PRIVATE' | undefined;
  restrict(hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }): void;
}

/** What an execution left on its context and its cache policy, for the operations that joined it. */
interface Effects {
  readonly touched: readonly string[];
  readonly markedPublic: readonly string[];
  readonly answered: readonly (readonly [string, string])[];
  readonly maxAge: number | undefined;
  readonly scope: 'PUBLIC' | 'PRIVATE' | undefined;
}

type Outcome =
  | { readonly ok: true; readonly result: ExecutionResult; readonly effects: Effects }
  | { readonly ok: false; readonly error: unknown; readonly effects: Effects };

/** A request Apollo Gateway would answer with its query plan in `extensions`: its result is its own. */
const QUERY_PLAN_HEADER = 'apollo-query-plan-experimental';

export interface OperationDedupeOptions {
  /** Changes whenever the supergraph changes. */
  readonly supergraphVersion: () => string;
  /** The response cache's request parts (`requestKeyParts`). */
  readonly keyParts: KeyParts;
  /** Whether any client header reaches a subgraph (`PROPAGATE_HEADERS` not empty): then the token is part of the key. */
  readonly propagatesHeaders: boolean;
  /** An operation joined another's execution (metrics, the request's span). */
  readonly onJoined?: () => void;
}

/** Merges identical in-flight query operations at the gateway's executor (see the file's comment). */
export class OperationDedupe {
  readonly #options: OperationDedupeOptions;
  readonly #inFlight = new Map<string, Promise<Outcome>>();

  constructor(options: OperationDedupeOptions) {
    this.#options = options;
  }

  /** Executions under way that an identical operation may join. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Takes over the gateway's executor (once, before Apollo Server starts; inside authorization's wrapper). */
  wrap(gateway: ApolloGateway): void {
    const internals = gateway as unknown as { executor: Executor };
    const inner = internals.executor;
    if (typeof inner !== 'function') throw new TypeError('OperationDedupe.wrap: this Apollo Gateway has no executor to wrap');
    internals.executor = (requestContext: ExecutorContext) => {
      const kind = requestContext.operation?.operation;
      if (kind === 'mutation') return this.#mutation(inner, requestContext);
      const key = kind === 'query' ? this.#key(requestContext) : null;
      if (key === null) return inner(requestContext);
      const running = this.#inFlight.get(key);
      if (running) {
        this.#options.onJoined?.();
        return running.then((outcome) => joined(outcome, requestContext));
      }
      const execution = led(inner, requestContext);
      this.#inFlight.set(key, execution);
      // Forgotten once settled (unless a mutation has forgotten it already and another took its place).
      void execution.then(() => {
        if (this.#inFlight.get(key) === execution) this.#inFlight.delete(key);
      });
      return execution.then((outcome) => {
        if (!outcome.ok) throw outcome.error;
        return outcome.result;
      });
    };
  }

  /** A mutation runs as it is; no query that starts after it may join an execution that started before it. */
  async #mutation(inner: Executor, requestContext: ExecutorContext): Promise<ExecutionResult> {
    this.#inFlight.clear();
    try {
      return await inner(requestContext);
    } finally {
      this.#inFlight.clear();
    }
  }

  /** The operation's key; null: it runs on its own. */
  #key(requestContext: ExecutorContext): string | null {
    const context = requestContext.context as GatewayContext;
    const headers = requestContext.request.http?.headers;
    if (context.live || headers?.get(QUERY_PLAN_HEADER)) return null;
    const operation = {
      operationName: requestContext.request.operationName,
      query: requestContext.source,
      variables: requestContext.request.variables,
      header: (name: string) => headers?.get(name) ?? undefined,
      headers: () => headers ?? new Map<string, string>(),
      caller: context.caller ?? ANONYMOUS,
    };
    const parts = this.#options.keyParts(operation);
    if (parts === null) return null;
    const token = this.#options.propagatesHeaders ? (headers?.get('authorization') ?? null) : null;
    const unknown = [...context.versions.values()].includes(undefined);
    // In-process and gone once the execution settles, like a subgraph fetch's (`inflightKey`):
    // no hash and no sorting on every query; requests whose variables differ only in key order
    // just run on their own.
    return inflightKey(
      this.#options.supergraphVersion(),
      operation.operationName ?? null,
      operation.query,
      operation.variables ?? {},
      parts,
      token,
      // Unknown (its stream is down) is not "no feed": the two keep their answers differently.
      [...context.versions].map(([subgraph, version]) => [subgraph, version === undefined ? { unknown: true } : version]),
      context.epochs ? [...context.epochs] : null,
      unknown ? context.pin : null,
    );
  }
}

/** Runs the leader's execution, its outcome kept with what it left on its context. */
async function led(inner: Executor, requestContext: ExecutorContext): Promise<Outcome> {
  try {
    const result = await inner(requestContext);
    return { ok: true, result, effects: effectsOf(requestContext) };
  } catch (error) {
    return { ok: false, error, effects: effectsOf(requestContext) };
  }
}

function effectsOf(requestContext: ExecutorContext): Effects {
  const context = requestContext.context as GatewayContext;
  const policy = requestContext.overallCachePolicy as CachePolicy;
  return {
    touched: [...context.touched],
    markedPublic: [...context.markedPublic],
    answered: context.answered ? [...context.answered] : [],
    maxAge: policy.maxAge,
    scope: policy.scope,
  };
}

/** The leader's outcome for a joiner: its effects applied to the joiner's context and policy, its own result object. */
function joined(outcome: Outcome, requestContext: ExecutorContext): ExecutionResult {
  const context = requestContext.context as GatewayContext;
  const { effects } = outcome;
  for (const subgraph of effects.touched) context.touched.add(subgraph);
  for (const subgraph of effects.markedPublic) context.markedPublic.add(subgraph);
  for (const [subgraph, version] of effects.answered) context.answered?.set(subgraph, version);
  (requestContext.overallCachePolicy as CachePolicy).restrict({
    ...(effects.maxAge !== undefined ? { maxAge: effects.maxAge } : {}),
    ...(effects.scope !== undefined ? { scope: effects.scope } : {}),
  });
  if (!outcome.ok) throw outcome.error;
  const { result } = outcome;
  return result.extensions ? { ...result, extensions: { ...result.extensions } } : { ...result };
}
