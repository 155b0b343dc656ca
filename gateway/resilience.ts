/**
 * Subgraph fetches that survive a slow or dead subgraph: a timeout per attempt, retries with
 * exponential backoff for queries only (a mutation is never sent twice), and a circuit
 * breaker per subgraph, so a dead subgraph costs one fast refusal instead of a timeout per
 * request. When a fetch finally fails, the gateway answers the rest of the operation and an
 * error with `SUBGRAPH_UNAVAILABLE` on the fields that subgraph would have given.
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from 'cockatiel';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind, parse, visit, type DocumentNode, type SelectionSetNode } from 'graphql';
import { ErrorCode } from '../schema/errors.js';
import type { ResilienceConfig } from './config.js';

/** A circuit breaker's state, as `/ready` and `/metrics` report it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Why a fetch failed for good. */
export type FailureReason = 'timeout' | 'circuit-open' | 'unreachable' | 'server-error';

/**
 * By name, not `instanceof`: Apollo Gateway's CommonJS copy of graphql and an ESM copy (as
 * under vitest) have different classes.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

/** A subgraph answered 5xx: worth retrying, and a failure for its breaker. */
function serverStatus(error: unknown): number | null {
  if (!isGraphQLError(error)) return null;
  const status = (error.extensions['response'] as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : null;
}

/**
 * Whether an error means the subgraph is unwell (counts for its breaker, may be retried):
 * no answer, a timeout, or a 5xx. A GraphQL error the subgraph answered with (bad input, a
 * 4xx) is the operation's problem, not the subgraph's.
 */
export function isSubgraphFailure(error: unknown): boolean {
  if (error instanceof BrokenCircuitError || error instanceof TaskCancelledError) return true;
  if (isGraphQLError(error)) return (serverStatus(error) ?? 0) >= 500;
  return error instanceof Error;
}

/** The reason to report for a failure. */
export function failureReason(error: unknown): FailureReason {
  if (error instanceof BrokenCircuitError) return 'circuit-open';
  if (error instanceof TaskCancelledError) return 'timeout';
  if (serverStatus(error) !== null) return 'server-error';
  return 'unreachable';
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

/** One subgraph's policies: timeout, retries (queries only), circuit breaker. */
export class SubgraphResilience {
  readonly #breaker;
  readonly #query: IPolicy;
  readonly #once: IPolicy;

  constructor(
    readonly name: string,
    config: ResilienceConfig,
    onState: (state: BreakerState) => void = () => {},
  ) {
    this.#breaker = circuitBreaker(handleWhen(isSubgraphFailure), {
      halfOpenAfter: config.breakerResetMs,
      breaker: new ConsecutiveBreaker(config.breakerFailures),
    });
    this.#breaker.onStateChange((state) => onState(STATES[state]));
    // Aggressive: the caller is answered at the deadline, and the fetch is aborted through the signal.
    // Not aborted when it returns (cockatiel's default): an attempt returns once its answer is read
    // whole, and each abort builds a DOMException with its stack, 1% of the CPU on Guild workload B.
    const deadline = timeout(config.timeoutsMs[name] ?? config.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    this.#once = wrap(this.#breaker, deadline);
    this.#query =
      config.retries > 0
        ? wrap(
            retry(
              // An open circuit is not retried: failing fast is its point.
              handleWhen((e) => isSubgraphFailure(e) && !(e instanceof BrokenCircuitError)),
              {
                maxAttempts: config.retries,
                backoff: new ExponentialBackoff({ initialDelay: Math.max(1, config.retryDelayMs), maxDelay: 2000 }),
              },
            ),
            this.#once,
          )
        : this.#once;
  }

  get state(): BreakerState {
    return STATES[this.#breaker.state];
  }

  /** Runs one fetch under the policies; `attempt` must honour the abort signal. */
  run<T>(isQuery: boolean, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    // A parent signal per fetch: cockatiel's default is one signal shared by every execution in
    // the process, and each fetch in flight hangs its timeout's abort listener on it.
    return (isQuery ? this.#query : this.#once).execute(
      ({ signal }) =>
        attempt(signal).catch((error: unknown) => {
          // The fetch may reject on the abort before the timeout policy does: it is a timeout.
          if (signal.aborted) throw new TaskCancelledError(`${this.name} did not answer in time`);
          throw error;
        }),
      new AbortController().signal,
    );
  }
}

/** The response keys (alias or name) of a selection set's fields, through inline fragments. */
function responseKeys(
  selectionSet: SelectionSetNode | undefined,
  typename: string | null,
): { type: string | null; key: string; name: string }[] {
  if (!selectionSet) return [];
  return selectionSet.selections.flatMap((s) => {
    if (s.kind === Kind.FIELD)
      return s.name.value === '__typename' ? [] : [{ type: typename, key: s.alias?.value ?? s.name.value, name: s.name.value }];
    if (s.kind === Kind.INLINE_FRAGMENT) return responseKeys(s.selectionSet, s.typeCondition?.name.value ?? typename);
    return [];
  });
}

/** Every `Type.field` marked `@inaccessible` in a supergraph: clients never see them. */
export function inaccessibleFields(supergraphSdl: string): Set<string> {
  const hidden = new Set<string>();
  visit(parse(supergraphSdl), {
    ObjectTypeDefinition(node) {
      for (const field of node.fields ?? [])
        if (field.directives?.some((d) => d.name.value === 'inaccessible')) hidden.add(`${node.name.value}.${field.name.value}`);
    },
  });
  return hidden;
}

type Path = (string | number)[];

/** An error as a subgraph sends it, with a path relative to its fetch. */
interface SubgraphError {
  readonly message: string;
  readonly path: Path;
  readonly extensions: { readonly code: string; readonly subgraph: string; readonly reason: FailureReason };
}

/**
 * The answer a failed fetch gives instead: the other subgraphs' data stays, and one error per
 * affected field says which subgraph is missing. Entity fetches answer each entity with its
 * fields null (so `@requires` steps still run for the clusters that answered, e.g. the
 * comparison of the clusters that are up); an error on a field clients cannot see (a
 * `@requires` input) is put on its entity. Paths are relative to the fetch, as Apollo
 * Gateway expects of a subgraph's errors.
 */
export function unavailableAnswer(
  subgraph: string,
  reason: FailureReason,
  request: { query?: string; variables?: Record<string, unknown> },
  hidden: ReadonlySet<string>,
  document?: DocumentNode,
): { data: Record<string, unknown> | null; errors: SubgraphError[] } {
  const doc = document ?? parse(request.query ?? '{ __typename }');
  const operation = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const root = operation?.kind === Kind.OPERATION_DEFINITION ? operation.selectionSet : undefined;
  const message = `The ${subgraph} subgraph is unavailable (${reason}): its data is missing from this answer`;
  // Plain objects, as a subgraph's JSON errors are: an answer is copied for each operation that
  // joined its fetch (`copyJson`), which copies plain objects and would share an Error.
  const error = (path: Path): SubgraphError => ({ message, path, extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, subgraph, reason } });
  // One `_entities` list, or several under aliases (a batch of entity fetches, entity-batch.ts).
  const lists = (root?.selections ?? []).flatMap((s) => {
    if (s.kind !== Kind.FIELD || s.name.value !== '_entities') return [];
    const argument = s.arguments?.find((a) => a.name.value === 'representations');
    const representations = argument?.value.kind === Kind.VARIABLE ? request.variables?.[argument.value.name.value] : undefined;
    return Array.isArray(representations)
      ? [{ key: s.alias?.value ?? '_entities', fields: responseKeys(s.selectionSet, null), representations }]
      : [];
  });
  if (lists.length > 0) {
    const errors: SubgraphError[] = [];
    const data: Record<string, unknown> = {};
    for (const { key, fields, representations } of lists)
      data[key] = representations.map((rep: { __typename?: string }, index) => {
        const typename = rep?.__typename ?? null;
        const own = fields.filter((f) => f.type === null || f.type === typename);
        const paths = new Map<string, Path>();
        for (const f of own) {
          const path = hidden.has(`${f.type}.${f.name}`) ? [key, index] : [key, index, f.key];
          paths.set(path.join('.'), path);
        }
        errors.push(...[...paths.values()].map(error));
        return { __typename: typename, ...Object.fromEntries(own.map((f) => [f.key, null])) };
      });
    return { data, errors };
  }
  return { data: null, errors: responseKeys(root, null).map((f) => error([f.key])) };
}

/** The longest prefix of `path` that is in `data`: an error is put on a field the client sees. */
function visiblePrefix(path: readonly (string | number)[], data: unknown): (string | number)[] {
  const kept: (string | number)[] = [];
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !(key in (node as object))) break;
    kept.push(key);
    node = (node as Record<string | number, unknown>)[key];
  }
  return kept;
}

/**
 * Puts each `SUBGRAPH_UNAVAILABLE` error on the nearest field of the response: a failed
 * `@requires` input sits on an entity the client may not have selected (a comparison's
 * release), so its path is cut back to what the client asked for (the comparison).
 */
export function unavailablePathsPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse(rc) {
          const body = rc.response.body;
          if (body.kind !== 'single' || !body.singleResult.errors || !body.singleResult.data) return;
          const data = body.singleResult.data;
          const seen = new Set<string>();
          const errors = body.singleResult.errors.flatMap((error) => {
            if (error.extensions?.['code'] !== ErrorCode.SUBGRAPH_UNAVAILABLE || !error.path) return [error];
            const path = visiblePrefix(error.path, data);
            // One error per field and subgraph, however many entities under it failed.
            const key = `${String(error.extensions['subgraph'])}:${path.join('.')}`;
            if (seen.has(key)) return [];
            seen.add(key);
            return [path.length > 0 ? { ...error, path } : { ...error, path: undefined }];
          });
          body.singleResult.errors = errors as typeof body.singleResult.errors;
        },
      };
    },
  };
}
